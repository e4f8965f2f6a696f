// The backbone seam (DESIGN.md section 3): a transformer built from a Hugging Face model
// folder, exposing its geometry, its word embeddings and a forward that takes an Injection.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/types.h>

#include "backbones/injection.h"

namespace ptbench {

enum class BackboneKind { encoder, encoder_decoder };

struct BackboneGeometry {
  std::string arch;            // "bert", "roberta", "t5"
  BackboneKind kind = BackboneKind::encoder;
  std::int64_t layers = 0;     // encoder layers
  std::int64_t decoder_layers = 0;
  std::int64_t hidden = 0;
  std::int64_t heads = 0;
  std::int64_t head_dim = 0;
  std::int64_t intermediate = 0;
  std::int64_t vocab = 0;
  std::int64_t max_positions = 0;  // 0 for relative-position models
  nlohmann::json to_json() const;
};

// A batch as the backbone sees it. Encoder-only models use input_ids, attention_mask and
// token_type_ids; encoder-decoder models also decoder_input_ids (and labels for the loss).
struct BackboneInput {
  torch::Tensor input_ids;        // [B, L] int64
  torch::Tensor attention_mask;   // [B, L] int64, 1 = real token
  torch::Tensor token_type_ids;   // [B, L] int64 or undefined (zeros)
  torch::Tensor decoder_input_ids;       // [B, T] or undefined
  torch::Tensor decoder_attention_mask;  // [B, T] or undefined
};

struct BackboneOutput {
  // [B, L, H] last hidden states of the real tokens (prepended prompt positions stripped).
  torch::Tensor sequence;
  // [B, H] pooled output for BERT-style models (pooler on position 0 of the full sequence,
  // which is the first virtual token when a prompt is prepended before position embeddings,
  // exactly as PEFT runs it), undefined when the model has no pooler.
  torch::Tensor pooled;
  // [B, P+L, H] including prepended positions (for heads that read the first virtual token).
  torch::Tensor sequence_with_prefix;
  // Encoder-decoder only: decoder hidden states [B, T, H] and LM logits [B, T, V].
  torch::Tensor decoder_sequence;
  torch::Tensor lm_logits;
};

// Text generation settings (encoder-decoder backbones).
struct GenerationOptions {
  std::int64_t max_new_tokens = 20;  // tokens generated after the decoder start token
  std::int64_t num_beams = 1;        // 1 = greedy
  double length_penalty = 1.0;       // beam search: hypothesis score = sum log p / length^penalty (HF default 1.0)
};

class BackboneImpl : public torch::nn::Module {
 public:
  ~BackboneImpl() override = default;
  virtual const BackboneGeometry& geometry() const = 0;
  // The word embedding table [V, H] (prompt initialisation from vocabulary, router inputs).
  virtual torch::Tensor word_embeddings() const = 0;
  // Word-embedding lookup of ids: [B, L] -> [B, L, H] (no position, no LayerNorm).
  virtual torch::Tensor embed_ids(const torch::Tensor& input_ids) const = 0;
  virtual BackboneOutput forward(const BackboneInput& input, const Injection& injection) = 0;
  // The model's config.json as read (written back when a model is saved).
  virtual const nlohmann::json& hf_config() const = 0;
  // Encoder-decoder backbones: generated ids [B, 1 + N] starting with the decoder start token
  // (Hugging Face generate's layout; finished rows padded). Encoders fail.
  virtual torch::Tensor generate(const BackboneInput& input, const Injection& injection,
                                 const GenerationOptions& options);
  // Encoder-decoder backbones: [B, C] summed log-likelihood of each candidate target (token ids,
  // ending with the end-of-sequence token) given the input — rank classification. Encoders fail.
  virtual torch::Tensor score_candidates(const BackboneInput& input, const Injection& injection,
                                         const std::vector<std::vector<std::int64_t>>& candidates);
};

using Backbone = std::shared_ptr<BackboneImpl>;

}  // namespace ptbench
