#include "backbones/pretrain/adamw.h"

#include <cmath>

#include <torch/torch.h>

#include "common/error.h"

namespace ptbench::pretrain {

bool decays_weight(const std::string& name) {
  auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return !(ends_with("bias") || ends_with("LayerNorm.weight") || ends_with("layer_norm.weight"));
}

NamedAdamW::NamedAdamW(std::vector<std::pair<std::string, torch::Tensor>> parameters, AdamWOptions options)
    : options_(options) {
  for (auto& [name, parameter] : parameters) {
    Slot slot;
    slot.name = name;
    slot.parameter = parameter;
    slot.decay = decays_weight(name);
    slots_.push_back(std::move(slot));
  }
}

std::vector<torch::Tensor> NamedAdamW::parameters() const {
  std::vector<torch::Tensor> out;
  for (const Slot& slot : slots_) out.push_back(slot.parameter);
  return out;
}

void NamedAdamW::zero_grad() {
  for (Slot& slot : slots_) {
    torch::Tensor& grad = slot.parameter.mutable_grad();
    if (grad.defined()) grad.zero_();
  }
}

void NamedAdamW::step(double lr) {
  torch::NoGradGuard no_grad;
  for (Slot& slot : slots_) {
    const torch::Tensor& grad = slot.parameter.grad();
    if (!grad.defined()) continue;
    if (!slot.exp_avg.defined()) {
      slot.exp_avg = torch::zeros_like(slot.parameter, torch::MemoryFormat::Preserve);
      slot.exp_avg_sq = torch::zeros_like(slot.parameter, torch::MemoryFormat::Preserve);
    }
    if (!slot.denom.defined()) slot.denom = torch::empty_like(slot.parameter);
    ++slot.steps;
    // torch.optim.AdamW (_single_tensor_adamw): decay first, then the Adam update with bias
    // corrections 1 - β^t.
    if (slot.decay && options_.weight_decay != 0) slot.parameter.mul_(1.0 - lr * options_.weight_decay);
    slot.exp_avg.mul_(options_.beta1).add_(grad, 1.0 - options_.beta1);
    slot.exp_avg_sq.mul_(options_.beta2).addcmul_(grad, grad, 1.0 - options_.beta2);
    const double t = static_cast<double>(slot.steps);
    const double correction1 = 1.0 - std::pow(options_.beta1, t);
    const double correction2 = 1.0 - std::pow(options_.beta2, t);
    torch::sqrt_out(slot.denom, slot.exp_avg_sq);
    slot.denom.div_(std::sqrt(correction2)).add_(options_.eps);
    slot.parameter.addcdiv_(slot.exp_avg, slot.denom, -lr / correction1);
  }
}

TensorMap NamedAdamW::state_tensors() const {
  TensorMap tensors;
  for (const Slot& slot : slots_) {
    if (!slot.exp_avg.defined()) continue;
    tensors.emplace("exp_avg." + slot.name, slot.exp_avg);
    tensors.emplace("exp_avg_sq." + slot.name, slot.exp_avg_sq);
  }
  return tensors;
}

nlohmann::json NamedAdamW::state_json() const {
  nlohmann::json steps = nlohmann::json::object();
  for (const Slot& slot : slots_)
    if (slot.steps > 0) steps[slot.name] = slot.steps;
  return {{"steps", steps},
          {"beta1", options_.beta1},
          {"beta2", options_.beta2},
          {"eps", options_.eps},
          {"weight_decay", options_.weight_decay}};
}

void NamedAdamW::load_state(const TensorMap& tensors, const nlohmann::json& json, const std::string& source) {
  torch::NoGradGuard no_grad;
  const nlohmann::json steps = json.value("steps", nlohmann::json::object());
  std::size_t used = 0;
  for (Slot& slot : slots_) {
    slot.steps = steps.value(slot.name, std::int64_t{0});
    auto avg = tensors.find("exp_avg." + slot.name);
    auto avg_sq = tensors.find("exp_avg_sq." + slot.name);
    if (slot.steps == 0) {
      if (avg != tensors.end()) fail(source, ": optimizer state for '", slot.name, "' without a step count");
      slot.exp_avg = slot.exp_avg_sq = torch::Tensor();
      continue;
    }
    if (avg == tensors.end() || avg_sq == tensors.end()) fail(source, ": optimizer state for '", slot.name, "' is missing");
    if (avg->second.sizes() != slot.parameter.sizes() || avg_sq->second.sizes() != slot.parameter.sizes()) {
      fail(source, ": optimizer state for '", slot.name, "' has shape ", avg->second.sizes(), ", the parameter ",
           slot.parameter.sizes());
    }
    slot.exp_avg = avg->second.to(slot.parameter.options(), /*non_blocking=*/false, /*copy=*/true).contiguous();
    slot.exp_avg_sq = avg_sq->second.to(slot.parameter.options(), false, true).contiguous();
    used += 2;
  }
  if (used != tensors.size()) fail(source, ": the optimizer state holds tensors of parameters this model does not have");
}

}  // namespace ptbench::pretrain
