#include "harness/bench.h"

#include <torch/torch.h>

#include "backbones/factory.h"
#include "backbones/heads.h"
#include "backbones/ops.h"
#include "common/error.h"
#include "common/paths.h"
#include "harness/meters.h"
#include "harness/model.h"

namespace ptbench {

double measure_gemm_gflops(std::int64_t n) {
  torch::NoGradGuard no_grad;
  torch::Tensor a = torch::randn({n, n});
  torch::Tensor b = torch::randn({n, n});
  torch::Tensor c = torch::mm(a, b);  // warm-up
  std::vector<double> ms;
  for (int i = 0; i < 5; ++i) {
    Stopwatch watch;
    c = torch::mm(a, b);
    ms.push_back(watch.elapsed_ms());
  }
  const double seconds = TimingStats::of(ms).median / 1000.0;
  return 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n) / seconds / 1e9;
}

nlohmann::json run_bench(const BenchOptions& options) {
  nlohmann::json allocator = configure_allocator();
  if (options.threads > 0) torch::set_num_threads(static_cast<int>(options.threads));
  if (options.batch <= 0 || options.seq <= 0 || options.steps <= 0) fail("bench: --batch, --seq and --steps must be positive");
  torch::manual_seed(options.seed);
  LoadedBackbone loaded = options.geometry.empty() ? load_backbone(resolve_model_path(options.backbone))
                                                   : make_backbone_from_geometry(options.geometry, options.seed);
  const BackboneGeometry geometry = loaded.backbone->geometry();
  if (geometry.max_positions > 0 && options.seq > geometry.max_positions) {
    fail("bench: --seq ", options.seq, " exceeds the backbone's ", geometry.max_positions, " positions");
  }
  const bool seq2seq = geometry.kind == BackboneKind::encoder_decoder;
  if (seq2seq && options.target_seq <= 0) fail("bench: --target-seq must be positive for an encoder-decoder backbone");
  // Encoders: a sequence-classification head; encoder-decoders: the LM head over a short target.
  Head head(HeadSpec{seq2seq ? HeadKind::seq2seq : HeadKind::sequence_classification, options.num_labels}, geometry, 0.1);
  Method method = make_method(options.method, options.method_options);
  Model model(loaded.backbone, method, head);

  // Random token ids away from the special ids, a full attention mask, random labels.
  BackboneInput input;
  input.input_ids = torch::randint(1000, std::max<std::int64_t>(1001, geometry.vocab), {options.batch, options.seq}, torch::kInt64);
  input.attention_mask = torch::ones({options.batch, options.seq}, torch::kInt64);
  input.token_type_ids = torch::zeros({options.batch, options.seq}, torch::kInt64);
  torch::Tensor labels = torch::randint(0, options.num_labels, {options.batch}, torch::kInt64);
  if (seq2seq) {
    labels = torch::randint(1000, std::max<std::int64_t>(1001, geometry.vocab), {options.batch, options.target_seq}, torch::kInt64);
    input.token_type_ids = torch::Tensor();
    input.decoder_input_ids = torch::cat({torch::zeros({options.batch, 1}, torch::kInt64), labels.narrow(1, 0, options.target_seq - 1)}, 1);
  }
  // What the encoder really processes: prepended prompt positions + the text.
  std::int64_t encoder_input_length = options.seq;
  {
    torch::NoGradGuard no_grad;
    model->eval();  // no routing noise or statistics from this probe
    const Injection probe = method->inject(input, *loaded.backbone);
    if (probe.input_prefix.defined()) encoder_input_length += probe.input_prefix.size(1);
  }

  torch::optim::AdamW optimizer(model->trainable_parameters(), torch::optim::AdamWOptions(1e-5));
  auto train_step = [&]() {
    optimizer.zero_grad();
    torch::Tensor logits = model->forward(input);
    torch::Tensor loss = seq2seq ? torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}), labels.reshape({-1}))
                                 : torch::nn::functional::cross_entropy(logits, labels);
    if (torch::Tensor auxiliary = model->method->auxiliary_loss(); auxiliary.defined()) loss = loss + auxiliary;
    loss.backward();
    optimizer.step();
  };
  model->train();
  for (std::int64_t i = 0; i < options.warmup_steps; ++i) train_step();
  std::vector<double> step_ms;
  ops::FlopCount train_flops;
  const ProcessCounters before_train = ProcessCounters::now();
  for (std::int64_t i = 0; i < options.steps; ++i) {
    ops::FlopScope scope;
    Stopwatch watch;
    train_step();
    step_ms.push_back(watch.elapsed_ms());
    train_flops = scope.count();
  }
  const ProcessCounters train_counters = ProcessCounters::now().since(before_train);

  model->eval();
  std::vector<double> infer_ms;
  ops::FlopCount infer_flops;
  ProcessCounters infer_counters;
  {
    torch::InferenceMode inference;
    for (std::int64_t i = 0; i < options.warmup_steps; ++i) model->forward(input);
    const ProcessCounters before_infer = ProcessCounters::now();
    for (std::int64_t i = 0; i < options.infer_batches; ++i) {
      ops::FlopScope scope;
      Stopwatch watch;
      model->forward(input);
      infer_ms.push_back(watch.elapsed_ms());
      infer_flops = scope.count();
    }
    infer_counters = ProcessCounters::now().since(before_infer);
  }
  const TimingStats step = TimingStats::of(step_ms);
  const TimingStats infer = TimingStats::of(infer_ms);
  const double step_flops = static_cast<double>(train_flops.forward + train_flops.backward);
  const double gemm = options.gemm_size > 0 ? measure_gemm_gflops(options.gemm_size) : 0.0;
  const double achieved = step_flops / (step.median / 1000.0) / 1e9;
  const ParameterCounts counts = model->parameter_counts();
  const double steps = static_cast<double>(options.steps), batches = static_cast<double>(options.infer_batches);
  return {
      {"backbone", options.geometry.empty() ? options.backbone : options.geometry},
      {"geometry", geometry.to_json()},
      {"method", options.method},
      {"method_options", model->method->options_json()},
      {"batch", options.batch},
      {"seq", options.seq},
      {"target_seq", seq2seq ? options.target_seq : 0},
      {"encoder_input_length", encoder_input_length},
      {"threads", torch::get_num_threads()},
      {"step_ms_median", step.median},
      {"step_ms_p10", step.p10},
      {"step_ms_p90", step.p90},
      {"infer_ms_median", infer.median},
      {"infer_ms_p10", infer.p10},
      {"infer_ms_p90", infer.p90},
      {"train_flops_per_step", step_flops},
      {"train_forward_flops_per_step", train_flops.forward},
      {"infer_flops_per_batch", infer_flops.forward},
      {"infer_flops_per_example", static_cast<double>(infer_flops.forward) / static_cast<double>(options.batch)},
      {"achieved_gflops", achieved},
      {"infer_achieved_gflops", static_cast<double>(infer_flops.forward) / (infer.median / 1000.0) / 1e9},
      {"gemm_gflops", gemm},
      {"achieved_over_gemm", gemm > 0 ? achieved / gemm : 0.0},
      {"peak_rss_mb", ProcessCounters::now().peak_rss_mb},
      {"train_system_s_per_step", train_counters.system_seconds / steps},
      {"train_page_faults_per_step", static_cast<double>(train_counters.minor_faults) / steps},
      {"infer_system_s_per_batch", infer_counters.system_seconds / batches},
      {"infer_page_faults_per_batch", static_cast<double>(infer_counters.minor_faults) / batches},
      {"parameters", counts.to_json()},
      {"allocator", allocator},
      {"environment", environment_info()},
  };
}

}  // namespace ptbench
