#include "backbones/encoder.h"

#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "backbones/ops.h"
#include "common/error.h"

namespace ptbench {
namespace F = torch::nn::functional;

namespace {

// A plain module used only to nest children under Hugging Face's names
// (encoder.layer.0.attention.self.query …): LibTorch forbids dots in one registered name.
std::shared_ptr<torch::nn::Module> scope(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

Activation parse_activation(const std::string& name) {
  if (name == "gelu") return Activation::gelu;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return Activation::gelu_new;
  if (name == "relu") return Activation::relu;
  fail("unsupported hidden_act '", name, "' in config.json (supported: gelu, gelu_new, relu)");
}

std::string activation_name(Activation activation) {
  switch (activation) {
    case Activation::gelu: return "gelu";
    case Activation::gelu_new: return "gelu_new";
    case Activation::relu: return "relu";
  }
  return "gelu";
}

torch::Tensor activate(const torch::Tensor& x, Activation activation) {
  switch (activation) {
    case Activation::gelu: return F::gelu(x);
    // tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), HF activations.py NewGELU
    case Activation::gelu_new: return F::gelu(x, F::GELUFuncOptions().approximate("tanh"));
    case Activation::relu: return torch::relu(x);
  }
  return x;
}

// HF 4.28 get_extended_attention_mask: (1 - mask) · finfo(float32).min, added to the scores.
torch::Tensor additive_mask(const torch::Tensor& mask, torch::ScalarType dtype) {
  torch::Tensor extended = mask.unsqueeze(1).unsqueeze(2).to(dtype);
  return (1.0 - extended) * std::numeric_limits<float>::lowest();
}

}  // namespace

EncoderOptions EncoderOptions::from_hf_config(const nlohmann::json& config) {
  EncoderOptions options;
  try {
    options.arch = config.value("model_type", std::string("bert"));
    if (options.arch != "bert" && options.arch != "roberta") {
      fail("config.json model_type '", options.arch, "' is not an encoder ptbench supports (bert, roberta)");
    }
    options.vocab_size = config.at("vocab_size").get<std::int64_t>();
    options.hidden_size = config.at("hidden_size").get<std::int64_t>();
    options.num_layers = config.at("num_hidden_layers").get<std::int64_t>();
    options.num_heads = config.at("num_attention_heads").get<std::int64_t>();
    options.intermediate_size = config.at("intermediate_size").get<std::int64_t>();
    options.activation = parse_activation(config.value("hidden_act", std::string("gelu")));
    options.hidden_dropout = config.value("hidden_dropout_prob", 0.1);
    options.attention_dropout = config.value("attention_probs_dropout_prob", 0.1);
    options.max_positions = config.value("max_position_embeddings", std::int64_t{512});
    options.type_vocab_size = config.value("type_vocab_size", std::int64_t{2});
    options.layer_norm_eps = config.value("layer_norm_eps", 1e-12);
    options.pad_token_id = config.value("pad_token_id", options.arch == "roberta" ? std::int64_t{1} : std::int64_t{0});
    options.initializer_range = config.value("initializer_range", 0.02);
    const std::string position_type = config.value("position_embedding_type", std::string("absolute"));
    if (position_type != "absolute") {
      fail("config.json position_embedding_type '", position_type, "' is not supported (only absolute)");
    }
  } catch (const nlohmann::json::exception& e) {
    fail("config.json: missing or mistyped key (", e.what(), ")");
  }
  options.positions = options.arch == "roberta" ? PositionScheme::padding_aware : PositionScheme::absolute;
  options.validate();
  return options;
}

nlohmann::json EncoderOptions::to_hf_config() const {
  return {
      {"architectures", {arch == "roberta" ? "RobertaModel" : "BertModel"}},
      {"model_type", arch},
      {"vocab_size", vocab_size},
      {"hidden_size", hidden_size},
      {"num_hidden_layers", num_layers},
      {"num_attention_heads", num_heads},
      {"intermediate_size", intermediate_size},
      {"hidden_act", activation_name(activation)},
      {"hidden_dropout_prob", hidden_dropout},
      {"attention_probs_dropout_prob", attention_dropout},
      {"max_position_embeddings", max_positions},
      {"type_vocab_size", type_vocab_size},
      {"layer_norm_eps", layer_norm_eps},
      {"pad_token_id", pad_token_id},
      {"initializer_range", initializer_range},
      {"position_embedding_type", "absolute"},
      {"torch_dtype", "float32"},
  };
}

void EncoderOptions::validate() const {
  if (hidden_size <= 0 || num_layers < 0 || num_heads <= 0 || vocab_size <= 0 || intermediate_size <= 0) {
    fail("encoder geometry must be positive (hidden ", hidden_size, ", layers ", num_layers, ", heads ", num_heads, ")");
  }
  if (hidden_size % num_heads != 0) {
    fail("hidden_size ", hidden_size, " is not a multiple of num_attention_heads ", num_heads);
  }
  if (hidden_dropout < 0 || hidden_dropout >= 1 || attention_dropout < 0 || attention_dropout >= 1) {
    fail("dropout probabilities must lie in [0, 1)");
  }
}

DenseImpl::DenseImpl(std::int64_t in, std::int64_t out, bool with_bias) {
  weight = register_parameter("weight", torch::empty({out, in}));
  if (with_bias) bias = register_parameter("bias", torch::zeros({out}));
  torch::nn::init::normal_(weight, 0.0, 0.02);
}

torch::Tensor DenseImpl::forward(const torch::Tensor& x) { return ops::linear(x, weight, bias); }

EncoderEmbeddingsImpl::EncoderEmbeddingsImpl(const EncoderOptions& options) {
  word_embeddings = register_module("word_embeddings", torch::nn::Embedding(options.vocab_size, options.hidden_size));
  position_embeddings =
      register_module("position_embeddings", torch::nn::Embedding(options.max_positions, options.hidden_size));
  token_type_embeddings =
      register_module("token_type_embeddings", torch::nn::Embedding(options.type_vocab_size, options.hidden_size));
  layer_norm = register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({options.hidden_size}).eps(options.layer_norm_eps)));
  dropout = register_module("dropout", torch::nn::Dropout(options.hidden_dropout));
}

torch::Tensor EncoderEmbeddingsImpl::forward(const torch::Tensor& inputs_embeds, const torch::Tensor& position_ids,
                                             const torch::Tensor& token_type_ids) {
  torch::Tensor embeddings =
      inputs_embeds + token_type_embeddings(token_type_ids) + position_embeddings(position_ids);
  return dropout(layer_norm(embeddings));
}

EncoderLayerImpl::EncoderLayerImpl(const EncoderOptions& options) : options_(options) {
  const std::int64_t h = options.hidden_size;
  auto attention = scope(*this, "attention");
  auto self = scope(*attention, "self");
  query = self->register_module("query", Dense(h, h));
  key = self->register_module("key", Dense(h, h));
  value = self->register_module("value", Dense(h, h));
  auto attention_out = scope(*attention, "output");
  attention_output = attention_out->register_module("dense", Dense(h, h));
  attention_norm = attention_out->register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({h}).eps(options.layer_norm_eps)));
  intermediate = scope(*this, "intermediate")->register_module("dense", Dense(h, options.intermediate_size));
  auto out = scope(*this, "output");
  output = out->register_module("dense", Dense(options.intermediate_size, h));
  output_norm =
      out->register_module("LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({h}).eps(options.layer_norm_eps)));
  hidden_dropout = register_module("hidden_dropout", torch::nn::Dropout(options.hidden_dropout));
  attention_dropout = register_module("attention_dropout", torch::nn::Dropout(options.attention_dropout));
}

torch::Tensor EncoderLayerImpl::forward(const torch::Tensor& hidden, const torch::Tensor& mask,
                                        const std::optional<KeyValuePrefix>& prefix) {
  const std::int64_t batch = hidden.size(0), length = hidden.size(1);
  const std::int64_t heads = options_.num_heads, head_dim = options_.hidden_size / options_.num_heads;
  auto split_heads = [&](const torch::Tensor& x) {
    return x.view({batch, -1, heads, head_dim}).permute({0, 2, 1, 3});
  };
  torch::Tensor q = split_heads(query(hidden));
  torch::Tensor k = split_heads(key(hidden));
  torch::Tensor v = split_heads(value(hidden));
  if (prefix) {
    // HF BertSelfAttention with past_key_value: key = cat(past_key, key) on the sequence axis.
    k = torch::cat({prefix->key.to(k.dtype()), k}, 2);
    v = torch::cat({prefix->value.to(v.dtype()), v}, 2);
  }
  torch::Tensor scores = ops::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(head_dim));
  scores = scores + mask;
  torch::Tensor probs = attention_dropout(torch::softmax(scores, -1));
  torch::Tensor context = ops::matmul(probs, v).permute({0, 2, 1, 3}).reshape({batch, length, options_.hidden_size});
  torch::Tensor attended = attention_norm(hidden_dropout(attention_output(context)) + hidden);
  torch::Tensor inner = activate(intermediate(attended), options_.activation);
  return output_norm(hidden_dropout(output(inner)) + attended);
}

EncoderBackboneImpl::EncoderBackboneImpl(const EncoderOptions& options, nlohmann::json hf_config)
    : options_(options), hf_config_(std::move(hf_config)) {
  options_.validate();
  geometry_.arch = options.arch;
  geometry_.kind = BackboneKind::encoder;
  geometry_.layers = options.num_layers;
  geometry_.hidden = options.hidden_size;
  geometry_.heads = options.num_heads;
  geometry_.head_dim = options.hidden_size / options.num_heads;
  geometry_.intermediate = options.intermediate_size;
  geometry_.vocab = options.vocab_size;
  geometry_.max_positions = options.max_positions;
  embeddings_ = register_module("embeddings", EncoderEmbeddings(options));
  layers_ = scope(*this, "encoder")->register_module("layer", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < options.num_layers; ++i) layers_->push_back(EncoderLayer(options));
  pooler_ = scope(*this, "pooler")->register_module("dense", Dense(options.hidden_size, options.hidden_size));
  init_hf_weights(*this, options.initializer_range, options.pad_token_id);
}

torch::Tensor EncoderBackboneImpl::word_embeddings() const { return embeddings_->word_embeddings->weight; }

torch::Tensor EncoderBackboneImpl::embed_ids(const torch::Tensor& input_ids) const {
  return torch::embedding(embeddings_->word_embeddings->weight, input_ids);
}

torch::Tensor EncoderBackboneImpl::position_ids_for(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                                    std::int64_t past) const {
  const std::int64_t batch = input_ids.size(0), length = input_ids.size(1);
  if (options_.positions == PositionScheme::absolute) {
    return torch::arange(past, past + length, input_ids.options()).unsqueeze(0).expand({batch, length});
  }
  // RoBERTa, HF create_position_ids_from_input_ids: (cumsum(mask) + past) · mask + padding_idx,
  // with mask = (input_ids != padding_idx); pads keep padding_idx.
  torch::Tensor real = input_ids.ne(options_.pad_token_id).to(torch::kInt64);
  return (torch::cumsum(real, 1) + past) * real + options_.pad_token_id;
}

BackboneOutput EncoderBackboneImpl::forward(const BackboneInput& input, const Injection& injection) {
  TORCH_CHECK(input.input_ids.defined() && input.input_ids.dim() == 2, "input_ids must be [B, L]");
  const torch::Tensor& ids = input.input_ids;
  const std::int64_t batch = ids.size(0), length = ids.size(1);
  torch::Tensor mask = input.attention_mask.defined() ? input.attention_mask : torch::ones_like(ids);
  torch::Tensor types = input.token_type_ids.defined() ? input.token_type_ids : torch::zeros_like(ids);

  const std::int64_t past = injection.layer_prefix_length();
  const std::int64_t position_offset = injection.shift_positions_under_layer_prefix ? past : 0;

  torch::Tensor hidden;
  std::int64_t prompt_length = 0;
  torch::Tensor words = embed_ids(ids);
  // HF numbers an inputs_embeds sequence of `total` positions from the start (RoBERTa:
  // sequentially from padding_idx + 1, not padding-aware).
  auto sequential_positions = [&](std::int64_t total) {
    const std::int64_t first = options_.positions == PositionScheme::absolute ? position_offset
                                                                              : options_.pad_token_id + 1 + position_offset;
    return torch::arange(first, first + total, ids.options()).unsqueeze(0).expand({batch, total});
  };
  const PromptInsertion insertion = injection.insertion;
  if (injection.input_prefix.defined() && insertion == PromptInsertion::before_position_embeddings) {
    // PEFT: prompts join the word embeddings and then pass the embedding layer, taking positions
    // 0..P-1 and token type 0.
    const torch::Tensor& prompts = injection.input_prefix;
    prompt_length = prompts.size(1);
    torch::Tensor embeds = torch::cat({prompts.to(words.dtype()), words}, 1);
    torch::Tensor prompt_types = torch::cat({torch::zeros({batch, prompt_length}, types.options()), types}, 1);
    hidden = embeddings_->forward(embeds, sequential_positions(prompt_length + length), prompt_types);
  } else if (injection.input_prefix.defined() && insertion == PromptInsertion::after_embeddings_reembedded) {
    // THUDM/P-tuning-v2 Bert/RobertaPromptForSequenceClassification: embeddings(input_ids,
    // token_type_ids) first (no past length there), prompts prepended to that output, then the
    // backbone called with inputs_embeds and no token types: a second pass through the
    // embedding layer with sequential positions and token type 0 everywhere.
    const torch::Tensor& prompts = injection.input_prefix;
    prompt_length = prompts.size(1);
    torch::Tensor once = embeddings_->forward(words, position_ids_for(ids, mask, 0), types);
    torch::Tensor embeds = torch::cat({prompts.to(once.dtype()), once}, 1);
    const std::int64_t total = prompt_length + length;
    hidden = embeddings_->forward(embeds, sequential_positions(total), torch::zeros({batch, total}, types.options()));
  } else {
    hidden = embeddings_->forward(words, position_ids_for(ids, mask, position_offset), types);
    if (injection.input_prefix.defined()) {
      // after_embeddings: prompts prepended to the embedding layer's output.
      prompt_length = injection.input_prefix.size(1);
      hidden = torch::cat({injection.input_prefix.to(hidden.dtype()), hidden}, 1);
    }
  }
  std::vector<torch::Tensor> mask_parts;
  if (past > 0) mask_parts.push_back(torch::ones({batch, past}, mask.options()));
  if (prompt_length > 0) mask_parts.push_back(torch::ones({batch, prompt_length}, mask.options()));
  mask_parts.push_back(mask);
  torch::Tensor full_mask = mask_parts.size() == 1 ? mask : torch::cat(mask_parts, 1);
  torch::Tensor additive = additive_mask(full_mask, hidden.scalar_type());
  // Layers without a prefix must not see the prefix's mask columns.
  torch::Tensor additive_no_prefix = past > 0 ? additive.narrow(3, past, additive.size(3) - past) : additive;

  for (std::int64_t i = 0; i < options_.num_layers; ++i) {
    std::optional<KeyValuePrefix> prefix;
    if (static_cast<std::size_t>(i) < injection.encoder_self.size()) prefix = injection.encoder_self[i];
    if (prefix && prefix->key.size(2) != past) {
      TORCH_CHECK(false, "layer ", i, " prefix length ", prefix->key.size(2), " differs from ", past);
    }
    hidden = layers_[i]->as<EncoderLayer>()->forward(hidden, prefix ? additive : additive_no_prefix, prefix);
  }
  BackboneOutput output;
  output.sequence_with_prefix = hidden;
  output.sequence = prompt_length > 0 ? hidden.narrow(1, prompt_length, length) : hidden;
  // BertPooler: dense + tanh on position 0 of the full sequence.
  output.pooled = torch::tanh(pooler_->forward(hidden.select(1, 0)));
  return output;
}

void init_hf_weights(torch::nn::Module& module, double std, std::int64_t padding_idx) {
  torch::NoGradGuard no_grad;
  for (auto& child : module.modules(/*include_self=*/false)) {
    if (auto* dense = child->as<DenseImpl>()) {
      dense->weight.normal_(0.0, std);
      if (dense->bias.defined()) dense->bias.zero_();
    } else if (auto* embedding = child->as<torch::nn::EmbeddingImpl>()) {
      embedding->weight.normal_(0.0, std);
    } else if (auto* norm = child->as<torch::nn::LayerNormImpl>()) {
      norm->weight.fill_(1.0);
      norm->bias.zero_();
    }
  }
  if (auto* encoder = module.as<EncoderBackboneImpl>(); encoder && padding_idx >= 0) {
    torch::Tensor table = encoder->word_embeddings();
    if (padding_idx < table.size(0)) table[padding_idx].zero_();
  }
}

std::string canonical_weight_name(const std::string& name) {
  std::string result = name;
  for (const char* prefix : {"bert.", "roberta."}) {
    if (result.rfind(prefix, 0) == 0) {
      result = result.substr(std::string(prefix).size());
      break;
    }
  }
  auto replace_suffix = [&](const std::string& from, const std::string& to) {
    if (result.size() >= from.size() && result.compare(result.size() - from.size(), from.size(), from) == 0) {
      result = result.substr(0, result.size() - from.size()) + to;
    }
  };
  replace_suffix(".gamma", ".weight");
  replace_suffix(".beta", ".bias");
  return result;
}

namespace {
bool has_prefix(const std::string& name, const std::vector<std::string>& prefixes) {
  for (const std::string& prefix : prefixes)
    if (name.rfind(prefix, 0) == 0) return true;
  return false;
}
}  // namespace

WeightLoadReport load_weights_into(torch::nn::Module& module, const TensorMap& tensors, const std::string& source,
                                   const std::vector<std::string>& optional_prefixes,
                                   const std::vector<std::string>& ignored_prefixes,
                                   const std::vector<std::string>& leftover_prefixes) {
  WeightLoadReport report;
  auto params = module.named_parameters(/*recurse=*/true);
  std::map<std::string, torch::Tensor> renamed;
  for (const auto& [name, tensor] : tensors) {
    const std::string ours = canonical_weight_name(name);
    if (has_prefix(ours, ignored_prefixes)) {
      report.ignored.push_back(name);
    } else if (!params.contains(ours) && has_prefix(ours, leftover_prefixes)) {
      report.leftover.emplace(ours, tensor);
    } else {
      if (renamed.count(ours)) fail(source, ": tensor '", name, "' appears twice (with and without a model prefix)");
      renamed.emplace(ours, tensor);
    }
  }
  torch::NoGradGuard no_grad;
  for (const auto& item : params) {
    auto found = renamed.find(item.key());
    if (found == renamed.end()) {
      if (has_prefix(item.key(), optional_prefixes)) {
        report.initialised_fresh.push_back(item.key());
        continue;
      }
      fail(source, ": missing tensor '", item.key(), "' (the checkpoint does not match this architecture)");
    }
    if (found->second.sizes() != item.value().sizes()) {
      fail(source, ": tensor '", found->first, "' has shape ", found->second.sizes(), " but the model expects ",
           item.value().sizes(), " (config.json and weights disagree)");
    }
    item.value().copy_(found->second);
    renamed.erase(found);
  }
  if (!renamed.empty()) {
    fail(source, ": unexpected tensor '", renamed.begin()->first, "'",
         renamed.size() > 1 ? " (and " + std::to_string(renamed.size() - 1) + " more)" : std::string(),
         " that this architecture does not have");
  }
  return report;
}

}  // namespace ptbench
