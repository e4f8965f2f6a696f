// Adafactor (Shazeer & Stern, ICML 2018) exactly as Hugging Face transformers implements it
// (src/transformers/optimization.py, class Adafactor; behaviour reproduced, code written anew).
// That is the optimizer the T5 reference code uses: SMoP's scripts/train.py builds
// Adafactor(params, lr=args.lr, relative_step=False, scale_parameter=False, weight_decay=1e-5)
// under a linear warm-up/decay schedule (AdafactorOptions::smop below).
//
// Per parameter p with gradient g, at step t (counted from 1):
//   lr_t    = lr                                   (relative_step off; on: min(1e-2 or 1e-6·t, 1/√t))
//             · max(eps2, RMS(p))                  (only with scale_parameter)
//   β2_t    = 1 − t^decay_rate
//   u       = g² + eps1
//   factored (p has ≥ 2 dims): R ← β2_t·R + (1−β2_t)·mean_last(u), C ← β2_t·C + (1−β2_t)·mean_second_last(u),
//             v̂ = (R / mean_last(R)) ⊗ C  (outer product over the last two dims), update = g / √v̂
//   otherwise: V ← β2_t·V + (1−β2_t)·u, update = g / √V
//   update /= max(1, RMS(update) / clip_threshold);  update *= lr_t
//   with beta1: M ← β1·M + (1−β1)·update, update = M
//   p ← p − weight_decay·lr_t·p  (decoupled, applied before the update), p ← p − update
// RMS(x) = ‖x‖₂ / √numel(x). Half-precision gradients and parameters are computed in fp32.
//
// The learning rate of each parameter group lives in its AdafactorOptions, read through
// OptimizerOptions::get_lr / set_lr, so the trainer's schedule sets it like AdamW's.
//
// State is kept privately per parameter (LibTorch 1.13 keys Optimizer::state_ by a string,
// 2.x by a pointer; a private map compiles against both). Saving and loading optimizer state
// is not supported: save() and load() throw. ptbench saves only trainable parameters.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include <torch/optim/optimizer.h>
#include <torch/types.h>

namespace ptbench {

struct AdafactorOptions : public torch::optim::OptimizerCloneableOptions<AdafactorOptions> {
  AdafactorOptions() = default;
  explicit AdafactorOptions(double lr) : lr_(lr) {}
  // The external learning rate (ignored when relative_step; the schedule sets it per step).
  TORCH_ARG(double, lr) = 1e-3;
  // Regularisation constants: eps1 added to the squared gradient, eps2 the floor of the
  // parameter scale (HF default (1e-30, 1e-3)).
  TORCH_ARG(double, eps1) = 1e-30;
  TORCH_ARG(double, eps2) = 1e-3;
  // Threshold of the update's RMS (HF default 1.0; the paper's d).
  TORCH_ARG(double, clip_threshold) = 1.0;
  // Exponent of the second-moment decay β2_t = 1 − t^decay_rate (HF default −0.8).
  TORCH_ARG(double, decay_rate) = -0.8;
  // First-moment coefficient; none (HF default) keeps no first moment.
  TORCH_ARG(std::optional<double>, beta1) = std::nullopt;
  // Decoupled weight decay, scaled by the step's learning rate (HF default 0; SMoP 1e-5).
  TORCH_ARG(double, weight_decay) = 0.0;
  // Scale the learning rate by max(eps2, RMS(p)) (HF default true; SMoP and HF's advice for
  // an external schedule: false — the default here).
  TORCH_ARG(bool, scale_parameter) = false;
  // Use the time-dependent step size min(1e-2, 1/√t) instead of lr (HF default true; SMoP and
  // HF's advice for an external schedule: false — the default here).
  TORCH_ARG(bool, relative_step) = false;
  // With relative_step: min(1e-6·t, 1/√t) instead (HF default false).
  TORCH_ARG(bool, warmup_init) = false;

 public:  // TORCH_ARG leaves the access private
  // SMoP's T5 optimizer: fixed external lr, no relative step, no parameter scale, weight decay 1e-5.
  static AdafactorOptions smop(double lr);
  // Fails (Error) on inconsistent options, as HF's constructor does: warmup_init without
  // relative_step, a non-positive lr without relative_step, negative weight decay,
  // clip_threshold ≤ 0, beta1 outside [0, 1).
  void validate() const;

  double get_lr() const override { return lr(); }
  void set_lr(const double lr) override { this->lr(lr); }
};

class Adafactor : public torch::optim::Optimizer {
 public:
  explicit Adafactor(std::vector<torch::optim::OptimizerParamGroup> param_groups,
                     AdafactorOptions defaults = {});
  explicit Adafactor(std::vector<torch::Tensor> params, AdafactorOptions defaults = {});

  torch::Tensor step(LossClosure closure = nullptr) override;
  // Not supported (see the file comment): throw.
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

  // The per-parameter state, exposed for tests and logging.
  struct ParamState {
    std::int64_t step = 0;
    double rms = 0.0;                // RMS(p) before the latest step
    torch::Tensor exp_avg;           // first moment (beta1 only)
    torch::Tensor exp_avg_sq_row;    // factored: [..., rows]
    torch::Tensor exp_avg_sq_col;    // factored: [..., cols]
    torch::Tensor exp_avg_sq;        // unfactored: like p
  };
  // nullptr before the parameter's first step.
  const ParamState* state_of(const torch::Tensor& param) const;
  // The step size a group's options give a parameter with this state (HF Adafactor._get_lr).
  static double step_size(const AdafactorOptions& options, const ParamState& state);

 private:
  std::unordered_map<const void*, ParamState> states_;
};

}  // namespace ptbench
