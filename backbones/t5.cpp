#include "backbones/t5.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "backbones/ops.h"
#include "common/error.h"

namespace ptbench {
namespace F = torch::nn::functional;

namespace {

// A plain module used only to nest children under Hugging Face's names
// (encoder.block.0.layer.0.SelfAttention.q …): LibTorch forbids dots in one registered name.
std::shared_ptr<torch::nn::Module> scope(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

// HF 4.28: (1 - mask) · finfo(float32).min, added to the attention scores.
torch::Tensor additive(const torch::Tensor& mask01, torch::ScalarType dtype) {
  return (1.0 - mask01.to(dtype)) * std::numeric_limits<float>::lowest();
}

// HF T5Attention._relative_position_bucket: half the buckets (per direction when bidirectional)
// hold exact offsets 0..max_exact-1, the rest grow logarithmically up to max_distance; farther
// offsets share the last bucket. Causal buckets give every future position bucket 0.
torch::Tensor relative_position_bucket(torch::Tensor relative_position, bool bidirectional, std::int64_t num_buckets,
                                       std::int64_t max_distance) {
  torch::Tensor buckets = torch::zeros_like(relative_position);
  if (bidirectional) {
    num_buckets /= 2;
    buckets = buckets + relative_position.gt(0).to(torch::kInt64) * num_buckets;
    relative_position = relative_position.abs();
  } else {
    relative_position = -torch::min(relative_position, torch::zeros_like(relative_position));
  }
  const std::int64_t max_exact = num_buckets / 2;
  torch::Tensor is_small = relative_position.lt(max_exact);
  torch::Tensor if_large =
      max_exact + (torch::log(relative_position.to(torch::kFloat32) / static_cast<float>(max_exact)) /
                   std::log(static_cast<float>(max_distance) / static_cast<float>(max_exact)) *
                   static_cast<float>(num_buckets - max_exact))
                      .to(torch::kInt64);
  if_large = torch::min(if_large, torch::full_like(if_large, num_buckets - 1));
  return buckets + torch::where(is_small, relative_position, if_large);
}

torch::Tensor activate(const torch::Tensor& x, Activation activation) {
  switch (activation) {
    case Activation::gelu: return F::gelu(x);
    case Activation::gelu_new: return F::gelu(x, F::GELUFuncOptions().approximate("tanh"));
    case Activation::relu: return torch::relu(x);
  }
  return x;
}

// The common length of the prefixes of a stack (0 when none); every layer that has one must agree.
std::int64_t prefix_length(const std::vector<std::optional<KeyValuePrefix>>& prefixes, const char* stack) {
  std::int64_t length = -1;
  for (const auto& prefix : prefixes) {
    if (!prefix) continue;
    const std::int64_t here = prefix->key.size(2);
    TORCH_CHECK(length < 0 || length == here, stack, " prefixes differ in length (", length, " vs ", here, ")");
    length = here;
  }
  return std::max<std::int64_t>(length, 0);
}

std::optional<KeyValuePrefix> prefix_at(const std::vector<std::optional<KeyValuePrefix>>& prefixes, std::int64_t i) {
  if (static_cast<std::size_t>(i) < prefixes.size()) return prefixes[static_cast<std::size_t>(i)];
  return std::nullopt;
}

}  // namespace

bool T5Options::gated() const { return feed_forward_proj.rfind("gated-", 0) == 0; }

Activation T5Options::activation() const {
  const std::string act = gated() ? feed_forward_proj.substr(6) : feed_forward_proj;
  // HF T5Config: "gated-gelu" selects dense_act_fn "gelu_new" (the tanh approximation).
  if (act == "gelu" || act == "gelu_new") return Activation::gelu_new;
  return Activation::relu;
}

T5Options T5Options::from_hf_config(const nlohmann::json& config) {
  T5Options options;
  try {
    const std::string type = config.value("model_type", std::string("t5"));
    if (type != "t5") fail("config.json model_type '", type, "' is not t5");
    options.vocab_size = config.at("vocab_size").get<std::int64_t>();
    options.d_model = config.at("d_model").get<std::int64_t>();
    options.d_kv = config.at("d_kv").get<std::int64_t>();
    options.d_ff = config.at("d_ff").get<std::int64_t>();
    options.num_layers = config.at("num_layers").get<std::int64_t>();
    const nlohmann::json decoder_layers = config.value("num_decoder_layers", nlohmann::json());
    options.num_decoder_layers = decoder_layers.is_number() ? decoder_layers.get<std::int64_t>() : options.num_layers;
    options.num_heads = config.at("num_heads").get<std::int64_t>();
    options.relative_attention_num_buckets = config.value("relative_attention_num_buckets", std::int64_t{32});
    options.relative_attention_max_distance = config.value("relative_attention_max_distance", std::int64_t{128});
    options.dropout_rate = config.value("dropout_rate", 0.1);
    options.layer_norm_epsilon = config.value("layer_norm_epsilon", 1e-6);
    options.initializer_factor = config.value("initializer_factor", 1.0);
    options.feed_forward_proj = config.value("feed_forward_proj", std::string("relu"));
    options.tie_word_embeddings = config.value("tie_word_embeddings", true);
    options.decoder_start_token_id = config.value("decoder_start_token_id", std::int64_t{0});
    options.pad_token_id = config.value("pad_token_id", std::int64_t{0});
    options.eos_token_id = config.value("eos_token_id", std::int64_t{1});
  } catch (const nlohmann::json::exception& e) {
    fail("config.json: missing or mistyped T5 key (", e.what(), ")");
  }
  options.validate();
  return options;
}

nlohmann::json T5Options::to_hf_config() const {
  return {{"architectures", {"T5ForConditionalGeneration"}},
          {"model_type", "t5"},
          {"is_encoder_decoder", true},
          {"vocab_size", vocab_size},
          {"d_model", d_model},
          {"d_kv", d_kv},
          {"d_ff", d_ff},
          {"num_layers", num_layers},
          {"num_decoder_layers", num_decoder_layers},
          {"num_heads", num_heads},
          {"relative_attention_num_buckets", relative_attention_num_buckets},
          {"relative_attention_max_distance", relative_attention_max_distance},
          {"dropout_rate", dropout_rate},
          {"layer_norm_epsilon", layer_norm_epsilon},
          {"initializer_factor", initializer_factor},
          {"feed_forward_proj", feed_forward_proj},
          {"dense_act_fn", activation() == Activation::relu ? "relu" : "gelu_new"},
          {"is_gated_act", gated()},
          {"tie_word_embeddings", tie_word_embeddings},
          {"decoder_start_token_id", decoder_start_token_id},
          {"pad_token_id", pad_token_id},
          {"eos_token_id", eos_token_id},
          {"use_cache", true},
          {"torch_dtype", "float32"}};
}

void T5Options::validate() const {
  if (vocab_size <= 0 || d_model <= 0 || d_kv <= 0 || d_ff <= 0 || num_heads <= 0 || num_layers < 0 ||
      num_decoder_layers < 0) {
    fail("T5 geometry must be positive (d_model ", d_model, ", d_kv ", d_kv, ", d_ff ", d_ff, ", heads ", num_heads,
         ", layers ", num_layers, "+", num_decoder_layers, ")");
  }
  const std::string act = gated() ? feed_forward_proj.substr(6) : feed_forward_proj;
  if (act != "relu" && act != "gelu" && act != "gelu_new") {
    fail("config.json feed_forward_proj '", feed_forward_proj,
         "' is not supported (relu, gated-gelu, gated-relu, gelu)");
  }
  if (relative_attention_num_buckets < 4 || relative_attention_max_distance <= relative_attention_num_buckets / 4) {
    fail("relative_attention_num_buckets ", relative_attention_num_buckets, " / max_distance ",
         relative_attention_max_distance, " do not make a valid bucketing");
  }
  if (dropout_rate < 0 || dropout_rate >= 1) fail("dropout_rate must lie in [0, 1), got ", dropout_rate);
}

T5LayerNormImpl::T5LayerNormImpl(std::int64_t size, double eps) : eps_(eps) {
  weight = register_parameter("weight", torch::ones({size}));
}

torch::Tensor T5LayerNormImpl::forward(const torch::Tensor& x) {
  torch::Tensor variance = x.to(torch::kFloat32).pow(2).mean(-1, /*keepdim=*/true);
  return weight * (x * torch::rsqrt(variance + eps_)).to(weight.scalar_type());
}

T5AttentionImpl::T5AttentionImpl(const T5Options& options, bool has_relative_bias, bool causal)
    : options_(options), causal_(causal) {
  const std::int64_t inner = options.num_heads * options.d_kv;
  q_ = register_module("q", Dense(options.d_model, inner, false));
  k_ = register_module("k", Dense(options.d_model, inner, false));
  v_ = register_module("v", Dense(options.d_model, inner, false));
  o_ = register_module("o", Dense(inner, options.d_model, false));
  if (has_relative_bias) {
    relative_attention_bias_ = register_module(
        "relative_attention_bias", torch::nn::Embedding(options.relative_attention_num_buckets, options.num_heads));
  }
  dropout_ = register_module("dropout", torch::nn::Dropout(options.dropout_rate));
}

torch::Tensor T5AttentionImpl::relative_bias(std::int64_t first_query, std::int64_t query_length,
                                             std::int64_t key_length) const {
  TORCH_CHECK(relative_attention_bias_, "relative_bias() on a block without relative_attention_bias");
  const auto device = relative_attention_bias_->weight.device();
  torch::Tensor context = torch::arange(first_query, first_query + query_length, torch::dtype(torch::kInt64).device(device));
  torch::Tensor memory = torch::arange(key_length, torch::dtype(torch::kInt64).device(device));
  torch::Tensor relative = memory.unsqueeze(0) - context.unsqueeze(1);  // [Lq, Lk], key − query
  torch::Tensor buckets = relative_position_bucket(relative, /*bidirectional=*/!causal_,
                                                   options_.relative_attention_num_buckets,
                                                   options_.relative_attention_max_distance);
  return torch::embedding(relative_attention_bias_->weight, buckets).permute({2, 0, 1}).unsqueeze(0);  // [1, heads, Lq, Lk]
}

torch::Tensor T5AttentionImpl::forward(const torch::Tensor& hidden, const torch::Tensor& key_value_source,
                                       const torch::Tensor& bias, const std::optional<KeyValuePrefix>& prefix) {
  const std::int64_t batch = hidden.size(0), length = hidden.size(1);
  const std::int64_t heads = options_.num_heads, d_kv = options_.d_kv;
  auto split_heads = [&](const torch::Tensor& x) { return x.view({batch, -1, heads, d_kv}).transpose(1, 2); };
  torch::Tensor q = split_heads(q_(hidden));
  torch::Tensor k = split_heads(k_(key_value_source));
  torch::Tensor v = split_heads(v_(key_value_source));
  if (prefix) {
    k = torch::cat({prefix->key.to(k.dtype()), k}, 2);
    v = torch::cat({prefix->value.to(v.dtype()), v}, 2);
  }
  // No 1/sqrt(d_kv) scaling: T5 folds it into the initialisation of q (HF modeling_t5.py).
  torch::Tensor scores = ops::matmul(q, k.transpose(-1, -2)) + bias;
  torch::Tensor weights = dropout_(torch::softmax(scores.to(torch::kFloat32), -1).to(scores.scalar_type()));
  torch::Tensor context = ops::matmul(weights, v).transpose(1, 2).reshape({batch, length, heads * d_kv});
  return o_(context);
}

T5FeedForwardImpl::T5FeedForwardImpl(const T5Options& options) : options_(options) {
  if (options.gated()) {
    wi_0_ = register_module("wi_0", Dense(options.d_model, options.d_ff, false));
    wi_1_ = register_module("wi_1", Dense(options.d_model, options.d_ff, false));
  } else {
    wi_ = register_module("wi", Dense(options.d_model, options.d_ff, false));
  }
  wo_ = register_module("wo", Dense(options.d_ff, options.d_model, false));
  dropout_ = register_module("dropout", torch::nn::Dropout(options.dropout_rate));
}

torch::Tensor T5FeedForwardImpl::forward(const torch::Tensor& x) {
  torch::Tensor inner = options_.gated() ? activate(wi_0_(x), options_.activation()) * wi_1_(x)
                                         : activate(wi_(x), options_.activation());
  return wo_(dropout_(inner));
}

T5BlockImpl::T5BlockImpl(const T5Options& options, bool decoder, bool has_relative_bias) {
  auto layer = scope(*this, "layer");
  auto self_scope = scope(*layer, "0");
  self_attention = self_scope->register_module("SelfAttention", T5Attention(options, has_relative_bias, decoder));
  self_norm_ = self_scope->register_module("layer_norm", T5LayerNorm(options.d_model, options.layer_norm_epsilon));
  std::shared_ptr<torch::nn::Module> ff_scope;
  if (decoder) {
    auto cross_scope = scope(*layer, "1");
    cross_attention = cross_scope->register_module("EncDecAttention", T5Attention(options, false, false));
    cross_norm_ = cross_scope->register_module("layer_norm", T5LayerNorm(options.d_model, options.layer_norm_epsilon));
    ff_scope = scope(*layer, "2");
  } else {
    ff_scope = scope(*layer, "1");
  }
  feed_forward_ = ff_scope->register_module("DenseReluDense", T5FeedForward(options));
  ff_norm_ = ff_scope->register_module("layer_norm", T5LayerNorm(options.d_model, options.layer_norm_epsilon));
  dropout_ = register_module("dropout", torch::nn::Dropout(options.dropout_rate));
}

torch::Tensor T5BlockImpl::forward(const torch::Tensor& hidden, const torch::Tensor& self_bias,
                                   const std::optional<KeyValuePrefix>& self_prefix,
                                   const torch::Tensor& encoder_states, const torch::Tensor& cross_bias,
                                   const std::optional<KeyValuePrefix>& cross_prefix) {
  torch::Tensor normed = self_norm_(hidden);
  torch::Tensor x = hidden + dropout_(self_attention(normed, normed, self_bias, self_prefix));
  if (cross_attention) {
    x = x + dropout_(cross_attention(cross_norm_(x), encoder_states, cross_bias, cross_prefix));
  }
  return x + dropout_(feed_forward_(ff_norm_(x)));
}

T5BackboneImpl::T5BackboneImpl(const T5Options& options, nlohmann::json hf_config)
    : options_(options), hf_config_(std::move(hf_config)) {
  options_.validate();
  geometry_.arch = "t5";
  geometry_.kind = BackboneKind::encoder_decoder;
  geometry_.layers = options.num_layers;
  geometry_.decoder_layers = options.num_decoder_layers;
  geometry_.hidden = options.d_model;
  geometry_.heads = options.num_heads;
  geometry_.head_dim = options.d_kv;
  geometry_.intermediate = options.d_ff;
  geometry_.vocab = options.vocab_size;
  geometry_.max_positions = 0;
  shared_ = register_module("shared", torch::nn::Embedding(options.vocab_size, options.d_model));
  auto encoder = scope(*this, "encoder");
  encoder_blocks_ = encoder->register_module("block", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < options.num_layers; ++i) encoder_blocks_->push_back(T5Block(options, false, i == 0));
  encoder_norm_ = encoder->register_module("final_layer_norm", T5LayerNorm(options.d_model, options.layer_norm_epsilon));
  auto decoder = scope(*this, "decoder");
  decoder_blocks_ = decoder->register_module("block", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < options.num_decoder_layers; ++i) decoder_blocks_->push_back(T5Block(options, true, i == 0));
  decoder_norm_ = decoder->register_module("final_layer_norm", T5LayerNorm(options.d_model, options.layer_norm_epsilon));
  if (!options.tie_word_embeddings) {
    lm_head_ = scope(*this, "lm_head")->register_parameter("weight", torch::empty({options.vocab_size, options.d_model}));
  }
  dropout_ = register_module("dropout", torch::nn::Dropout(options.dropout_rate));
  init_t5_weights(*this);
}

torch::Tensor T5BackboneImpl::word_embeddings() const { return shared_->weight; }

torch::Tensor T5BackboneImpl::embed_ids(const torch::Tensor& input_ids) const {
  return torch::embedding(shared_->weight, input_ids);
}

torch::Tensor T5BackboneImpl::shift_right(const torch::Tensor& labels) const {
  torch::Tensor shifted = torch::full_like(labels, options_.decoder_start_token_id);
  if (labels.size(1) > 1) shifted.narrow(1, 1, labels.size(1) - 1).copy_(labels.narrow(1, 0, labels.size(1) - 1));
  return shifted.masked_fill(shifted.eq(-100), options_.pad_token_id);
}

torch::Tensor T5BackboneImpl::run_stack(torch::nn::ModuleList& blocks, T5LayerNorm& final_norm, torch::Tensor hidden,
                                        const torch::Tensor& self_mask, bool causal,
                                        const std::vector<std::optional<KeyValuePrefix>>& self_prefixes,
                                        const torch::Tensor& encoder_states, const torch::Tensor& encoder_mask,
                                        const std::vector<std::optional<KeyValuePrefix>>& cross_prefixes) {
  const std::int64_t batch = hidden.size(0), length = hidden.size(1);
  const std::int64_t past = prefix_length(self_prefixes, causal ? "decoder self-attention" : "encoder self-attention");
  const auto dtype = hidden.scalar_type();
  // Visibility of keys (past prefix first, then the sequence) for every query: [B, 1, Lq, past + L].
  torch::Tensor visible = self_mask.to(dtype).unsqueeze(1).unsqueeze(2);
  if (causal) {
    torch::Tensor positions = torch::arange(length, self_mask.options());
    torch::Tensor lower = positions.unsqueeze(0).le(positions.unsqueeze(1)).to(dtype);  // [Lq, L]: key <= query
    visible = visible * lower.unsqueeze(0).unsqueeze(0);
  }
  if (past > 0) {
    torch::Tensor prefix_columns = torch::ones({batch, 1, visible.size(2), past}, visible.options());
    visible = torch::cat({prefix_columns, visible.expand({batch, 1, visible.size(2), length})}, 3);
  }
  // HF T5Attention with past_key_value: the bias is computed for positions 0..past+L-1 and the
  // last L query rows are kept, so the prefix sits at the positions just before the sequence.
  auto* first = blocks[0]->as<T5Block>();
  torch::Tensor bias = additive(visible, dtype);
  if (first->self_attention->has_relative_bias()) {
    bias = first->self_attention->relative_bias(past, length, past + length).to(dtype) + bias;
  }
  torch::Tensor bias_without_prefix = past > 0 ? bias.narrow(3, past, length) : bias;

  torch::Tensor cross_bias, cross_bias_without_prefix;
  if (encoder_states.defined()) {
    const std::int64_t cross_past = prefix_length(cross_prefixes, "cross-attention");
    torch::Tensor encoder_visible = encoder_mask;
    if (cross_past > 0) {
      encoder_visible = torch::cat({torch::ones({batch, cross_past}, encoder_mask.options()), encoder_mask}, 1);
    }
    // Cross-attention has no relative bias: zeros + the encoder mask (HF invert_attention_mask).
    cross_bias = additive(encoder_visible, dtype).unsqueeze(1).unsqueeze(2);
    cross_bias_without_prefix = cross_past > 0 ? cross_bias.narrow(3, cross_past, encoder_mask.size(1)) : cross_bias;
  }
  for (std::size_t i = 0; i < blocks->size(); ++i) {
    auto* block = blocks[i]->as<T5Block>();
    const auto self_prefix = prefix_at(self_prefixes, static_cast<std::int64_t>(i));
    const auto cross_prefix = prefix_at(cross_prefixes, static_cast<std::int64_t>(i));
    hidden = block->forward(hidden, self_prefix ? bias : bias_without_prefix, self_prefix, encoder_states,
                            cross_prefix ? cross_bias : cross_bias_without_prefix, cross_prefix);
  }
  return dropout_(final_norm(hidden));
}

T5BackboneImpl::Encoded T5BackboneImpl::encode(const BackboneInput& input, const Injection& injection) {
  TORCH_CHECK(input.input_ids.defined() && input.input_ids.dim() == 2, "input_ids must be [B, L]");
  const torch::Tensor& ids = input.input_ids;
  const std::int64_t batch = ids.size(0);
  Encoded encoded;
  encoded.mask = input.attention_mask.defined() ? input.attention_mask : torch::ones_like(ids);
  torch::Tensor embeds = embed_ids(ids);
  if (injection.input_prefix.defined()) {
    // PEFT PeftModelForSeq2SeqLM: prompts concatenated before the encoder's inputs_embeds, mask
    // ones on the left. T5 has no position embeddings, so every insertion point is the same here.
    encoded.prompt_length = injection.input_prefix.size(1);
    embeds = torch::cat({injection.input_prefix.to(embeds.dtype()), embeds}, 1);
    encoded.mask = torch::cat({torch::ones({batch, encoded.prompt_length}, encoded.mask.options()), encoded.mask}, 1);
  }
  encoded.states = run_stack(encoder_blocks_, encoder_norm_, dropout_(embeds), encoded.mask, /*causal=*/false,
                             injection.encoder_self, {}, {}, {});
  return encoded;
}

torch::Tensor T5BackboneImpl::decode(const torch::Tensor& decoder_input_ids, const torch::Tensor& decoder_attention_mask,
                                     const Encoded& encoded, const Injection& injection) {
  const std::int64_t batch = decoder_input_ids.size(0), length = decoder_input_ids.size(1);
  torch::Tensor embeds = embed_ids(decoder_input_ids);
  torch::Tensor mask = decoder_attention_mask.defined() ? decoder_attention_mask : torch::ones_like(decoder_input_ids);
  std::int64_t prompt_length = 0;
  if (injection.decoder_input_prefix.defined()) {
    // PEFT seq2seq prompt tuning: the second half of the prompt table goes before the decoder
    // inputs_embeds; the decoder mask (none in PEFT's call) covers them as real positions.
    prompt_length = injection.decoder_input_prefix.size(1);
    embeds = torch::cat({injection.decoder_input_prefix.to(embeds.dtype()), embeds}, 1);
    mask = torch::cat({torch::ones({batch, prompt_length}, mask.options()), mask}, 1);
  }
  torch::Tensor states = run_stack(decoder_blocks_, decoder_norm_, dropout_(embeds), mask, /*causal=*/true,
                                   injection.decoder_self, encoded.states, encoded.mask, injection.cross);
  return prompt_length > 0 ? states.narrow(1, prompt_length, length) : states;
}

torch::Tensor T5BackboneImpl::lm_logits(const torch::Tensor& decoder_states) {
  if (options_.tie_word_embeddings) {
    // HF T5ForConditionalGeneration: rescale before the tied projection (Mesh TensorFlow).
    return ops::linear(decoder_states * std::pow(static_cast<double>(options_.d_model), -0.5), shared_->weight, {});
  }
  return ops::linear(decoder_states, lm_head_, {});
}

BackboneOutput T5BackboneImpl::forward(const BackboneInput& input, const Injection& injection) {
  Encoded encoded = encode(input, injection);
  BackboneOutput output;
  output.sequence_with_prefix = encoded.states;
  output.sequence = encoded.prompt_length > 0
                        ? encoded.states.narrow(1, encoded.prompt_length, encoded.states.size(1) - encoded.prompt_length)
                        : encoded.states;
  if (input.decoder_input_ids.defined()) {
    output.decoder_sequence = decode(input.decoder_input_ids, input.decoder_attention_mask, encoded, injection);
    output.lm_logits = lm_logits(output.decoder_sequence);
  }
  return output;
}

torch::Tensor T5BackboneImpl::generate(const BackboneInput& input, const Injection& injection,
                                       const GenerationOptions& options) {
  TORCH_CHECK(options.max_new_tokens >= 1, "generate: max_new_tokens must be at least 1");
  TORCH_CHECK(options.num_beams >= 1, "generate: num_beams must be at least 1");
  const Encoded encoded = encode(input, injection);
  return options.num_beams == 1 ? greedy(encoded, injection, options) : beam_search(encoded, injection, options);
}

torch::Tensor T5BackboneImpl::greedy(const Encoded& encoded, const Injection& injection,
                                     const GenerationOptions& options) {
  // HF GenerationMixin.greedy_search without a cache: the decoder reruns on the whole prefix each
  // step (labels are a few tokens long here); finished rows continue with pad.
  const std::int64_t batch = encoded.states.size(0);
  auto id_options = torch::dtype(torch::kInt64).device(encoded.states.device());
  torch::Tensor ids = torch::full({batch, 1}, options_.decoder_start_token_id, id_options);
  torch::Tensor unfinished = torch::ones({batch}, id_options);
  for (std::int64_t step = 0; step < options.max_new_tokens; ++step) {
    torch::Tensor states = decode(ids, {}, encoded, injection);
    torch::Tensor next = lm_logits(states.select(1, states.size(1) - 1)).argmax(-1);
    next = next * unfinished + options_.pad_token_id * (1 - unfinished);
    ids = torch::cat({ids, next.unsqueeze(1)}, 1);
    unfinished = unfinished * next.ne(options_.eos_token_id).to(torch::kInt64);
    if (unfinished.max().item<std::int64_t>() == 0) break;
  }
  return ids;
}

namespace {

// Repeats every per-example tensor of an injection `times` times along the batch (beam search).
Injection repeat_for_beams(const Injection& injection, std::int64_t times) {
  Injection repeated = injection;
  auto rep = [&](torch::Tensor& t) {
    if (t.defined()) t = t.repeat_interleave(times, 0);
  };
  rep(repeated.input_prefix);
  rep(repeated.decoder_input_prefix);
  for (auto* stack : {&repeated.encoder_self, &repeated.decoder_self, &repeated.cross}) {
    for (auto& prefix : *stack) {
      if (!prefix) continue;
      rep(prefix->key);
      rep(prefix->value);
    }
  }
  return repeated;
}

}  // namespace

torch::Tensor T5BackboneImpl::beam_search(const Encoded& encoded, const Injection& injection,
                                          const GenerationOptions& options) {
  // HF 4.28 beam_search + BeamSearchScorer (early_stopping false, one returned sequence):
  // 2·K candidates per step; a candidate ending in EOS among the top K becomes a finished
  // hypothesis scored sum log p / length^penalty (length = tokens before EOS, start included);
  // an example is done when K hypotheses exist and none of its open beams can beat the worst.
  const std::int64_t batch = encoded.states.size(0), beams = options.num_beams;
  auto id_options = torch::dtype(torch::kInt64).device(encoded.states.device());
  Encoded expanded;
  expanded.states = encoded.states.repeat_interleave(beams, 0);
  expanded.mask = encoded.mask.repeat_interleave(beams, 0);
  expanded.prompt_length = encoded.prompt_length;
  const Injection beam_injection = repeat_for_beams(injection, beams);

  struct Hypothesis {
    double score;
    std::vector<std::int64_t> ids;
  };
  std::vector<std::vector<Hypothesis>> finished(static_cast<std::size_t>(batch));
  std::vector<bool> done(static_cast<std::size_t>(batch), false);
  auto worst = [](const std::vector<Hypothesis>& hyps) {
    double w = std::numeric_limits<double>::infinity();
    for (const auto& h : hyps) w = std::min(w, h.score);
    return w;
  };
  auto add = [&](std::size_t b, std::vector<std::int64_t> ids, double sum_logprobs) {
    const double score = sum_logprobs / std::pow(static_cast<double>(ids.size()), options.length_penalty);
    auto& hyps = finished[b];
    if (static_cast<std::int64_t>(hyps.size()) < beams || score > worst(hyps)) {
      hyps.push_back({score, std::move(ids)});
      if (static_cast<std::int64_t>(hyps.size()) > beams) {
        auto it = std::min_element(hyps.begin(), hyps.end(), [](const auto& a, const auto& c) { return a.score < c.score; });
        hyps.erase(it);
      }
    }
  };

  torch::Tensor ids = torch::full({batch * beams, 1}, options_.decoder_start_token_id, id_options);
  std::vector<double> beam_scores(static_cast<std::size_t>(batch * beams), 0.0);
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t k = 1; k < beams; ++k) beam_scores[static_cast<std::size_t>(b * beams + k)] = -1e9;

  for (std::int64_t step = 0; step < options.max_new_tokens; ++step) {
    const std::int64_t length = ids.size(1);
    torch::Tensor states = decode(ids, {}, expanded, beam_injection);
    torch::Tensor logprobs = torch::log_softmax(lm_logits(states.select(1, length - 1)).to(torch::kFloat64), -1).cpu();
    const std::int64_t vocab = logprobs.size(1);
    torch::Tensor scores = logprobs + torch::tensor(beam_scores, torch::kFloat64).unsqueeze(1);
    auto [top_scores, top_indices] = scores.view({batch, beams * vocab}).topk(2 * beams, 1);
    auto ids_cpu = ids.cpu();
    std::vector<std::int64_t> next_beam_rows, next_tokens;
    std::vector<double> next_scores;
    for (std::int64_t b = 0; b < batch; ++b) {
      std::int64_t kept = 0;
      if (done[static_cast<std::size_t>(b)]) {
        for (std::int64_t k = 0; k < beams; ++k) {
          next_beam_rows.push_back(b * beams);
          next_tokens.push_back(options_.pad_token_id);
          next_scores.push_back(0.0);
        }
        continue;
      }
      for (std::int64_t j = 0; j < 2 * beams && kept < beams; ++j) {
        const std::int64_t flat = top_indices[b][j].item<std::int64_t>();
        const double score = top_scores[b][j].item<double>();
        const std::int64_t beam = flat / vocab, token = flat % vocab, row = b * beams + beam;
        if (token == options_.eos_token_id) {
          if (j >= beams) continue;  // HF: an EOS outside the top K is not a hypothesis
          auto row_ids = ids_cpu[row];
          add(static_cast<std::size_t>(b),
              std::vector<std::int64_t>(row_ids.data_ptr<std::int64_t>(), row_ids.data_ptr<std::int64_t>() + length),
              score);
        } else {
          next_beam_rows.push_back(row);
          next_tokens.push_back(token);
          next_scores.push_back(score);
          ++kept;
        }
      }
      const auto& hyps = finished[static_cast<std::size_t>(b)];
      if (static_cast<std::int64_t>(hyps.size()) >= beams) {
        const double best_open = top_scores[b].max().item<double>() / std::pow(static_cast<double>(length), options.length_penalty);
        if (worst(hyps) >= best_open) done[static_cast<std::size_t>(b)] = true;
      }
    }
    torch::Tensor rows = torch::tensor(next_beam_rows, torch::kInt64).to(ids.device());
    ids = torch::cat({ids.index_select(0, rows), torch::tensor(next_tokens, torch::kInt64).to(ids.device()).unsqueeze(1)}, 1);
    beam_scores = next_scores;
    if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
  }
  // Open beams of unfinished examples join their hypotheses (HF finalize).
  auto ids_cpu = ids.cpu();
  for (std::int64_t b = 0; b < batch; ++b) {
    if (done[static_cast<std::size_t>(b)]) continue;
    for (std::int64_t k = 0; k < beams; ++k) {
      auto row = ids_cpu[b * beams + k];
      add(static_cast<std::size_t>(b),
          std::vector<std::int64_t>(row.data_ptr<std::int64_t>(), row.data_ptr<std::int64_t>() + ids.size(1)),
          beam_scores[static_cast<std::size_t>(b * beams + k)]);
    }
  }
  // Best hypothesis per example; those shorter than the longest get EOS then pad (HF layout).
  std::vector<std::vector<std::int64_t>> best(static_cast<std::size_t>(batch));
  std::size_t longest = 0;
  for (std::int64_t b = 0; b < batch; ++b) {
    const auto& hyps = finished[static_cast<std::size_t>(b)];
    auto it = std::max_element(hyps.begin(), hyps.end(), [](const auto& a, const auto& c) { return a.score < c.score; });
    best[static_cast<std::size_t>(b)] = it->ids;
    longest = std::max(longest, it->ids.size());
  }
  const std::int64_t width = std::min<std::int64_t>(static_cast<std::int64_t>(longest) + 1, options.max_new_tokens + 1);
  torch::Tensor result = torch::full({batch, width}, options_.pad_token_id, torch::kInt64);
  for (std::int64_t b = 0; b < batch; ++b) {
    const auto& row = best[static_cast<std::size_t>(b)];
    for (std::size_t t = 0; t < row.size() && static_cast<std::int64_t>(t) < width; ++t) result[b][static_cast<std::int64_t>(t)] = row[t];
    if (static_cast<std::int64_t>(row.size()) < width) result[b][static_cast<std::int64_t>(row.size())] = options_.eos_token_id;
  }
  return result.to(ids.device());
}

torch::Tensor T5BackboneImpl::score_candidates(const BackboneInput& input, const Injection& injection,
                                               const std::vector<std::vector<std::int64_t>>& candidates) {
  TORCH_CHECK(!candidates.empty(), "score_candidates: no candidates");
  const Encoded encoded = encode(input, injection);
  const std::int64_t batch = encoded.states.size(0);
  std::vector<torch::Tensor> scores;
  for (const auto& candidate : candidates) {
    TORCH_CHECK(!candidate.empty(), "score_candidates: an empty candidate");
    torch::Tensor labels = torch::tensor(candidate, torch::kInt64).to(encoded.states.device()).unsqueeze(0).expand(
        {batch, static_cast<std::int64_t>(candidate.size())});
    torch::Tensor states = decode(shift_right(labels), {}, encoded, injection);
    torch::Tensor logprobs = torch::log_softmax(lm_logits(states).to(torch::kFloat32), -1);
    scores.push_back(logprobs.gather(2, labels.unsqueeze(2)).squeeze(2).sum(1));
  }
  return torch::stack(scores, 1);
}

void init_t5_weights(T5BackboneImpl& model) {
  torch::NoGradGuard no_grad;
  const T5Options& o = model.options();
  const double factor = o.initializer_factor;
  const double d_model = static_cast<double>(o.d_model), d_kv = static_cast<double>(o.d_kv);
  const double d_ff = static_cast<double>(o.d_ff), inner = static_cast<double>(o.num_heads) * d_kv;
  for (auto& item : model.named_parameters(true)) {
    const std::string& name = item.key();
    torch::Tensor& p = item.value();
    auto ends_with = [&](const std::string& suffix) {
      return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (ends_with("layer_norm.weight")) {
      p.fill_(factor);
    } else if (name == "shared.weight" || name == "lm_head.weight") {
      p.normal_(0.0, factor);
    } else if (ends_with("relative_attention_bias.weight")) {
      p.normal_(0.0, factor * std::pow(d_model, -0.5));
    } else if (ends_with(".q.weight")) {
      p.normal_(0.0, factor * std::pow(d_model * d_kv, -0.5));
    } else if (ends_with(".k.weight") || ends_with(".v.weight")) {
      p.normal_(0.0, factor * std::pow(d_model, -0.5));
    } else if (ends_with(".o.weight")) {
      p.normal_(0.0, factor * std::pow(inner, -0.5));
    } else if (ends_with(".wi.weight") || ends_with(".wi_0.weight") || ends_with(".wi_1.weight")) {
      p.normal_(0.0, factor * std::pow(d_model, -0.5));
    } else if (ends_with(".wo.weight")) {
      p.normal_(0.0, factor * std::pow(d_ff, -0.5));
    } else {
      fail("init_t5_weights: no initialisation rule for parameter '", name, "'");
    }
  }
}

}  // namespace ptbench
