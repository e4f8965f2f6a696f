// P-Tuning v1 (Liu et al. 2021, "GPT Understands, Too"): P virtual tokens whose embeddings are
// produced by a trainable prompt encoder from a trainable embedding table; the backbone is frozen.
// The encoder runs once per forward on arange(P) and its output is prepended to every example
// (peft 0.3.0 tuners/p_tuning.py PromptEncoder; peft_model.py get_prompt).
//
// Prompt encoders (h = encoder hidden size):
//   lstm: Embedding(P, H) → 2-layer bidirectional LSTM(H → h per direction, batch_first)
//         → Linear(2h, 2h) → ReLU → Linear(2h, H)            (P-Tuning v1 §3 / THUDM/P-tuning with
//         h = H/2, i.e. Linear(H, H) ReLU Linear(H, H); PEFT 0.3.0 LSTM with encoder_hidden_size h)
//   mlp:  Embedding(P, H) → Linear(H, h) → ReLU → Linear(h, h) → ReLU → Linear(h, H)
//         (PEFT 0.3.0 MLP: three linears whatever encoder_num_layers says)
//
// Trainable parameters (head excluded):
//   lstm: closed_form = P·H + 10·h·H + 36·h² + 34·h + H          (h = H/2: P·H + 14·H² + 18·H)
//   mlp:  closed_form = P·H + 2·H·h + h² + 2·h + H
// (LSTM: layer 0 per direction 4h·H + 4h·h + 8h, layer 1 per direction 4h·2h + 4h·h + 8h.)
// Names follow PEFT's prompt_encoder.<adapter>.*: embedding.weight, lstm_head.{weight,bias}_
// {ih,hh}_l{0,1}[_reverse], mlp_head.{0,2,4}.{weight,bias}.
//
// The LSTM runs through torch::nn::LSTM, so its FLOPs are not in ptbench's run-time count; it
// runs on P vectors once per batch, which is negligible next to the backbone.
#pragma once

#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/rnn.h>

#include <cstdint>

#include "backbones/encoder.h"
#include "methods/method.h"
#include "methods/method_util.h"

namespace ptbench {

enum class PromptEncoderKind { lstm, mlp };

struct PTuningOptions {
  // Number of virtual tokens P. No single paper value (P-Tuning v1 uses task templates of a few
  // tokens, e.g. 3+3+3 on SuperGLUE); 20 as in PEFT's P-tuning examples.
  std::int64_t length = 20;
  // Prompt encoder. P-Tuning v1 §3 (and its reference code) uses the bidirectional LSTM + MLP;
  // PEFT's default is the MLP.
  PromptEncoderKind encoder = PromptEncoderKind::lstm;
  // Encoder hidden size h; 0 = the reference default for the encoder: lstm H/2 per direction
  // (THUDM/P-tuning PromptEncoder: hidden_size // 2), mlp H (PEFT fills encoder_hidden_size
  // with token_dim when it is not given).
  std::int64_t encoder_hidden_size = 0;
  // Dropout between the two LSTM layers (PEFT encoder_dropout and THUDM/P-tuning lstm_dropout
  // default 0.0).
  double lstm_dropout = 0.0;
  // Where the prompts enter; PEFT's point is the default (as prompt tuning).
  PromptInsertion insertion = PromptInsertion::before_position_embeddings;

  static PTuningOptions from_json(const nlohmann::json& json);
  nlohmann::json to_json() const;
  void validate() const;
  // h after resolving 0 for a hidden size H.
  std::int64_t hidden_size_for(std::int64_t hidden) const;
};

class PTuningImpl : public MethodImpl {
 public:
  explicit PTuningImpl(PTuningOptions options) : options_(options) {}
  std::string name() const override { return "ptuning"; }
  // After attach(), encoder_hidden_size is the resolved h (0 = default becomes H/2 or H).
  nlohmann::json options_json() const override;
  void attach(BackboneImpl& backbone) override;
  Injection inject(const BackboneInput& input, BackboneImpl& backbone) override;
  std::int64_t closed_form_parameters(const BackboneGeometry& geometry) const override;

  // The reparameterised prompts [P, H] (what PEFT's get_prompt(1) returns, without the batch).
  torch::Tensor prompts();

  torch::nn::Embedding embedding{nullptr};
  torch::nn::LSTM lstm_head{nullptr};  // lstm only
  std::vector<Dense> mlp_head;         // lstm: 2 linears; mlp: 3 linears

 private:
  PTuningOptions options_;
  std::int64_t resolved_hidden_size_ = 0;  // h, set by attach()
};

}  // namespace ptbench
