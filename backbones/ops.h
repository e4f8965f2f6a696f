// The few operations whose FLOPs ptbench counts at run time (DESIGN.md section 3, "Meters"):
// linear layers and batched matrix products. Backbones and methods call these instead of
// torch::linear/matmul so every run can report the FLOPs it really executed.
//
// Counting rule: a product of an [M, K] and a [K, N] operand costs 2·M·N·K forward. Under
// autograd, each operand that requires grad costs another 2·M·N·K in backward (its gradient is
// one product of the same size), so a frozen weight costs only the input gradient.
#pragma once

#include <cstdint>

#include <torch/types.h>

namespace ptbench::ops {

struct FlopCount {
  std::int64_t forward = 0;
  std::int64_t backward = 0;
};

// Counts of the calling thread since the last reset.
FlopCount flops();
void reset_flops();

// RAII: counts what happens inside the scope; restores (adds to) the outer count on exit.
class FlopScope {
 public:
  FlopScope();
  ~FlopScope();
  FlopCount count() const;

 private:
  FlopCount outer_;
};

// y = x·Wᵀ + b, x [..., in], W [out, in], b [out] or undefined.
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);
// Batched matrix product with broadcasting, a [..., M, K] · b [..., K, N].
torch::Tensor matmul(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace ptbench::ops
