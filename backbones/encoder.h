// BERT and RoBERTa encoders: one implementation, options for their differences (position-id
// scheme, LayerNorm eps, type vocabulary, padding id). Parameter names are Hugging Face's, so
// any HF checkpoint of these architectures loads (see load_encoder_weights).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "backbones/backbone.h"
#include "backbones/checkpoint.h"

namespace ptbench {

enum class PositionScheme {
  absolute,         // BERT: positions 0..L-1 (shifted by the past length under a layer prefix)
  padding_aware,    // RoBERTa: padding_idx+1 counting only real tokens; pads get padding_idx
};

enum class Activation { gelu, gelu_new, relu };

// Options of the encoder, read from a Hugging Face config.json (field names given per field).
struct EncoderOptions {
  std::string arch = "bert";             // model_type: "bert" or "roberta"
  std::int64_t vocab_size = 30522;       // vocab_size
  std::int64_t hidden_size = 768;        // hidden_size
  std::int64_t num_layers = 12;          // num_hidden_layers
  std::int64_t num_heads = 12;           // num_attention_heads
  std::int64_t intermediate_size = 3072; // intermediate_size
  Activation activation = Activation::gelu;  // hidden_act: "gelu" is the exact erf GELU
  double hidden_dropout = 0.1;           // hidden_dropout_prob
  double attention_dropout = 0.1;        // attention_probs_dropout_prob
  std::int64_t max_positions = 512;      // max_position_embeddings
  std::int64_t type_vocab_size = 2;      // type_vocab_size
  double layer_norm_eps = 1e-12;         // layer_norm_eps
  std::int64_t pad_token_id = 0;         // pad_token_id (RoBERTa's padding_idx = 1)
  double initializer_range = 0.02;       // initializer_range (normal init std of fresh weights)
  PositionScheme positions = PositionScheme::absolute;  // from model_type

  static EncoderOptions from_hf_config(const nlohmann::json& config);
  nlohmann::json to_hf_config() const;
  void validate() const;
};

// A dense layer holding `weight` [out, in] and `bias` [out] under nn.Linear's names, whose
// forward goes through the FLOP-counting ops::linear.
class DenseImpl : public torch::nn::Module {
 public:
  DenseImpl(std::int64_t in, std::int64_t out, bool with_bias = true);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight, bias;
};
TORCH_MODULE(Dense);

class EncoderEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit EncoderEmbeddingsImpl(const EncoderOptions& options);
  // inputs_embeds [B, L, H] (word embeddings, possibly with prompts prepended), position ids and
  // token type ids [B, L].
  torch::Tensor forward(const torch::Tensor& inputs_embeds, const torch::Tensor& position_ids,
                        const torch::Tensor& token_type_ids);
  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr}, token_type_embeddings{nullptr};
  torch::nn::LayerNorm layer_norm{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(EncoderEmbeddings);

class EncoderLayerImpl : public torch::nn::Module {
 public:
  explicit EncoderLayerImpl(const EncoderOptions& options);
  // hidden [B, L, H]; additive mask [B, 1, 1, P+L]; optional key/value prefix.
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& additive_mask,
                        const std::optional<KeyValuePrefix>& prefix);

 private:
  EncoderOptions options_;
  Dense query{nullptr}, key{nullptr}, value{nullptr}, attention_output{nullptr};
  torch::nn::LayerNorm attention_norm{nullptr};
  Dense intermediate{nullptr}, output{nullptr};
  torch::nn::LayerNorm output_norm{nullptr};
  torch::nn::Dropout hidden_dropout{nullptr}, attention_dropout{nullptr};
};
TORCH_MODULE(EncoderLayer);

class EncoderBackboneImpl : public BackboneImpl {
 public:
  EncoderBackboneImpl(const EncoderOptions& options, nlohmann::json hf_config);

  const BackboneGeometry& geometry() const override { return geometry_; }
  torch::Tensor word_embeddings() const override;
  torch::Tensor embed_ids(const torch::Tensor& input_ids) const override;
  BackboneOutput forward(const BackboneInput& input, const Injection& injection) override;
  const nlohmann::json& hf_config() const override { return hf_config_; }
  const EncoderOptions& options() const { return options_; }

  // Position ids of the real tokens [B, L] under a layer prefix of length past (HF 4.28).
  torch::Tensor position_ids_for(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                 std::int64_t past) const;

 private:
  EncoderOptions options_;
  BackboneGeometry geometry_;
  nlohmann::json hf_config_;
  EncoderEmbeddings embeddings_{nullptr};
  torch::nn::ModuleList layers_{nullptr};
  Dense pooler_{nullptr};
};

// Initialises every parameter as Hugging Face does for fresh weights: normal(0, std) for
// linear and embedding weights, zero biases, LayerNorm weight 1 and bias 0, zero padding row.
void init_hf_weights(torch::nn::Module& module, double std, std::int64_t padding_idx = -1);

// Renames a checkpoint's keys to ours: strips "bert."/"roberta." prefixes, maps the old
// LayerNorm names gamma/beta to weight/bias.
std::string canonical_weight_name(const std::string& name);

struct WeightLoadReport {
  std::vector<std::string> initialised_fresh;  // our parameters absent from the checkpoint (allowed ones)
  std::vector<std::string> ignored;            // checkpoint tensors not used (pretraining heads, buffers)
  TensorMap leftover;                          // unprefixed non-backbone tensors (task heads)
};

// Copies a checkpoint's tensors into `module` by name. `optional_prefixes` name parameters that
// may be absent (initialised fresh, e.g. "pooler."); `ignored_prefixes` checkpoint tensors that
// are skipped (e.g. "cls.", "lm_head.", "embeddings.position_ids"); `leftover_prefixes` tensors
// returned for the caller (task heads). Any other missing or unexpected tensor, or a shape
// mismatch, is an Error naming the file and the tensor.
WeightLoadReport load_weights_into(torch::nn::Module& module, const TensorMap& tensors,
                                   const std::string& source, const std::vector<std::string>& optional_prefixes,
                                   const std::vector<std::string>& ignored_prefixes,
                                   const std::vector<std::string>& leftover_prefixes);

}  // namespace ptbench
