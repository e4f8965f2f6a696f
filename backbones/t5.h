// T5 encoder-decoder (Raffel et al. 2020), v1.0 and v1.1 layouts, under Hugging Face's parameter
// names (transformers 4.28 modeling_t5.py), so any HF T5ForConditionalGeneration folder loads.
//
// What T5 does differently from BERT (DESIGN.md section 4): no absolute positions — a learned
// bias per relative-position bucket, held by the first block of each stack and shared by the
// others (bidirectional buckets in the encoder, causal in the decoder); RMS LayerNorm without
// bias or mean; no 1/sqrt(d) scaling of attention scores; pre-norm residual blocks; v1.0 has a
// ReLU FFN and ties the LM head to the input embeddings (decoder output scaled by d_model^-0.5),
// v1.1 a gated-GELU FFN and a separate lm_head.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>

#include "backbones/backbone.h"
#include "backbones/encoder.h"

namespace ptbench {

// Options read from a Hugging Face T5 config.json (field names given per field).
struct T5Options {
  std::int64_t vocab_size = 32128;          // vocab_size
  std::int64_t d_model = 512;               // d_model
  std::int64_t d_kv = 64;                   // d_kv (per-head width; heads·d_kv need not equal d_model)
  std::int64_t d_ff = 2048;                 // d_ff
  std::int64_t num_layers = 6;              // num_layers (encoder)
  std::int64_t num_decoder_layers = 6;      // num_decoder_layers (defaults to num_layers)
  std::int64_t num_heads = 8;               // num_heads
  std::int64_t relative_attention_num_buckets = 32;   // relative_attention_num_buckets
  std::int64_t relative_attention_max_distance = 128; // relative_attention_max_distance
  double dropout_rate = 0.1;                // dropout_rate (embeddings, attention weights, residuals, FFN)
  double layer_norm_epsilon = 1e-6;         // layer_norm_epsilon
  double initializer_factor = 1.0;          // initializer_factor (fresh-weight init scale, HF _init_weights)
  std::string feed_forward_proj = "relu";   // feed_forward_proj: "relu" (v1.0) or "gated-gelu" (v1.1), "gated-relu"…
  bool tie_word_embeddings = true;          // tie_word_embeddings: v1.0 true (scaled tied head), v1.1 false
  std::int64_t decoder_start_token_id = 0;  // decoder_start_token_id (= pad)
  std::int64_t pad_token_id = 0;            // pad_token_id
  std::int64_t eos_token_id = 1;            // eos_token_id (</s>)

  bool gated() const;                       // "gated-…" FFN: wo(act(wi_0 x) · wi_1 x)
  Activation activation() const;            // relu, or gelu_new for "gated-gelu" (HF maps it to the tanh GELU)
  static T5Options from_hf_config(const nlohmann::json& config);
  nlohmann::json to_hf_config() const;
  void validate() const;
};

// T5LayerNorm: x / sqrt(mean(x²) + eps) · weight — no mean subtraction, no bias.
class T5LayerNormImpl : public torch::nn::Module {
 public:
  T5LayerNormImpl(std::int64_t size, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;

 private:
  double eps_;
};
TORCH_MODULE(T5LayerNorm);

class T5AttentionImpl : public torch::nn::Module {
 public:
  T5AttentionImpl(const T5Options& options, bool has_relative_bias, bool causal);
  // hidden [B, Lq, H]; key_value_source [B, Lk, H] (hidden itself for self-attention);
  // bias [1 or B, heads, Lq, P + Lk] = relative-position bias + additive mask; optional key/value
  // prefix [B, heads, P, d_kv] prepended to the keys and values.
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& key_value_source, const torch::Tensor& bias,
                        const std::optional<KeyValuePrefix>& prefix);
  // [1, heads, Lq, Lk] bias of query positions first_query.. against key positions 0..Lk-1.
  torch::Tensor relative_bias(std::int64_t first_query, std::int64_t query_length, std::int64_t key_length) const;
  bool has_relative_bias() const { return !relative_attention_bias_.is_empty(); }

 private:
  T5Options options_;
  bool causal_;
  Dense q_{nullptr}, k_{nullptr}, v_{nullptr}, o_{nullptr};
  torch::nn::Embedding relative_attention_bias_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(T5Attention);

class T5FeedForwardImpl : public torch::nn::Module {
 public:
  explicit T5FeedForwardImpl(const T5Options& options);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  T5Options options_;
  Dense wi_{nullptr}, wi_0_{nullptr}, wi_1_{nullptr}, wo_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(T5FeedForward);

// One block: self-attention, (decoder) cross-attention, feed-forward; each pre-norm + residual.
class T5BlockImpl : public torch::nn::Module {
 public:
  T5BlockImpl(const T5Options& options, bool decoder, bool has_relative_bias);
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& self_bias,
                        const std::optional<KeyValuePrefix>& self_prefix, const torch::Tensor& encoder_states,
                        const torch::Tensor& cross_bias, const std::optional<KeyValuePrefix>& cross_prefix);
  T5Attention self_attention{nullptr}, cross_attention{nullptr};

 private:
  T5LayerNorm self_norm_{nullptr}, cross_norm_{nullptr}, ff_norm_{nullptr};
  T5FeedForward feed_forward_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(T5Block);

class T5BackboneImpl : public BackboneImpl {
 public:
  T5BackboneImpl(const T5Options& options, nlohmann::json hf_config);

  const BackboneGeometry& geometry() const override { return geometry_; }
  torch::Tensor word_embeddings() const override;
  torch::Tensor embed_ids(const torch::Tensor& input_ids) const override;
  BackboneOutput forward(const BackboneInput& input, const Injection& injection) override;
  const nlohmann::json& hf_config() const override { return hf_config_; }
  torch::Tensor generate(const BackboneInput& input, const Injection& injection,
                         const GenerationOptions& options) override;
  torch::Tensor score_candidates(const BackboneInput& input, const Injection& injection,
                                 const std::vector<std::vector<std::int64_t>>& candidates) override;
  const T5Options& options() const { return options_; }

  // Encoder states [B, P + L, H] (prompt positions kept: the decoder attends to them) and the
  // matching mask [B, P + L].
  struct Encoded {
    torch::Tensor states;
    torch::Tensor mask;
    std::int64_t prompt_length = 0;
  };
  Encoded encode(const BackboneInput& input, const Injection& injection);
  // Decoder hidden states [B, T, H] (decoder prompt positions stripped) for decoder_input_ids.
  torch::Tensor decode(const torch::Tensor& decoder_input_ids, const torch::Tensor& decoder_attention_mask,
                       const Encoded& encoded, const Injection& injection);
  // LM logits from decoder states (v1.0: scaled by d_model^-0.5 before the tied head).
  torch::Tensor lm_logits(const torch::Tensor& decoder_states);
  // HF T5 _shift_right: start token first, -100 replaced by pad.
  torch::Tensor shift_right(const torch::Tensor& labels) const;

 private:
  torch::Tensor run_stack(torch::nn::ModuleList& blocks, T5LayerNorm& final_norm, torch::Tensor hidden,
                          const torch::Tensor& self_mask, bool causal,
                          const std::vector<std::optional<KeyValuePrefix>>& self_prefixes,
                          const torch::Tensor& encoder_states, const torch::Tensor& encoder_mask,
                          const std::vector<std::optional<KeyValuePrefix>>& cross_prefixes);
  torch::Tensor greedy(const Encoded& encoded, const Injection& injection, const GenerationOptions& options);
  torch::Tensor beam_search(const Encoded& encoded, const Injection& injection, const GenerationOptions& options);

  T5Options options_;
  BackboneGeometry geometry_;
  nlohmann::json hf_config_;
  torch::nn::Embedding shared_{nullptr};
  torch::nn::ModuleList encoder_blocks_{nullptr}, decoder_blocks_{nullptr};
  T5LayerNorm encoder_norm_{nullptr}, decoder_norm_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  torch::Tensor lm_head_;  // [V, H]; undefined when tied to shared
};

// Hugging Face T5PreTrainedModel._init_weights for fresh weights (factor = initializer_factor):
// shared/lm_head N(0, factor); q N(0, factor·(d_model·d_kv)^-½), k/v/o and the FFN input
// N(0, factor·d^-½) by fan-in; relative bias N(0, factor·d_model^-½); norms 1.
void init_t5_weights(T5BackboneImpl& model);

}  // namespace ptbench
