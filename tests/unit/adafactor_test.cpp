// Adafactor (harness/adafactor.h) against an independent implementation of the Hugging Face
// transformers Adafactor formulas (src/transformers/optimization.py) written here with plain
// double loops: factored second moments for a 2-D parameter, a full one for a 1-D parameter,
// update clipping, decoupled weight decay, and the relative-step / parameter-scale / first
// moment variants. Parameters are float64 so the comparison can be tight.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "common/error.h"
#include "harness/adafactor.h"

namespace ptbench {
namespace {

struct Settings {
  double lr = 0.01;
  double eps1 = 1e-30, eps2 = 1e-3;
  double clip = 1.0;
  double decay_rate = -0.8;
  std::optional<double> beta1;
  double weight_decay = 0.0;
  bool scale_parameter = false, relative_step = false, warmup_init = false;
};

AdafactorOptions options_from(const Settings& s) {
  AdafactorOptions o(s.lr);
  o.eps1(s.eps1).eps2(s.eps2).clip_threshold(s.clip).decay_rate(s.decay_rate).beta1(s.beta1);
  o.weight_decay(s.weight_decay).scale_parameter(s.scale_parameter).relative_step(s.relative_step);
  o.warmup_init(s.warmup_init);
  return o;
}

// One parameter of shape rows × cols (rows = 1 and vector = true for a 1-D parameter) and the
// HF Adafactor state, stepped with the paper's / HF's formulas.
struct Reference {
  std::int64_t rows, cols;
  bool vector;
  std::vector<double> p, row_avg, col_avg, full_avg, first;
  std::int64_t step = 0;

  Reference(std::vector<double> init, std::int64_t r, std::int64_t c, bool is_vector)
      : rows(r), cols(c), vector(is_vector), p(std::move(init)), row_avg(r, 0.0), col_avg(c, 0.0),
        full_avg(r * c, 0.0), first(r * c, 0.0) {}

  static double rms(const std::vector<double>& x) {
    double s = 0;
    for (double v : x) s += v * v;
    return std::sqrt(s / static_cast<double>(x.size()));
  }

  void apply(const std::vector<double>& g, const Settings& s) {
    ++step;
    const double t = static_cast<double>(step);
    double lr = s.lr;
    if (s.relative_step) lr = std::min(s.warmup_init ? 1e-6 * t : 1e-2, 1.0 / std::sqrt(t));
    if (s.scale_parameter) lr *= std::max(s.eps2, rms(p));
    const double beta2t = 1.0 - std::pow(t, s.decay_rate);
    const std::size_t n = g.size();
    std::vector<double> update(n);
    if (!vector) {
      for (std::int64_t i = 0; i < rows; ++i) {
        double mean = 0;
        for (std::int64_t j = 0; j < cols; ++j) mean += g[i * cols + j] * g[i * cols + j] + s.eps1;
        row_avg[i] = beta2t * row_avg[i] + (1 - beta2t) * mean / static_cast<double>(cols);
      }
      for (std::int64_t j = 0; j < cols; ++j) {
        double mean = 0;
        for (std::int64_t i = 0; i < rows; ++i) mean += g[i * cols + j] * g[i * cols + j] + s.eps1;
        col_avg[j] = beta2t * col_avg[j] + (1 - beta2t) * mean / static_cast<double>(rows);
      }
      double row_mean = 0;
      for (double v : row_avg) row_mean += v;
      row_mean /= static_cast<double>(rows);
      for (std::int64_t i = 0; i < rows; ++i) {
        for (std::int64_t j = 0; j < cols; ++j) {
          const double v_hat = (row_avg[i] / row_mean) * col_avg[j];
          update[i * cols + j] = g[i * cols + j] / std::sqrt(v_hat);
        }
      }
    } else {
      for (std::size_t k = 0; k < n; ++k) {
        full_avg[k] = beta2t * full_avg[k] + (1 - beta2t) * (g[k] * g[k] + s.eps1);
        update[k] = g[k] / std::sqrt(full_avg[k]);
      }
    }
    const double clip = std::max(1.0, rms(update) / s.clip);
    for (double& u : update) u = u / clip * lr;
    if (s.beta1) {
      for (std::size_t k = 0; k < n; ++k) first[k] = *s.beta1 * first[k] + (1 - *s.beta1) * update[k];
      update = first;
    }
    for (std::size_t k = 0; k < n; ++k) {
      p[k] -= s.weight_decay * lr * p[k];
      p[k] -= update[k];
    }
  }
};

std::vector<double> values(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().contiguous().to(torch::kFloat64);
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// A deterministic gradient that differs per element and per step (some large, some tiny).
std::vector<double> gradient(std::size_t n, int step, double scale) {
  std::vector<double> g(n);
  for (std::size_t k = 0; k < n; ++k) g[k] = scale * std::sin(1.0 + 7.0 * k + 11.0 * step) * (k % 3 == 0 ? 5.0 : 0.2);
  return g;
}

void run_and_compare(const Settings& settings, int steps) {
  const std::int64_t rows = 3, cols = 4, length = 5;
  std::vector<double> w0(rows * cols), b0(length);
  for (std::size_t k = 0; k < w0.size(); ++k) w0[k] = 0.1 * static_cast<double>(k) - 0.5;
  for (std::size_t k = 0; k < b0.size(); ++k) b0[k] = 0.3 - 0.2 * static_cast<double>(k);
  torch::Tensor w = torch::tensor(w0, torch::kFloat64).view({rows, cols}).set_requires_grad(true);
  torch::Tensor b = torch::tensor(b0, torch::kFloat64).set_requires_grad(true);
  Adafactor optimizer(std::vector<torch::Tensor>{w, b}, options_from(settings));
  Reference w_ref(w0, rows, cols, false), b_ref(b0, 1, length, true);
  for (int step = 1; step <= steps; ++step) {
    const std::vector<double> gw = gradient(w0.size(), step, 1.0), gb = gradient(b0.size(), step + 100, 0.01);
    w.mutable_grad() = torch::tensor(gw, torch::kFloat64).view({rows, cols});
    b.mutable_grad() = torch::tensor(gb, torch::kFloat64);
    optimizer.step();
    w_ref.apply(gw, settings);
    b_ref.apply(gb, settings);
    const std::vector<double> w_now = values(w), b_now = values(b);
    for (std::size_t k = 0; k < w_now.size(); ++k) EXPECT_NEAR(w_now[k], w_ref.p[k], 1e-12) << "W[" << k << "] step " << step;
    for (std::size_t k = 0; k < b_now.size(); ++k) EXPECT_NEAR(b_now[k], b_ref.p[k], 1e-12) << "b[" << k << "] step " << step;
  }
  const Adafactor::ParamState* state = optimizer.state_of(w);
  ASSERT_NE(state, nullptr);
  EXPECT_EQ(state->step, steps);
  EXPECT_EQ(state->exp_avg_sq_row.sizes(), torch::IntArrayRef({rows}));
  EXPECT_EQ(state->exp_avg_sq_col.sizes(), torch::IntArrayRef({cols}));
  EXPECT_FALSE(state->exp_avg_sq.defined());
  const std::vector<double> row = values(state->exp_avg_sq_row), col = values(state->exp_avg_sq_col);
  for (std::int64_t i = 0; i < rows; ++i) EXPECT_NEAR(row[i], w_ref.row_avg[i], 1e-12 * std::max(1.0, w_ref.row_avg[i]));
  for (std::int64_t j = 0; j < cols; ++j) EXPECT_NEAR(col[j], w_ref.col_avg[j], 1e-12 * std::max(1.0, w_ref.col_avg[j]));
  EXPECT_TRUE(optimizer.state_of(b)->exp_avg_sq.defined());
}

TEST(Adafactor, SmopSettingsMatchTheFormulas) {
  // SMoP's T5 optimizer: fixed lr, no relative step, no parameter scale, weight decay 1e-5 —
  // with a large decay too, so that its term is visible at 1e-12.
  Settings s;
  s.lr = 0.3;
  s.weight_decay = 1e-5;
  run_and_compare(s, 4);
  s.weight_decay = 0.05;
  run_and_compare(s, 4);
  const AdafactorOptions smop = AdafactorOptions::smop(0.3);
  EXPECT_DOUBLE_EQ(smop.lr(), 0.3);
  EXPECT_DOUBLE_EQ(smop.weight_decay(), 1e-5);
  EXPECT_FALSE(smop.relative_step());
  EXPECT_FALSE(smop.scale_parameter());
  EXPECT_FALSE(smop.beta1().has_value());
  EXPECT_DOUBLE_EQ(smop.eps1(), 1e-30);
  EXPECT_DOUBLE_EQ(smop.eps2(), 1e-3);
  EXPECT_DOUBLE_EQ(smop.clip_threshold(), 1.0);
  EXPECT_DOUBLE_EQ(smop.decay_rate(), -0.8);
}

TEST(Adafactor, ClippingRelativeStepScaleAndFirstMoment) {
  Settings clipped;
  clipped.clip = 0.3;  // forces the RMS clip on most steps
  run_and_compare(clipped, 3);

  Settings hf_defaults;  // HF's own defaults: relative step and parameter scale on
  hf_defaults.relative_step = true;
  hf_defaults.scale_parameter = true;
  run_and_compare(hf_defaults, 3);

  Settings warmup = hf_defaults;
  warmup.warmup_init = true;
  warmup.beta1 = 0.9;
  warmup.weight_decay = 0.1;
  run_and_compare(warmup, 3);
}

TEST(Adafactor, ScheduleSetsTheGroupLearningRate) {
  Settings s;
  s.lr = 0.5;
  torch::Tensor w = torch::ones({2, 2}, torch::kFloat64).set_requires_grad(true);
  Adafactor optimizer(std::vector<torch::Tensor>{w}, options_from(s));
  Reference ref(std::vector<double>(4, 1.0), 2, 2, false);
  for (int step = 1; step <= 3; ++step) {
    const double lr = 0.5 * step / 3.0;  // what a warm-up schedule would set
    for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
    EXPECT_DOUBLE_EQ(optimizer.param_groups()[0].options().get_lr(), lr);
    s.lr = lr;
    const std::vector<double> g = gradient(4, step, 1.0);
    w.mutable_grad() = torch::tensor(g, torch::kFloat64).view({2, 2});
    optimizer.step();
    ref.apply(g, s);
  }
  const std::vector<double> now = values(w);
  for (std::size_t k = 0; k < now.size(); ++k) EXPECT_NEAR(now[k], ref.p[k], 1e-12);
}

TEST(Adafactor, Float32ParametersAndClosure) {
  Settings s;
  s.lr = 0.1;
  torch::Tensor w = torch::full({3, 2}, 0.5, torch::kFloat32).set_requires_grad(true);
  Adafactor optimizer(std::vector<torch::Tensor>{w}, options_from(s));
  Reference ref(std::vector<double>(6, 0.5), 3, 2, false);
  const torch::Tensor loss = optimizer.step([&] {
    optimizer.zero_grad();
    torch::Tensor l = (w * w * torch::arange(1, 7, torch::kFloat32).view({3, 2})).sum();
    l.backward();
    return l;
  });
  EXPECT_TRUE(loss.defined());
  std::vector<double> g(6);
  for (int k = 0; k < 6; ++k) g[k] = 2 * 0.5 * (k + 1);
  ref.apply(g, s);
  const std::vector<double> now = values(w);
  for (std::size_t k = 0; k < now.size(); ++k) EXPECT_NEAR(now[k], ref.p[k], 1e-6);
}

TEST(Adafactor, RejectsInconsistentOptionsAndStateSaving) {
  torch::Tensor w = torch::ones({2}, torch::kFloat64).set_requires_grad(true);
  AdafactorOptions warmup_without_relative(0.1);
  warmup_without_relative.warmup_init(true);
  EXPECT_THROW(Adafactor(std::vector<torch::Tensor>{w}, warmup_without_relative), Error);
  EXPECT_THROW(Adafactor(std::vector<torch::Tensor>{w}, AdafactorOptions(0.0)), Error);
  Adafactor optimizer(std::vector<torch::Tensor>{w}, AdafactorOptions(0.1));
  torch::serialize::OutputArchive archive;
  EXPECT_THROW(optimizer.save(archive), Error);
  // A parameter without a gradient is left alone.
  optimizer.step();
  EXPECT_EQ(optimizer.state_of(w), nullptr);
  EXPECT_TRUE(torch::equal(w, torch::ones({2}, torch::kFloat64)));
}

}  // namespace
}  // namespace ptbench
