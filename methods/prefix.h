// Deep prefix tuning, P-Tuning v2 (Liu et al., ACL 2022): trainable key and value prefixes of
// length P in the self-attention of every (or a chosen subset of) layer(s); the backbone is frozen.
// Reference: THUDM/P-tuning-v2 model/prefix_encoder.py and model/sequence_classification.py
// (BertPrefixForSequenceClassification.get_prompt); PEFT 0.3.0 tuners/prefix_tuning.py.
//
// Prefix encoder (S = number of layers with a prefix, H hidden, h = projection_hidden_size):
//   plain:      Embedding(P, 2·S·H)
//   projection: Embedding(P, H) → Linear(H, h) → Tanh → Linear(h, 2·S·H)
// then dropout on the prefix (per example, as the reference applies it after expanding to the
// batch). The flat vector of prefix position p is laid out per layer / key-value / head /
// head_dim, index ((s·2 + kv)·heads + head)·head_dim + d with kv = 0 for the key (PEFT's
// view [B, P, 2S, heads, hd].permute(2, 0, 3, 1, 4).split(2); golden README, peft/).
// The attention mask gets P ones on the left; token types are not extended; with the default
// position shift the real tokens take positions P..P+L-1 as HF BERT/RoBERTa give them when past
// key/values are passed (what P-Tuning v2 ran).
//
// Encoder-decoder backbones (T5): `stacks` chooses the attention blocks per stack — encoder
// self-attention, decoder self-attention, cross-attention (default: encoder and decoder self);
// `layers` selects layers within each chosen stack. S counts every prefixed block, in the
// order encoder layers, decoder self-attention layers, cross-attention layers. The prefix sits
// at the relative positions just before the sequence, as HF T5 treats past key/values (see
// backbones/t5.cpp); decoder self-attention prefixes are visible to every decoder position.
// PEFT 0.3.0 passes prefix past_key_values to the T5 decoder only (["decoder"] reproduces it).
//
// Trainable parameters (head excluded), with D = heads·head_dim (= H for BERT and T5):
//   plain:      closed_form = 2·P·S·D
//   projection: closed_form = P·H + H·h + h + 2·S·D·(h + 1)
// Names: embedding.weight, transform.0.{weight,bias}, transform.2.{weight,bias} (PEFT's
// prompt_encoder.<adapter>.*).
#pragma once

#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>

#include <cstdint>
#include <string>
#include <vector>

#include "backbones/encoder.h"
#include "methods/method.h"

namespace ptbench {

// Which layers get a prefix (the P-Tuning v2 paper's prompt-depth ablation: prefixes on the
// first or last K layers only).
// JSON: "all", "first:K", "last:K", or a list of layer indices ([] = none).
struct LayerSelection {
  enum class Mode { all, first, last, list };
  Mode mode = Mode::all;
  std::int64_t count = 0;             // first / last
  std::vector<std::int64_t> indices;  // list

  static LayerSelection from_json(const nlohmann::json& json, const std::string& where);
  nlohmann::json to_json() const;
  // The chosen layer indices in ascending order for a backbone of `layers` layers.
  std::vector<std::int64_t> resolve(std::int64_t layers, const std::string& where) const;
};

struct PrefixOptions {
  // Prefix length P; 0 is allowed (no prefix; useful for checks). THUDM/P-tuning-v2
  // arguments.py pre_seq_len default 4; its run scripts set it per task (e.g. 16 … 128).
  std::int64_t length = 4;
  // Reparameterise through the two-layer MLP (arguments.py prefix_projection, default false).
  bool projection = false;
  // Hidden size h of the projection MLP (arguments.py prefix_hidden_size, default 512).
  std::int64_t projection_hidden_size = 512;
  // Dropout on the prefix in training (the reference model's self.dropout with
  // hidden_dropout_prob, arguments.py default 0.1). PEFT applies none.
  double dropout = 0.1;
  // Which layers get a prefix; the embedding covers only those.
  LayerSelection layers;
  // Shift the real tokens' positions by P (HF behaviour under past_key_values, what P-Tuning v2
  // ran); false keeps positions 0..L-1.
  bool shift_positions = true;
  // Encoder-decoder backbones: which stacks get prefixes, from "encoder", "decoder" (decoder
  // self-attention) and "cross" (cross-attention). Empty = ["encoder", "decoder"]; an encoder
  // backbone accepts only ["encoder"] (or empty).
  std::vector<std::string> stacks;

  static PrefixOptions from_json(const nlohmann::json& json);
  nlohmann::json to_json() const;
  void validate() const;
};

class PrefixImpl : public MethodImpl {
 public:
  explicit PrefixImpl(PrefixOptions options) : options_(std::move(options)) {}
  std::string name() const override { return "prefix"; }
  nlohmann::json options_json() const override { return options_.to_json(); }
  void attach(BackboneImpl& backbone) override;
  Injection inject(const BackboneInput& input, BackboneImpl& backbone) override;
  std::int64_t closed_form_parameters(const BackboneGeometry& geometry) const override;

  // The flat prefix [P, 2·S·H] before dropout (PEFT's saved prompt_embeddings).
  torch::Tensor flat_prefix();
  const std::vector<std::int64_t>& prefixed_layers() const { return layers_; }

  torch::nn::Embedding embedding{nullptr};
  Dense transform_in{nullptr}, transform_out{nullptr};  // projection only
  torch::nn::Dropout dropout{nullptr};

 private:
  PrefixOptions options_;
  // The prefixed blocks in flat-prefix order: (stack, layer index within the stack).
  enum class Stack { encoder, decoder, cross };
  std::vector<std::pair<Stack, std::int64_t>> blocks_;
  std::vector<std::int64_t> layers_;  // encoder-stack layers (prefixed_layers())
  std::int64_t encoder_layers_ = 0, decoder_layers_ = 0, heads_ = 0, head_dim_ = 0;
  // The blocks for a geometry (validates stacks against it).
  std::vector<std::pair<Stack, std::int64_t>> resolve_blocks(const BackboneGeometry& geometry) const;
};

}  // namespace ptbench
