#include "backbones/ops.h"

#include <torch/torch.h>

namespace ptbench::ops {
namespace {
thread_local FlopCount current;

void add(std::int64_t product_flops, bool first_needs_grad, bool second_needs_grad) {
  current.forward += product_flops;
  if (torch::GradMode::is_enabled()) {
    if (first_needs_grad) current.backward += product_flops;
    if (second_needs_grad) current.backward += product_flops;
  }
}
}  // namespace

FlopCount flops() { return current; }
void reset_flops() { current = FlopCount{}; }

FlopScope::FlopScope() : outer_(current) { current = FlopCount{}; }
FlopScope::~FlopScope() {
  current.forward += outer_.forward;
  current.backward += outer_.backward;
}
FlopCount FlopScope::count() const { return current; }

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  const std::int64_t in = weight.size(1);
  const std::int64_t out = weight.size(0);
  const std::int64_t rows = x.numel() / in;
  add(2 * rows * in * out, x.requires_grad(), weight.requires_grad());
  return torch::nn::functional::linear(x, weight, bias);
}

torch::Tensor matmul(const torch::Tensor& a, const torch::Tensor& b) {
  torch::Tensor result = torch::matmul(a, b);
  const std::int64_t k = a.size(-1);
  // result.numel() = batch·M·N, so the product costs 2·numel·K.
  add(2 * result.numel() * k, a.requires_grad(), b.requires_grad());
  return result;
}

}  // namespace ptbench::ops
