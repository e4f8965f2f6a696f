// The masked-language-model head of BERT (BertOnlyMLMHead → BertLMPredictionHead: dense,
// activation, LayerNorm, decoder tied to the word embeddings, output bias) and of RoBERTa
// (RobertaLMHead, same layout under other names), and the model that joins it to an encoder
// under Hugging Face's BertForMaskedLM / RobertaForMaskedLM parameter names:
//   bert.embeddings.…, bert.encoder.layer.{i}.…, bert.pooler.dense.…,
//   cls.predictions.transform.dense.{weight,bias}, cls.predictions.transform.LayerNorm.{weight,bias},
//   cls.predictions.bias            (RoBERTa: roberta.…, lm_head.dense, lm_head.layer_norm, lm_head.bias)
// The decoder weight is the word-embedding table itself, so it is not a parameter of its own
// (HF ties cls.predictions.decoder.weight to it on load and lists it as allowed-missing).
#pragma once

#include <memory>

#include <torch/nn/module.h>
#include <torch/nn/modules/normalization.h>

#include "backbones/encoder.h"

namespace ptbench::pretrain {

class MlmHeadImpl : public torch::nn::Module {
 public:
  explicit MlmHeadImpl(const EncoderOptions& options);
  // hidden [N, H] (only the masked positions), word_embeddings [V, H] → logits [N, V].
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& word_embeddings);

 private:
  Activation activation_;
  Dense dense_{nullptr};
  torch::nn::LayerNorm layer_norm_{nullptr};
  torch::Tensor bias_;
};
TORCH_MODULE(MlmHead);

// Encoder + MLM head. named_parameters() are HF BertForMaskedLM's (RobertaForMaskedLM's) names.
class MaskedLmModelImpl : public torch::nn::Module {
 public:
  // `config`: a BERT or RoBERTa config.json; weights initialised as HF does for fresh models.
  explicit MaskedLmModelImpl(const nlohmann::json& config);
  // Logits [N, V] at `positions` (indices into the flattened [B·L] sequence).
  torch::Tensor forward(const BackboneInput& input, const torch::Tensor& positions);
  std::shared_ptr<EncoderBackboneImpl> encoder() const { return encoder_; }
  // "bert" or "roberta": the prefix of the encoder's names.
  const std::string& prefix() const { return prefix_; }

 private:
  std::string prefix_;
  std::shared_ptr<EncoderBackboneImpl> encoder_;
  MlmHead head_{nullptr};
};
TORCH_MODULE(MaskedLmModel);

}  // namespace ptbench::pretrain
