#include "harness/adafactor.h"

#include <torch/torch.h>

#include <cmath>

#include "common/error.h"

namespace ptbench {

AdafactorOptions AdafactorOptions::smop(double lr) {
  // jyjohnchoi/SMoP scripts/train.py: Adafactor(tuning_params, lr=args.lr, relative_step=False,
  // weight_decay=1e-5, scale_parameter=False); the other arguments keep HF's defaults.
  AdafactorOptions options(lr);
  options.relative_step(false).scale_parameter(false).warmup_init(false).weight_decay(1e-5);
  return options;
}

void AdafactorOptions::validate() const {
  if (warmup_init() && !relative_step()) fail("Adafactor: warmup_init requires relative_step (as in HF Adafactor)");
  if (!relative_step() && !(lr() > 0)) fail("Adafactor: lr must be positive without relative_step, got ", lr());
  if (weight_decay() < 0) fail("Adafactor: weight_decay must not be negative, got ", weight_decay());
  if (!(clip_threshold() > 0)) fail("Adafactor: clip_threshold must be positive, got ", clip_threshold());
  if (beta1() && (*beta1() < 0 || *beta1() >= 1)) fail("Adafactor: beta1 must lie in [0, 1), got ", *beta1());
  if (eps1() < 0 || eps2() < 0) fail("Adafactor: eps1 and eps2 must not be negative");
}

namespace {

const AdafactorOptions& adafactor_options(const torch::optim::OptimizerParamGroup& group) {
  const auto* options = dynamic_cast<const AdafactorOptions*>(&group.options());
  TORCH_CHECK(options, "Adafactor: a parameter group carries options of another optimizer");
  return *options;
}

// HF Adafactor._rms: ‖x‖₂ / √numel, as a 0-dim tensor.
torch::Tensor rms(const torch::Tensor& x) {
  return x.norm(2) / std::sqrt(static_cast<double>(x.numel()));
}

// HF Adafactor._approx_sq_grad: (R / mean_last(R))^-1/2 ⊗ C^-1/2.
torch::Tensor approx_inverse_sqrt(const torch::Tensor& row, const torch::Tensor& col) {
  torch::Tensor r_factor = (row / row.mean(-1, /*keepdim=*/true)).rsqrt_().unsqueeze(-1);
  torch::Tensor c_factor = col.unsqueeze(-2).rsqrt();
  return r_factor * c_factor;
}

bool is_half(const torch::Tensor& t) {
  return t.scalar_type() == torch::kHalf || t.scalar_type() == torch::kBFloat16;
}

}  // namespace

Adafactor::Adafactor(std::vector<torch::optim::OptimizerParamGroup> param_groups, AdafactorOptions defaults)
    : torch::optim::Optimizer(std::move(param_groups), std::make_unique<AdafactorOptions>(defaults)) {
  defaults.validate();
  for (const auto& group : param_groups_) adafactor_options(group).validate();
}

Adafactor::Adafactor(std::vector<torch::Tensor> params, AdafactorOptions defaults)
    : Adafactor({torch::optim::OptimizerParamGroup(std::move(params))}, std::move(defaults)) {}

double Adafactor::step_size(const AdafactorOptions& options, const ParamState& state) {
  double step = options.lr();
  if (options.relative_step()) {
    const double min_step = options.warmup_init() ? 1e-6 * static_cast<double>(state.step) : 1e-2;
    step = std::min(min_step, 1.0 / std::sqrt(static_cast<double>(state.step)));
  }
  const double param_scale = options.scale_parameter() ? std::max(options.eps2(), state.rms) : 1.0;
  return param_scale * step;
}

const Adafactor::ParamState* Adafactor::state_of(const torch::Tensor& param) const {
  const auto found = states_.find(param.unsafeGetTensorImpl());
  return found == states_.end() ? nullptr : &found->second;
}

torch::Tensor Adafactor::step(LossClosure closure) {
  torch::Tensor loss;
  if (closure) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  torch::NoGradGuard no_grad;
  for (auto& group : param_groups_) {
    const AdafactorOptions& options = adafactor_options(group);
    for (torch::Tensor& param : group.params()) {
      if (!param.grad().defined()) continue;
      torch::Tensor grad = param.grad();
      TORCH_CHECK(!grad.is_sparse(), "Adafactor does not support sparse gradients");
      if (is_half(grad)) grad = grad.to(torch::kFloat32);
      const bool factored = grad.dim() >= 2;
      const bool first_moment = options.beta1().has_value();

      ParamState& state = states_[param.unsafeGetTensorImpl()];
      if (state.step == 0) {
        if (first_moment) state.exp_avg = torch::zeros_like(grad);
        if (factored) {
          std::vector<std::int64_t> row_shape(grad.sizes().begin(), grad.sizes().end() - 1);
          std::vector<std::int64_t> col_shape(grad.sizes().begin(), grad.sizes().end() - 2);
          col_shape.push_back(grad.size(-1));
          state.exp_avg_sq_row = torch::zeros(row_shape, grad.options());
          state.exp_avg_sq_col = torch::zeros(col_shape, grad.options());
        } else {
          state.exp_avg_sq = torch::zeros_like(grad);
        }
      }

      torch::Tensor param_fp32 = is_half(param) ? param.to(torch::kFloat32) : param;
      state.step += 1;
      state.rms = rms(param_fp32).item<double>();
      const double lr = step_size(options, state);

      const double beta2t = 1.0 - std::pow(static_cast<double>(state.step), options.decay_rate());
      torch::Tensor update = grad.square() + options.eps1();
      if (factored) {
        state.exp_avg_sq_row.mul_(beta2t).add_(update.mean(-1), 1.0 - beta2t);
        state.exp_avg_sq_col.mul_(beta2t).add_(update.mean(-2), 1.0 - beta2t);
        update = approx_inverse_sqrt(state.exp_avg_sq_row, state.exp_avg_sq_col);
        update.mul_(grad);
      } else {
        state.exp_avg_sq.mul_(beta2t).add_(update, 1.0 - beta2t);
        update = state.exp_avg_sq.rsqrt().mul_(grad);
      }
      update.div_((rms(update) / options.clip_threshold()).clamp_(1.0));
      update.mul_(lr);
      if (first_moment) {
        state.exp_avg.mul_(*options.beta1()).add_(update, 1.0 - *options.beta1());
        update = state.exp_avg;
      }
      if (options.weight_decay() != 0) param_fp32.add_(param_fp32, -options.weight_decay() * lr);
      param_fp32.add_(-update);
      if (is_half(param)) param.copy_(param_fp32);
    }
  }
  return loss;
}

void Adafactor::save(torch::serialize::OutputArchive& /*archive*/) const {
  fail("Adafactor: saving optimizer state is not supported (ptbench saves trainable parameters only)");
}

void Adafactor::load(torch::serialize::InputArchive& /*archive*/) {
  fail("Adafactor: loading optimizer state is not supported (ptbench saves trainable parameters only)");
}

}  // namespace ptbench
