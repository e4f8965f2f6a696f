#include "harness/trainer.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <set>

#include <torch/torch.h>

#include "backbones/checkpoint.h"
#include "backbones/ops.h"
#include "common/error.h"
#include "common/files.h"
#include "common/paths.h"
#include "harness/adafactor.h"
#include "harness/meters.h"

namespace ptbench {
namespace fs = std::filesystem;

std::unique_ptr<tok::Tokenizer> tokenizer_for(const RunSpec& spec, const LoadedBackbone& backbone, std::string& source) {
  if (!spec.tokenizer.empty()) {
    source = spec.tokenizer;
    return tok::load_tokenizer(spec.tokenizer);
  }
  std::error_code ec;
  if (!backbone.source.empty()) {
    for (const char* file : {"vocab.txt", "vocab.json", "spiece.model"}) {
      if (fs::exists(backbone.source / file, ec)) {
        source = backbone.source.string();
        return tok::load_tokenizer(backbone.source);
      }
    }
  }
  const std::string& arch = backbone.backbone->geometry().arch;
  const fs::path vocab = vocab_dir();
  if (arch == "bert") {
    source = (vocab / "bert-base-uncased").string() + " (default for bert; the model folder has no tokenizer files)";
    return tok::make_wordpiece(vocab / "bert-base-uncased" / "vocab.txt", true);
  }
  if (arch == "roberta") {
    source = (vocab / "gpt2").string() + " (default for roberta; the model folder has no tokenizer files)";
    return tok::make_byte_bpe(vocab / "gpt2" / "vocab.json", vocab / "gpt2" / "merges.txt", true, false);
  }
  if (arch == "t5") {
    source = (vocab / "t5").string() + " (default for t5)";
    return tok::make_sentencepiece(vocab / "t5" / "spiece.model");
  }
  fail("no tokenizer for architecture '", arch, "': pass --tokenizer DIR");
}

RunSetup prepare_run(const RunSpec& spec) {
  RunSetup setup;
  torch::manual_seed(static_cast<std::uint64_t>(spec.train.seed));
  if (!spec.geometry.empty()) {
    setup.backbone = make_backbone_from_geometry(spec.geometry, static_cast<std::uint64_t>(spec.train.seed));
  } else {
    setup.backbone = load_backbone(resolve_model_path(spec.backbone), spec.weights_file);
  }
  setup.tokenizer = tokenizer_for(spec, setup.backbone, setup.tokenizer_source);
  if (setup.tokenizer->vocab_size() > static_cast<std::size_t>(setup.backbone.backbone->geometry().vocab)) {
    fail("tokenizer ", setup.tokenizer_source, " has ", setup.tokenizer->vocab_size(), " tokens but the backbone's vocabulary has ",
         setup.backbone.backbone->geometry().vocab, ": pass the model's own tokenizer with --tokenizer");
  }
  setup.task = make_task(spec.task);
  setup.data_dir = spec.data_dir.empty() ? data_dir() : fs::path(spec.data_dir);
  TaskContext context;
  context.data_dir = setup.data_dir;
  context.tokenizer = setup.tokenizer.get();
  context.backbone_kind = setup.backbone.backbone->geometry().kind;
  context.max_seq_length = spec.train.max_seq_length;
  context.pad_to_max_length = spec.train.pad_to_max_length;
  context.max_train_examples = spec.train.max_train_examples;
  context.max_eval_examples = spec.train.max_eval_examples;
  context.template_id = spec.task_options.template_id;
  context.doc_stride = spec.task_options.doc_stride;
  context.n_best_size = spec.task_options.n_best_size;
  context.max_answer_length = spec.task_options.max_answer_length;
  context.null_score_diff_threshold = spec.task_options.null_score_diff_threshold;
  context.text_scoring = spec.task_options.text_scoring;
  context.max_target_length = spec.task_options.max_target_length;
  context.num_beams = spec.task_options.num_beams;
  setup.task->load(context);

  HeadSpec head_spec = setup.task->head();
  head_spec.pooling = parse_head_pooling(spec.head_pooling);
  const nlohmann::json& config = setup.backbone.backbone->hf_config();
  double dropout = spec.head_dropout;
  if (dropout < 0) {
    const nlohmann::json classifier_dropout = config.value("classifier_dropout", nlohmann::json());
    dropout = classifier_dropout.is_number() ? classifier_dropout.get<double>() : config.value("hidden_dropout_prob", 0.1);
  }
  Head head(head_spec, setup.backbone.backbone->geometry(), dropout);
  setup.head_note = head->load_from(setup.backbone.head_tensors, config.value("initializer_range", 0.02));
  Method method = make_method(spec.method, spec.method_options);
  setup.model = Model(setup.backbone.backbone, method, head);
  return setup;
}

namespace {

// Parameter groups as the HF Trainer builds them: no weight decay on biases and LayerNorm
// weights (transformers Trainer.get_decay_parameter_names).
std::vector<torch::optim::OptimizerParamGroup> adamw_groups(const Model& model, const TrainOptions& options) {
  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& item : model->named_parameters(true)) {
    if (!item.value().requires_grad()) continue;
    const std::string& name = item.key();
    const bool is_bias = name.size() >= 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
    const bool is_norm = name.find("LayerNorm") != std::string::npos || name.find("layer_norm") != std::string::npos;
    (is_bias || is_norm ? no_decay : decay).push_back(item.value());
  }
  auto make = [&](std::vector<torch::Tensor> params, double weight_decay) {
    auto group_options = std::make_unique<torch::optim::AdamWOptions>(options.lr);
    group_options->betas({options.adam_beta1, options.adam_beta2}).eps(options.adam_epsilon).weight_decay(weight_decay);
    return torch::optim::OptimizerParamGroup(std::move(params), std::move(group_options));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (!decay.empty()) groups.push_back(make(decay, options.weight_decay));
  if (!no_decay.empty()) groups.push_back(make(no_decay, 0.0));
  return groups;
}

// The optimizer a spec names. AdamW follows the HF Trainer (no decay on biases and norms);
// Adafactor follows the T5 reference code (SMoP scripts/train.py: Adafactor over all trainable
// parameters with relative_step and scale_parameter off, a fixed external lr under the
// schedule, weight decay train.weight_decay — SMoP uses 1e-5).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const Model& model, const TrainOptions& options) {
  if (options.optimizer == "adafactor") {
    AdafactorOptions adafactor(options.lr);
    adafactor.weight_decay(options.weight_decay).scale_parameter(false).relative_step(false);
    adafactor.validate();
    return std::make_unique<Adafactor>(model->trainable_parameters(), adafactor);
  }
  return std::make_unique<torch::optim::AdamW>(adamw_groups(model, options));
}

// Learning-rate multiplier at a step (HF get_linear_schedule_with_warmup /
// get_constant_schedule_with_warmup).
double schedule_factor(const TrainOptions& options, std::int64_t step, std::int64_t total, std::int64_t warmup) {
  if (step < warmup) return static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(1, warmup));
  if (options.schedule == "constant") return 1.0;
  return std::max(0.0, static_cast<double>(total - step) / static_cast<double>(std::max<std::int64_t>(1, total - warmup)));
}

class Progress {
 public:
  Progress(std::string label, std::int64_t total, std::int64_t log_every)
      : label_(std::move(label)), total_(total), terminal_(isatty(STDERR_FILENO) == 1),
        log_every_(log_every > 0 ? log_every : std::max<std::int64_t>(1, total / 10)) {}
  void update(std::int64_t done, double loss, double elapsed_ms) {
    const double eta_s = done > 0 ? elapsed_ms / 1000.0 / static_cast<double>(done) * static_cast<double>(total_ - done) : 0;
    if (terminal_) {
      const int width = 30;
      const int filled = total_ > 0 ? static_cast<int>(width * done / total_) : width;
      std::fprintf(stderr, "\r%s [%s%s] %lld/%lld loss %.4f eta %.0fs ", label_.c_str(), std::string(filled, '#').c_str(),
                   std::string(width - filled, '.').c_str(), static_cast<long long>(done), static_cast<long long>(total_),
                   loss, eta_s);
      if (done == total_) std::fprintf(stderr, "\n");
    } else if (done % log_every_ == 0 || done == total_) {
      std::fprintf(stderr, "%s step %lld/%lld loss %.4f eta %.0fs\n", label_.c_str(), static_cast<long long>(done),
                   static_cast<long long>(total_), loss, eta_s);
    }
    std::fflush(stderr);
  }

 private:
  std::string label_;
  std::int64_t total_;
  bool terminal_;
  std::int64_t log_every_;
};

struct EvalResult {
  nlohmann::json metrics;
  double seconds = 0;
  std::int64_t examples = 0;
};

EvalResult evaluate(RunSetup& setup, Split split, std::int64_t batch_size) {
  EvalResult result;
  Stopwatch watch;
  setup.model->eval();
  torch::InferenceMode inference;
  const std::vector<Batch> batches = setup.task->batches(split, batch_size, nullptr);
  std::vector<torch::Tensor> outputs;
  for (const Batch& batch : batches) {
    outputs.push_back(evaluation_output(setup.model, *setup.task, batch));
    result.examples += batch.size();
  }
  result.metrics = setup.task->evaluate(split, batches, outputs);
  result.seconds = watch.elapsed_ms() / 1000.0;
  return result;
}

}  // namespace

torch::Tensor evaluation_output(Model& model, const Task& task, const Batch& batch) {
  switch (task.eval_output()) {
    case EvalOutput::head_output:
      return model->forward(batch.input);
    case EvalOutput::generated_ids: {
      const GenerationRequest request = task.generation();
      GenerationOptions options;
      options.max_new_tokens = request.max_new_tokens;
      options.num_beams = request.num_beams;
      return model->generate(batch.input, options);
    }
    case EvalOutput::candidate_scores:
      return model->score_candidates(batch.input, task.generation().candidates);
  }
  return {};
}

nlohmann::json evaluate_split(RunSetup& setup, Split split, std::int64_t batch_size) {
  return evaluate(setup, split, batch_size).metrics;
}

TrainOutcome train_run(const RunSpec& spec, const fs::path& out_dir) {
  Stopwatch wall;
  nlohmann::json record;
  record["schema_version"] = kRunRecordSchemaVersion;
  record["run_id"] = spec.run_id();
  record["spec"] = spec.to_json();
  record["started_at"] = iso_time_now();
  record["allocator"] = configure_allocator();
  if (spec.train.threads > 0) torch::set_num_threads(static_cast<int>(spec.train.threads));
  record["environment"] = environment_info();
  const fs::path record_path = out_dir / (spec.run_id() + ".json");
  fs::create_directories(out_dir);

  try {
    RunSetup setup = prepare_run(spec);
    Model& model = setup.model;
    Task& task = *setup.task;
    record["task"] = {{"name", task.name()}, {"version", task.version()}, {"head", to_string(task.head().kind)},
                      {"primary_metric", task.primary_metric()}, {"data", task.data_notes()},
                      {"data_dir", setup.data_dir.string()}};
    record["backbone"] = {{"source", setup.backbone.source.string()}, {"weights", setup.backbone.weights_file},
                          {"geometry", setup.backbone.backbone->geometry().to_json()}, {"notes", setup.backbone.notes},
                          {"tokenizer", setup.tokenizer_source}, {"head", setup.head_note}};
    record["method"] = {{"name", model->method->name()}, {"options", model->method->options_json()},
                        {"trains_backbone", model->method->trains_backbone()}};
    const ParameterCounts counts = model->parameter_counts();
    record["parameters"] = counts.to_json();
    record["selection"] = {{"selected_on", "validation"}, {"reported", "validation"},
                           {"note", "as the papers do: the best epoch on dev is selected and its dev score reported"}};

    std::unique_ptr<torch::optim::Optimizer> optimizer_owner = make_optimizer(model, spec.train);
    torch::optim::Optimizer& optimizer = *optimizer_owner;
    std::mt19937_64 rng(static_cast<std::uint64_t>(spec.train.seed));
    const std::int64_t batches_per_epoch =
        (task.size(Split::train) + spec.train.batch_size - 1) / spec.train.batch_size;
    if (batches_per_epoch == 0) fail("task ", task.name(), " has no training examples");
    std::int64_t total_steps = spec.train.epochs * batches_per_epoch;
    if (spec.train.max_steps > 0) total_steps = spec.train.epochs > 0 ? std::min(total_steps, spec.train.max_steps) : spec.train.max_steps;
    const std::int64_t epochs = (total_steps + batches_per_epoch - 1) / batches_per_epoch;
    const std::int64_t warmup = spec.train.warmup_steps > 0
                                    ? spec.train.warmup_steps
                                    : static_cast<std::int64_t>(std::ceil(spec.train.warmup_ratio * static_cast<double>(total_steps)));
    record["schedule"] = {{"total_steps", total_steps}, {"warmup_steps", warmup}, {"batches_per_epoch", batches_per_epoch}};

    std::vector<double> step_ms;
    std::int64_t step = 0, examples_seen = 0, real_tokens = 0, padded_tokens = 0;
    ops::FlopCount train_flops;
    double best_score = -std::numeric_limits<double>::infinity();
    std::int64_t best_epoch = -1, epochs_without_improvement = 0;
    TensorMap best_state;
    nlohmann::json epochs_json = nlohmann::json::array();
    nlohmann::json best_metrics;
    std::string status = "ok";
    double train_seconds = 0, eval_seconds = 0;
    std::int64_t eval_examples = 0;
    const std::string primary = task.primary_metric();

    for (std::int64_t epoch = 0; epoch < epochs && step < total_steps; ++epoch) {
      model->train();
      const std::vector<Batch> batches = task.batches(Split::train, spec.train.batch_size, &rng);
      Progress progress("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(epochs),
                        std::min<std::int64_t>(batches.size(), total_steps - step), spec.train.log_every);
      double loss_sum = 0;
      std::int64_t loss_count = 0, done = 0;
      Stopwatch epoch_watch;
      for (const Batch& batch : batches) {
        if (step >= total_steps) break;
        const double factor = schedule_factor(spec.train, step, total_steps, warmup);
        for (auto& group : optimizer.param_groups()) group.options().set_lr(spec.train.lr * factor);
        Stopwatch step_watch;
        ops::FlopScope flop_scope;
        optimizer.zero_grad();
        torch::Tensor logits = model->forward(batch.input);
        torch::Tensor loss = task.loss(logits, batch);
        // Method-specific training terms (SMoP's router load-balancing loss) join the task loss.
        if (torch::Tensor auxiliary = model->method->auxiliary_loss(); auxiliary.defined()) loss = loss + auxiliary;
        loss.backward();
        if (spec.train.max_grad_norm > 0) {
          torch::nn::utils::clip_grad_norm_(model->trainable_parameters(), spec.train.max_grad_norm);
        }
        optimizer.step();
        const double loss_value = loss.item<double>();
        step_ms.push_back(step_watch.elapsed_ms());
        const ops::FlopCount counted = flop_scope.count();
        train_flops.forward += counted.forward;
        train_flops.backward += counted.backward;
        ++step;
        ++done;
        examples_seen += batch.size();
        real_tokens += batch.real_tokens;
        padded_tokens += batch.padded_tokens;
        if (!std::isfinite(loss_value)) {
          status = "diverged";
          break;
        }
        loss_sum += loss_value;
        ++loss_count;
        progress.update(done, loss_sum / static_cast<double>(loss_count), epoch_watch.elapsed_ms());
      }
      train_seconds += epoch_watch.elapsed_ms() / 1000.0;
      if (status == "diverged") break;
      EvalResult eval = evaluate(setup, Split::validation, spec.train.eval_batch_size);
      eval_seconds += eval.seconds;
      eval_examples += eval.examples;
      const double score = eval.metrics.value(primary, 0.0);
      epochs_json.push_back({{"epoch", epoch + 1},
                             {"steps", step},
                             {"train_loss", loss_count ? loss_sum / static_cast<double>(loss_count) : 0.0},
                             {"validation", eval.metrics}});
      std::fprintf(stderr, "epoch %lld: train loss %.4f, validation %s %.4f\n", static_cast<long long>(epoch + 1),
                   loss_count ? loss_sum / static_cast<double>(loss_count) : 0.0, primary.c_str(), score);
      if (score > best_score) {
        best_score = score;
        best_epoch = epoch + 1;
        best_metrics = eval.metrics;
        epochs_without_improvement = 0;
        if (spec.train.save_trainable) {
          best_state.clear();
          for (const auto& [name, tensor] : model->trainable_state()) best_state.emplace(name, tensor.clone());
        }
      } else if (spec.train.early_stopping_patience > 0 &&
                 ++epochs_without_improvement >= spec.train.early_stopping_patience) {
        break;
      }
    }

    // Step timing after warm-up: the first steps pay one-off allocation and thread start-up.
    const std::size_t skip = std::min<std::size_t>(step_ms.size() / 5, 3);
    const TimingStats timing = TimingStats::of(std::vector<double>(step_ms.begin() + skip, step_ms.end()));
    const double train_s = std::max(train_seconds, 1e-9);
    record["epochs"] = epochs_json;
    record["selected_epoch"] = best_epoch;
    record["metrics"] = best_metrics.is_null() ? nlohmann::json::object() : best_metrics;
    if (status == "ok" && best_metrics.is_object() && best_metrics.value("distinct_predictions", 2) <= 1) {
      status = "degenerate";  // every prediction is one class
    }
    record["costs"] = {
        {"step_time", timing.to_json("ms")},
        {"train_examples_per_s", static_cast<double>(examples_seen) / train_s},
        {"train_tokens_per_s_real", static_cast<double>(real_tokens) / train_s},
        {"train_tokens_per_s_padded", static_cast<double>(padded_tokens) / train_s},
        {"eval_examples_per_s", eval_seconds > 0 ? static_cast<double>(eval_examples) / eval_seconds : 0.0},
        {"train_flops_forward", train_flops.forward},
        {"train_flops_backward", train_flops.backward},
        {"train_flops_per_example", examples_seen ? static_cast<double>(train_flops.forward + train_flops.backward) / examples_seen : 0.0},
        {"process", ProcessCounters::now().to_json()},
        {"peak_rss_mb", ProcessCounters::now().peak_rss_mb},
        {"wall_s", wall.elapsed_ms() / 1000.0},
    };
    record["method_report"] = model->method->run_report();
    if (spec.train.save_trainable && !best_state.empty()) {
      const fs::path state_path = out_dir / (spec.run_id() + ".trainable.safetensors");
      save_safetensors(state_path, best_state, {{"format", "pt"}, {"run_id", spec.run_id()}, {"method", spec.method}});
      record["trainable_state"] = state_path.filename().string();
    }
    record["status"] = status;
  } catch (const std::exception& e) {
    record["status"] = "failed";
    std::string what = e.what();
    record["error"] = what.substr(0, what.find("\nException raised from"));
    record["finished_at"] = iso_time_now();
    write_json_atomic(record_path, record);
    throw;
  }
  record["finished_at"] = iso_time_now();
  write_json_atomic(record_path, record);
  return {record, record_path};
}

}  // namespace ptbench
