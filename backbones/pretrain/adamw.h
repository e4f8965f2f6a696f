// AdamW (Loshchilov & Hutter 2019) with decoupled weight decay, the update of torch.optim.AdamW
// (amsgrad off), keyed by parameter name: its state saves to and loads from a checkpoint by
// name, the same under LibTorch 1.13 and 2.x (whose optimizer-state containers differ), and the
// denominator buffers are allocated once instead of every step.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "backbones/checkpoint.h"

namespace ptbench::pretrain {

struct AdamWOptions {
  double beta1 = 0.9;          // first-moment decay (BERT: 0.9)
  double beta2 = 0.999;        // second-moment decay (BERT: 0.999; RoBERTa: 0.98)
  double eps = 1e-6;           // denominator epsilon (BERT: 1e-6)
  double weight_decay = 0.01;  // decoupled decay, not applied to biases and LayerNorm weights
};

// HF run_mlm / BERT: no weight decay for biases and LayerNorm weights.
bool decays_weight(const std::string& name);

class NamedAdamW {
 public:
  NamedAdamW(std::vector<std::pair<std::string, torch::Tensor>> parameters, AdamWOptions options);

  // Parameters with a gradient are updated at learning rate `lr`; the others are left alone.
  void step(double lr);
  void zero_grad();
  std::vector<torch::Tensor> parameters() const;

  // "exp_avg.<name>", "exp_avg_sq.<name>" and the per-parameter step counts.
  TensorMap state_tensors() const;
  nlohmann::json state_json() const;
  // Error naming `source` and the tensor when the state does not fit these parameters.
  void load_state(const TensorMap& tensors, const nlohmann::json& json, const std::string& source);

 private:
  struct Slot {
    std::string name;
    torch::Tensor parameter;
    bool decay = true;
    std::int64_t steps = 0;
    torch::Tensor exp_avg, exp_avg_sq, denom;
  };
  AdamWOptions options_;
  std::vector<Slot> slots_;
};

}  // namespace ptbench::pretrain
