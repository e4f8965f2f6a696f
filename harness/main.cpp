// The ptbench command line: train, eval, bench, info.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include "backbones/factory.h"
#include "common/error.h"
#include "common/files.h"
#include "common/paths.h"
#include "harness/bench.h"
#include "harness/cli.h"
#include "harness/config.h"
#include "harness/meters.h"
#include "harness/run_spec.h"
#include "harness/trainer.h"
#include "methods/method.h"
#include "tasks/task.h"

namespace ptbench {
namespace {

struct SpecArguments {
  std::string config_file;
  std::vector<std::string> sets;
  std::string backbone, geometry, tokenizer, task, method, data_dir, models_dir;
  std::int64_t epochs = -1, max_train = -1, max_eval = -1, seed = -1, threads = -1;

  void add_to(CLI::App& app) {
    app.add_option("--config", config_file, "run spec JSON file (merged under the options below)")->check(CLI::ExistingFile);
    app.add_option("--backbone", backbone, "Hugging Face model folder, or a name under --models-dir");
    app.add_option("--geometry", geometry, "named geometry with random weights instead of --backbone");
    app.add_option("--tokenizer", tokenizer, "tokenizer folder (default: the backbone folder, else the shared vocabulary)");
    app.add_option("--task", task, "task name (see `ptbench info`)");
    app.add_option("--method", method, "method name (see `ptbench info`)");
    app.add_option("--set", sets, "override any spec key: --set train.lr=3e-4 --set method.prefix_length=20")->take_all();
    app.add_option("--epochs", epochs, "training epochs");
    app.add_option("--max-train-examples", max_train, "keep only the first N training examples");
    app.add_option("--max-eval-examples", max_eval, "keep only the first N evaluation examples");
    app.add_option("--seed", seed, "random seed");
    app.add_option("--threads", threads, "intra-op threads (0 = all cores)");
    app.add_option("--data-dir", data_dir, "data root (default: $PTBENCH_DATA, else ../shared/data)");
    app.add_option("--models-dir", models_dir, "models root for named backbones (default: $PTBENCH_MODELS, else ./models)");
  }

  RunSpec resolve() const {
    if (!models_dir.empty()) setenv("PTBENCH_MODELS", models_dir.c_str(), 1);
    nlohmann::json file = config_file.empty() ? nlohmann::json() : read_json_file(config_file);
    nlohmann::json flags = nlohmann::json::object();
    if (!backbone.empty()) flags["backbone"] = backbone;
    if (!geometry.empty()) flags["geometry"] = geometry;
    if (!tokenizer.empty()) flags["tokenizer"] = tokenizer;
    if (!task.empty()) flags["task"] = task;
    if (!method.empty()) flags["method"]["name"] = method;
    if (!data_dir.empty()) flags["data_dir"] = data_dir;
    if (epochs >= 0) flags["train"]["epochs"] = epochs;
    if (max_train >= 0) flags["train"]["max_train_examples"] = max_train;
    if (max_eval >= 0) flags["train"]["max_eval_examples"] = max_eval;
    if (seed >= 0) flags["train"]["seed"] = seed;
    if (threads >= 0) flags["train"]["threads"] = threads;
    std::vector<nlohmann::json> patches{flags};
    for (const std::string& assignment : sets) patches.push_back(parse_set_override(assignment));
    return resolve_run_spec(file, patches);
  }
};

int command_train(const SpecArguments& arguments, const std::string& out_dir) {
  const RunSpec spec = arguments.resolve();
  std::fprintf(stderr, "run %s: %s on %s with %s\n", spec.run_id().c_str(),
               (spec.backbone.empty() ? spec.geometry : spec.backbone).c_str(), spec.task.c_str(), spec.method.c_str());
  TrainOutcome outcome = train_run(spec, out_dir);
  std::cout << nlohmann::json{{"run_id", outcome.record["run_id"]},
                              {"status", outcome.record["status"]},
                              {"metrics", outcome.record["metrics"]},
                              {"record", outcome.record_path.string()}}
                   .dump(2)
            << "\n";
  return outcome.record["status"] == "failed" ? 1 : 0;
}

int command_eval(const std::string& record_file, const std::string& data_dir) {
  const nlohmann::json record = read_json_file(record_file);
  if (!record.contains("spec") || !record.contains("trainable_state")) {
    fail(record_file, " is not a finished run record with a saved trainable state (keys spec, trainable_state)");
  }
  std::vector<nlohmann::json> patches;
  if (!data_dir.empty()) patches.push_back({{"data_dir", data_dir}});
  RunSpec spec = resolve_run_spec(record["spec"], patches);
  RunSetup setup = prepare_run(spec);
  const std::filesystem::path state = std::filesystem::path(record_file).parent_path() / record["trainable_state"].get<std::string>();
  setup.model->load_trainable_state(load_safetensors(state), state.string());
  setup.model->eval();
  torch::InferenceMode inference;
  const std::vector<Batch> batches = setup.task->batches(Split::validation, spec.train.eval_batch_size, nullptr);
  std::vector<torch::Tensor> logits;
  for (const Batch& batch : batches) logits.push_back(setup.model->forward(batch.input));
  std::cout << nlohmann::json{{"run_id", spec.run_id()}, {"split", "validation"},
                              {"metrics", setup.task->evaluate(Split::validation, batches, logits)}}
                   .dump(2)
            << "\n";
  return 0;
}

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

int command_bench(BenchOptions options, const std::string& methods, const std::vector<std::string>& sets) {
  for (const std::string& assignment : sets) {
    nlohmann::json patch = parse_set_override(assignment);
    if (!patch.contains("method") || patch.size() != 1) fail("bench --set takes method.* keys only, got '", assignment, "'");
    options.method_options.merge_patch(patch["method"]);
  }
  std::vector<std::string> names;
  std::stringstream stream(methods);
  for (std::string name; std::getline(stream, name, ',');)
    if (!name.empty()) names.push_back(name);
  if (names.empty()) fail("bench: --method is empty");
  for (const std::string& name : names) make_method(name, names.size() == 1 ? options.method_options : nlohmann::json::object());
  if (names.size() == 1) {
    options.method = names[0];
    std::cout << run_bench(options).dump(2) << "\n";
    return 0;
  }
  // Several methods: each runs in its own child process so its peak memory is its own; step
  // times are then compared as ratios to the first method, all measured in this one run.
  nlohmann::json results = nlohmann::json::array();
  for (const std::string& name : names) {
    std::string command = shell_quote("/proc/self/exe");
    char self[4096] = {0};
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) command = shell_quote(std::string(self, n));
    command += " bench --method " + shell_quote(name) + " --batch " + std::to_string(options.batch) + " --seq " +
               std::to_string(options.seq) + " --steps " + std::to_string(options.steps) + " --warmup " +
               std::to_string(options.warmup_steps) + " --threads " + std::to_string(options.threads) + " --gemm " +
               std::to_string(options.gemm_size);
    command += options.geometry.empty() ? " --backbone " + shell_quote(options.backbone) : " --geometry " + shell_quote(options.geometry);
    std::fprintf(stderr, "bench: %s\n", name.c_str());
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) fail("bench: cannot start a child process");
    std::string output;
    char buffer[4096];
    while (std::size_t got = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, got);
    if (pclose(pipe) != 0) fail("bench: the run for method '", name, "' failed (see its message above)");
    results.push_back(nlohmann::json::parse(output));
  }
  const nlohmann::json& first = results[0];
  nlohmann::json summary = nlohmann::json::array();
  for (const nlohmann::json& r : results) {
    summary.push_back({{"method", r["method"]},
                       {"step_ms_median", r["step_ms_median"]},
                       {"step_time_vs_first", r["step_ms_median"].get<double>() / first["step_ms_median"].get<double>()},
                       {"peak_rss_mb", r["peak_rss_mb"]},
                       {"peak_rss_vs_first", r["peak_rss_mb"].get<double>() / first["peak_rss_mb"].get<double>()},
                       {"infer_flops_vs_first", r["infer_flops_per_batch"].get<double>() / first["infer_flops_per_batch"].get<double>()},
                       {"trainable_percent", r["parameters"]["trainable_percent"]},
                       {"achieved_over_gemm", r["achieved_over_gemm"]}});
  }
  std::cout << nlohmann::json{{"runs", results}, {"summary", summary}}.dump(2) << "\n";
  return 0;
}

int command_info() {
  nlohmann::json info;
  info["environment"] = environment_info();
  info["paths"] = {{"shared", shared_dir().string()}, {"data", data_dir().string()}, {"models", models_dir().string()},
                   {"vocab", vocab_dir().string()}};
  info["backbones"] = {{"architectures", {"bert", "roberta"}}, {"geometries", geometry_names()}};
  for (const MethodEntry& entry : method_registry()) {
    info["methods"].push_back({{"name", entry.name}, {"summary", entry.summary}, {"options", entry.default_options}});
  }
  for (const TaskEntry& entry : task_registry()) {
    info["tasks"].push_back({{"name", entry.name}, {"summary", entry.summary}});
  }
  std::cout << info.dump(2) << "\n";
  return 0;
}

int run(int argc, char** argv) {
  CLI::App app{"ptbench: parameter-efficient tuning benchmark and paper-replication harness"};
  app.require_subcommand(1);
  app.set_version_flag("--version", PTBENCH_VERSION);

  SpecArguments train_arguments;
  std::string out_dir = "results/runs";
  CLI::App* train = app.add_subcommand("train", "train and evaluate one run; writes its record to --out");
  train_arguments.add_to(*train);
  train->add_option("--out", out_dir, "folder for the run record (default results/runs)");

  std::string record_file, eval_data_dir;
  CLI::App* eval = app.add_subcommand("eval", "re-evaluate a finished run from its record and saved trainable state");
  eval->add_option("--run", record_file, "run record JSON")->required()->check(CLI::ExistingFile);
  eval->add_option("--data-dir", eval_data_dir, "data root");

  BenchOptions bench_options;
  std::string bench_methods = "full";
  std::vector<std::string> bench_sets;
  CLI::App* bench = app.add_subcommand("bench", "time training steps and inference batches; prints JSON");
  auto* geometry_option = bench->add_option("--geometry", bench_options.geometry, "named geometry (random weights)");
  bench->add_option("--backbone", bench_options.backbone, "model folder")->excludes(geometry_option);
  bench->add_option("--method", bench_methods, "method, or a comma-separated list (each in its own process)");
  bench->add_option("--set", bench_sets, "method options: --set method.prefix_length=20")->take_all();
  bench->add_option("--batch", bench_options.batch, "batch size");
  bench->add_option("--seq", bench_options.seq, "sequence length");
  bench->add_option("--steps", bench_options.steps, "timed training steps");
  bench->add_option("--warmup", bench_options.warmup_steps, "untimed warm-up steps");
  bench->add_option("--threads", bench_options.threads, "intra-op threads (0 = all cores)");
  bench->add_option("--gemm", bench_options.gemm_size, "n of the n^3 fp32 GEMM measured (0 skips)");

  CLI::App* info = app.add_subcommand("info", "registered backbones, methods, tasks and the environment");

  // Subcommands defined in harness/cli_*.cpp.
  std::vector<CliCommand> commands;

  CLI11_PARSE(app, argc, argv);
  for (const CliCommand& command : commands)
    if (command.app->parsed()) return command.run();
  if (train->parsed()) return command_train(train_arguments, out_dir);
  if (eval->parsed()) return command_eval(record_file, eval_data_dir);
  if (bench->parsed()) {
    if (bench_options.geometry.empty() && bench_options.backbone.empty()) fail("bench needs --geometry NAME or --backbone DIR");
    return command_bench(bench_options, bench_methods, bench_sets);
  }
  if (info->parsed()) return command_info();
  return 0;
}

}  // namespace
}  // namespace ptbench

int main(int argc, char** argv) {
  try {
    return ptbench::run(argc, argv);
  } catch (const ptbench::Error& e) {
    std::fprintf(stderr, "ptbench: error: %s\n", e.what());
    return 2;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "ptbench: error: %s\n", e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ptbench: internal error: %s\n", e.what());
    return 1;
  }
}
