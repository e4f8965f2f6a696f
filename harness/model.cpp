#include "harness/model.h"

#include <torch/torch.h>

#include "common/error.h"

namespace ptbench {

nlohmann::json ParameterCounts::to_json() const {
  return {{"total", total},
          {"trainable", trainable},
          {"trainable_percent", total > 0 ? 100.0 * static_cast<double>(trainable) / static_cast<double>(total) : 0.0},
          {"backbone", backbone},
          {"method", method},
          {"head", head},
          {"stored_bytes", stored_bytes}};
}

ModelImpl::ModelImpl(Backbone backbone_, Method method_, Head head_)
    : backbone(std::move(backbone_)), method(std::move(method_)), head(std::move(head_)) {
  register_module("backbone", backbone);
  method->attach(*backbone);
  register_module("method", method);
  register_module("head", head);
  const bool train_backbone = method->trains_backbone();
  for (auto& parameter : backbone->parameters()) parameter.set_requires_grad(train_backbone);
}

torch::Tensor ModelImpl::forward(const BackboneInput& input) {
  Injection injection = method->inject(input, *backbone);
  return head->forward(backbone->forward(input, injection));
}

torch::Tensor ModelImpl::generate(const BackboneInput& input, const GenerationOptions& options) {
  return backbone->generate(input, method->inject(input, *backbone), options);
}

torch::Tensor ModelImpl::score_candidates(const BackboneInput& input,
                                          const std::vector<std::vector<std::int64_t>>& candidates) {
  return backbone->score_candidates(input, method->inject(input, *backbone), candidates);
}

ParameterCounts ModelImpl::parameter_counts() const {
  ParameterCounts counts;
  auto count = [](const torch::nn::Module& module) {
    std::int64_t n = 0;
    for (const auto& p : module.parameters()) n += p.numel();
    return n;
  };
  counts.backbone = count(*backbone);
  counts.method = count(*method);
  counts.head = count(*head);
  counts.total = counts.backbone + counts.method + counts.head;
  for (const auto& p : parameters()) {
    if (p.requires_grad()) {
      counts.trainable += p.numel();
      counts.stored_bytes += p.numel() * static_cast<std::int64_t>(p.element_size());
    }
  }
  return counts;
}

TensorMap ModelImpl::trainable_state() const {
  TensorMap state;
  for (const auto& item : named_parameters(true)) {
    if (item.value().requires_grad()) state.emplace(item.key(), item.value().detach());
  }
  return state;
}

void ModelImpl::load_trainable_state(const TensorMap& state, const std::string& source) {
  auto params = named_parameters(true);
  std::size_t used = 0;
  torch::NoGradGuard no_grad;
  for (const auto& item : params) {
    if (!item.value().requires_grad()) continue;
    auto found = state.find(item.key());
    if (found == state.end()) fail(source, ": missing trainable tensor '", item.key(), "'");
    if (found->second.sizes() != item.value().sizes()) {
      fail(source, ": tensor '", item.key(), "' has shape ", found->second.sizes(), ", the model expects ",
           item.value().sizes());
    }
    item.value().copy_(found->second);
    ++used;
  }
  if (used != state.size()) {
    for (const auto& [name, tensor] : state) {
      if (!params.contains(name) || !params[name].requires_grad()) {
        fail(source, ": unexpected tensor '", name, "' (saved by another method or configuration?)");
      }
    }
  }
}

std::vector<torch::Tensor> ModelImpl::trainable_parameters() const {
  std::vector<torch::Tensor> result;
  for (const auto& p : parameters())
    if (p.requires_grad()) result.push_back(p);
  return result;
}

}  // namespace ptbench
