#include "methods/prefix.h"

#include <torch/torch.h>

#include <algorithm>

#include "common/error.h"
#include "harness/config.h"
#include "methods/method_util.h"

namespace ptbench {

namespace {
const char* const kWhere = "method (prefix)";

std::int64_t parse_count(const std::string& text, const std::string& where) {
  std::size_t used = 0;
  std::int64_t value = -1;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || value < 0) {
    fail(where, ": option 'layers' expects \"all\", \"first:K\", \"last:K\" or a list of layer indices; '", text,
         "' is not a count");
  }
  return value;
}
}  // namespace

LayerSelection LayerSelection::from_json(const nlohmann::json& json, const std::string& where) {
  LayerSelection selection;
  if (json.is_array()) {
    selection.mode = Mode::list;
    for (const auto& item : json) {
      if (!item.is_number_integer()) fail(where, ": option 'layers' lists ", item.dump(), ", not a layer index");
      selection.indices.push_back(item.get<std::int64_t>());
    }
    return selection;
  }
  if (!json.is_string()) {
    fail(where, ": option 'layers' expects \"all\", \"first:K\", \"last:K\" or a list of layer indices, got ",
         json.dump());
  }
  const std::string text = json.get<std::string>();
  if (text == "all") return selection;
  for (const auto& [prefix, mode] :
       {std::pair{std::string("first:"), Mode::first}, std::pair{std::string("last:"), Mode::last}}) {
    if (text.rfind(prefix, 0) == 0) {
      selection.mode = mode;
      selection.count = parse_count(text.substr(prefix.size()), where);
      return selection;
    }
  }
  fail(where, ": option 'layers' has an unknown value '", text, "'",
       suggestion_suffix(text, {"all", "first:", "last:"}), " (valid: \"all\", \"first:K\", \"last:K\", [i, j, …])");
}

nlohmann::json LayerSelection::to_json() const {
  switch (mode) {
    case Mode::all:
      return "all";
    case Mode::first:
      return "first:" + std::to_string(count);
    case Mode::last:
      return "last:" + std::to_string(count);
    case Mode::list:
      return indices;
  }
  return "all";
}

std::vector<std::int64_t> LayerSelection::resolve(std::int64_t layers, const std::string& where) const {
  std::vector<std::int64_t> result;
  switch (mode) {
    case Mode::all:
      for (std::int64_t i = 0; i < layers; ++i) result.push_back(i);
      break;
    case Mode::first:
    case Mode::last:
      if (count > layers)
        fail(where, ": layers '", to_json().get<std::string>(), "' asks for more than the backbone's ", layers,
             " layers");
      for (std::int64_t i = 0; i < count; ++i) result.push_back(mode == Mode::first ? i : layers - count + i);
      break;
    case Mode::list:
      result = indices;
      std::sort(result.begin(), result.end());
      for (std::size_t i = 0; i < result.size(); ++i) {
        if (result[i] < 0 || result[i] >= layers) {
          fail(where, ": layers lists layer ", result[i], " but the backbone has layers 0..", layers - 1);
        }
        if (i > 0 && result[i] == result[i - 1]) fail(where, ": layers lists layer ", result[i], " twice");
      }
      break;
  }
  return result;
}

PrefixOptions PrefixOptions::from_json(const nlohmann::json& json) {
  nlohmann::json schema = PrefixOptions{}.to_json();
  schema["layers"] = nullptr;  // a string or a list: checked by LayerSelection::from_json
  check_known_keys(json, schema, kWhere);
  using method_util::read;
  PrefixOptions options;
  options.length = read(json, "length", options.length);
  options.projection = read(json, "projection", options.projection);
  options.projection_hidden_size = read(json, "projection_hidden_size", options.projection_hidden_size);
  options.dropout = read(json, "dropout", options.dropout);
  if (json.is_object() && json.contains("layers") && !json.at("layers").is_null()) {
    options.layers = LayerSelection::from_json(json.at("layers"), kWhere);
  }
  options.shift_positions = read(json, "shift_positions", options.shift_positions);
  options.stacks = read(json, "stacks", options.stacks);
  return options;
}

nlohmann::json PrefixOptions::to_json() const {
  return {{"length", length},   {"projection", projection},   {"projection_hidden_size", projection_hidden_size},
          {"dropout", dropout}, {"layers", layers.to_json()}, {"shift_positions", shift_positions},
          {"stacks", stacks}};
}

void PrefixOptions::validate() const {
  if (length < 0) fail(kWhere, ": length must be >= 0, got ", length);
  if (projection && projection_hidden_size < 1) fail(kWhere, ": projection_hidden_size must be positive");
  if (dropout < 0 || dropout >= 1) fail(kWhere, ": dropout must lie in [0, 1), got ", dropout);
  if (layers.mode == LayerSelection::Mode::list) {
    for (std::int64_t index : layers.indices)
      if (index < 0) fail(kWhere, ": layers lists a negative index ", index);
  }
  for (std::size_t i = 0; i < stacks.size(); ++i) {
    if (stacks[i] != "encoder" && stacks[i] != "decoder" && stacks[i] != "cross") {
      fail(kWhere, ": stacks lists '", stacks[i], "'", suggestion_suffix(stacks[i], {"encoder", "decoder", "cross"}),
           " (known: encoder, decoder, cross)");
    }
    for (std::size_t j = 0; j < i; ++j)
      if (stacks[j] == stacks[i]) fail(kWhere, ": stacks lists '", stacks[i], "' twice");
  }
}

std::vector<std::pair<PrefixImpl::Stack, std::int64_t>> PrefixImpl::resolve_blocks(const BackboneGeometry& geometry) const {
  std::vector<std::string> stacks = options_.stacks;
  const bool seq2seq = geometry.kind == BackboneKind::encoder_decoder;
  if (stacks.empty()) stacks = seq2seq ? std::vector<std::string>{"encoder", "decoder"} : std::vector<std::string>{"encoder"};
  std::vector<std::pair<Stack, std::int64_t>> blocks;
  for (const auto& [name, stack] : {std::pair{"encoder", Stack::encoder}, std::pair{"decoder", Stack::decoder},
                                    std::pair{"cross", Stack::cross}}) {
    if (std::find(stacks.begin(), stacks.end(), name) == stacks.end()) continue;
    if (stack != Stack::encoder && !seq2seq) {
      fail(kWhere, ": stacks lists '", name, "' but the ", geometry.arch, " backbone is an encoder (use [\"encoder\"])");
    }
    const std::int64_t count = stack == Stack::encoder ? geometry.layers : geometry.decoder_layers;
    for (std::int64_t layer : options_.layers.resolve(count, kWhere)) blocks.emplace_back(stack, layer);
  }
  return blocks;
}

void PrefixImpl::attach(BackboneImpl& backbone) {
  const BackboneGeometry& geometry = backbone.geometry();
  encoder_layers_ = geometry.layers;
  decoder_layers_ = geometry.decoder_layers;
  heads_ = geometry.heads;
  head_dim_ = geometry.head_dim;
  blocks_ = resolve_blocks(geometry);
  layers_.clear();
  for (const auto& [stack, layer] : blocks_)
    if (stack == Stack::encoder) layers_.push_back(layer);
  const std::int64_t width = 2 * static_cast<std::int64_t>(blocks_.size()) * heads_ * head_dim_;
  // nn.Embedding default init N(0, 1) and nn.Linear defaults, as both references leave them.
  if (options_.projection) {
    embedding = register_module("embedding", torch::nn::Embedding(options_.length, geometry.hidden));
    auto transform = register_module("transform", std::make_shared<torch::nn::Module>());
    transform_in = transform->register_module("0", Dense(geometry.hidden, options_.projection_hidden_size));
    transform_out = transform->register_module("2", Dense(options_.projection_hidden_size, width));
    method_util::init_like_torch_linear(*transform_in);
    method_util::init_like_torch_linear(*transform_out);
  } else {
    embedding = register_module("embedding", torch::nn::Embedding(options_.length, width));
  }
  dropout = register_module("dropout", torch::nn::Dropout(options_.dropout));
}

torch::Tensor PrefixImpl::flat_prefix() {
  TORCH_CHECK(embedding, "prefix: flat_prefix() before attach()");
  torch::Tensor x = embedding->weight;
  if (options_.projection) x = transform_out->forward(torch::tanh(transform_in->forward(x)));
  return x;
}

Injection PrefixImpl::inject(const BackboneInput& input, BackboneImpl&) {
  Injection injection;
  injection.shift_positions_under_layer_prefix = options_.shift_positions;
  if (blocks_.empty()) return injection;
  const std::int64_t batch = input.input_ids.size(0), length = options_.length;
  const auto selected = static_cast<std::int64_t>(blocks_.size());
  torch::Tensor flat = flat_prefix().unsqueeze(0).expand({batch, length, -1});
  // The reference drops out after expanding to the batch: a separate mask per example.
  if (is_training() && options_.dropout > 0) flat = dropout(flat.contiguous());
  // [B, P, 2S, heads, hd] → [2S, B, heads, P, hd]; entry 2s is layer s's key, 2s + 1 its value.
  torch::Tensor stacked = flat.reshape({batch, length, 2 * selected, heads_, head_dim_}).permute({2, 0, 3, 1, 4});
  for (std::int64_t s = 0; s < selected; ++s) {
    const auto [stack, layer] = blocks_[static_cast<std::size_t>(s)];
    auto& target = stack == Stack::encoder ? injection.encoder_self
                   : stack == Stack::decoder ? injection.decoder_self
                                             : injection.cross;
    if (target.empty()) {
      target.assign(static_cast<std::size_t>(stack == Stack::encoder ? encoder_layers_ : decoder_layers_), std::nullopt);
    }
    target[static_cast<std::size_t>(layer)] = KeyValuePrefix{stacked[2 * s], stacked[2 * s + 1]};
  }
  return injection;
}

std::int64_t PrefixImpl::closed_form_parameters(const BackboneGeometry& geometry) const {
  const std::int64_t H = geometry.hidden, D = geometry.heads * geometry.head_dim, P = options_.length;
  const auto S = static_cast<std::int64_t>(resolve_blocks(geometry).size());
  if (!options_.projection) return 2 * P * S * D;
  const std::int64_t h = options_.projection_hidden_size;
  return P * H + H * h + h + 2 * S * D * (h + 1);
}

}  // namespace ptbench
