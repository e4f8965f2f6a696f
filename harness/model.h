// Model = Backbone + Method + Head (DESIGN.md section 2). The model owns the freezing rule:
// the method says whether the backbone trains; the head and the method's modules always do.
#pragma once

#include <string>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>

#include "backbones/backbone.h"
#include "backbones/checkpoint.h"
#include "backbones/heads.h"
#include "methods/method.h"

namespace ptbench {

struct ParameterCounts {
  std::int64_t total = 0;       // backbone + method + head
  std::int64_t trainable = 0;   // requires_grad
  std::int64_t backbone = 0;
  std::int64_t method = 0;
  std::int64_t head = 0;
  std::int64_t stored_bytes = 0;  // bytes of the trainable state as saved (fp32)
  nlohmann::json to_json() const;
};

class ModelImpl : public torch::nn::Module {
 public:
  ModelImpl(Backbone backbone, Method method, Head head);
  // Head output for a batch (see HeadImpl::forward for shapes).
  torch::Tensor forward(const BackboneInput& input);
  // Encoder-decoder backbones: generated ids [B, 1 + N] under the method's injection.
  torch::Tensor generate(const BackboneInput& input, const GenerationOptions& options);
  // Encoder-decoder backbones: [B, C] summed log-likelihood of each candidate target.
  torch::Tensor score_candidates(const BackboneInput& input, const std::vector<std::vector<std::int64_t>>& candidates);
  ParameterCounts parameter_counts() const;
  // Only the parameters that train, under stable names ("backbone.…", "method.…", "head.…").
  TensorMap trainable_state() const;
  // Loads a trainable state written by trainable_state(); every tensor must match.
  void load_trainable_state(const TensorMap& state, const std::string& source);
  std::vector<torch::Tensor> trainable_parameters() const;

  Backbone backbone;
  Method method;
  Head head;
};
TORCH_MODULE(Model);

}  // namespace ptbench
