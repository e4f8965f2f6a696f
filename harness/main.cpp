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
    app.add_option("--threads", threads, "intra-op threads (0 = LibTorch's default: its count of physical cores, 1 on some VMs, while OpenBLAS still runs its own threads in matrix products; records say how many ran)");
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
  std::cout << nlohmann::json{{"run_id", spec.run_id()}, {"split", "validation"},
                              {"metrics", evaluate_split(setup, Split::validation, spec.train.eval_batch_size)}}
                   .dump(2)
            << "\n";
  return 0;
}

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// One entry of `bench --method`: a method name with optional options in brackets,
// "prompt[length=20]" or "smop[num_prompts=4;prompt_length=5]".
struct BenchVariant {
  std::string label;       // as written
  std::string method;
  std::vector<std::string> sets;  // "method.key=value"
};

std::vector<BenchVariant> parse_bench_variants(const std::string& text) {
  std::vector<BenchVariant> variants;
  std::string current;
  int depth = 0;
  auto flush = [&]() {
    if (current.empty()) return;
    BenchVariant variant;
    variant.label = current;
    const std::size_t open = current.find('[');
    variant.method = current.substr(0, open);
    if (open != std::string::npos) {
      if (current.back() != ']') fail("bench --method entry '", current, "' opens '[' without closing it");
      std::stringstream options(current.substr(open + 1, current.size() - open - 2));
      for (std::string assignment; std::getline(options, assignment, ';');)
        if (!assignment.empty()) variant.sets.push_back("method." + assignment);
    }
    variants.push_back(std::move(variant));
    current.clear();
  };
  for (char c : text) {
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (c == ',' && depth == 0) {
      flush();
    } else {
      current += c;
    }
  }
  flush();
  return variants;
}

int command_bench(BenchOptions options, const std::string& methods, const std::vector<std::string>& sets) {
  std::vector<BenchVariant> variants = parse_bench_variants(methods);
  if (variants.empty()) fail("bench: --method is empty");
  if (variants.size() == 1) {
    std::vector<std::string> all_sets = variants[0].sets;
    all_sets.insert(all_sets.end(), sets.begin(), sets.end());
    for (const std::string& assignment : all_sets) {
      nlohmann::json patch = parse_set_override(assignment);
      if (!patch.contains("method") || patch.size() != 1) fail("bench --set takes method.* keys only, got '", assignment, "'");
      options.method_options.merge_patch(patch["method"]);
    }
    options.method = variants[0].method;
    make_method(options.method, options.method_options);
    std::cout << run_bench(options).dump(2) << "\n";
    return 0;
  }
  if (!sets.empty()) fail("bench: with several methods give their options in brackets: --method 'prompt[length=20],smop'");
  for (const BenchVariant& variant : variants) {
    nlohmann::json method_options = nlohmann::json::object();
    for (const std::string& assignment : variant.sets) method_options.merge_patch(parse_set_override(assignment)["method"]);
    make_method(variant.method, method_options);  // validates before any child starts
  }
  // Several methods: each runs in its own child process so its peak memory is its own; step
  // times are then compared as ratios to the first method, all measured in this one run.
  nlohmann::json results = nlohmann::json::array();
  for (const BenchVariant& variant : variants) {
    std::string command = shell_quote("/proc/self/exe");
    char self[4096] = {0};
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) command = shell_quote(std::string(self, n));
    command += " bench --method " + shell_quote(variant.method) + " --batch " + std::to_string(options.batch) + " --seq " +
               std::to_string(options.seq) + " --target-seq " + std::to_string(options.target_seq) + " --steps " +
               std::to_string(options.steps) + " --warmup " + std::to_string(options.warmup_steps) + " --threads " +
               std::to_string(options.threads) + " --gemm " + std::to_string(options.gemm_size);
    for (const std::string& assignment : variant.sets) command += " --set " + shell_quote(assignment);
    command += options.geometry.empty() ? " --backbone " + shell_quote(options.backbone) : " --geometry " + shell_quote(options.geometry);
    std::fprintf(stderr, "bench: %s\n", variant.label.c_str());
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) fail("bench: cannot start a child process");
    std::string output;
    char buffer[4096];
    while (std::size_t got = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, got);
    if (pclose(pipe) != 0) fail("bench: the run for '", variant.label, "' failed (see its message above)");
    nlohmann::json result = nlohmann::json::parse(output);
    result["variant"] = variant.label;
    results.push_back(std::move(result));
  }
  const nlohmann::json& first = results[0];
  nlohmann::json summary = nlohmann::json::array();
  for (const nlohmann::json& r : results) {
    summary.push_back({{"method", r["variant"]},
                       {"step_ms_median", r["step_ms_median"]},
                       {"step_time_vs_first", r["step_ms_median"].get<double>() / first["step_ms_median"].get<double>()},
                       {"peak_rss_mb", r["peak_rss_mb"]},
                       {"peak_rss_vs_first", r["peak_rss_mb"].get<double>() / first["peak_rss_mb"].get<double>()},
                       {"infer_flops_vs_first", r["infer_flops_per_batch"].get<double>() / first["infer_flops_per_batch"].get<double>()},
                       {"encoder_input_length", r["encoder_input_length"]},
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
  bench->add_option("--method", bench_methods,
                    "method, or a comma-separated list, each in its own process, options in brackets: "
                    "'prompt[length=100],prompt[length=20],smop[num_prompts=4;prompt_length=5]'");
  bench->add_option("--set", bench_sets, "method options: --set method.prefix_length=20")->take_all();
  bench->add_option("--batch", bench_options.batch, "batch size");
  bench->add_option("--seq", bench_options.seq, "sequence length (encoder input, prompts excluded)");
  bench->add_option("--target-seq", bench_options.target_seq, "decoder target length (encoder-decoder backbones)");
  bench->add_option("--steps", bench_options.steps, "timed training steps");
  bench->add_option("--warmup", bench_options.warmup_steps, "untimed warm-up steps");
  bench->add_option("--threads", bench_options.threads, "intra-op threads (0 = LibTorch's default: its count of physical cores, 1 on some VMs, while OpenBLAS still runs its own threads in matrix products; records say how many ran)");
  bench->add_option("--gemm", bench_options.gemm_size, "n of the n^3 fp32 GEMM measured (0 skips)");

  CLI::App* info = app.add_subcommand("info", "registered backbones, methods, tasks and the environment");

  // Subcommands defined in harness/cli_*.cpp.
  std::vector<CliCommand> commands;
  commands.push_back(add_report_command(app));
  commands.push_back(add_pretrain_command(app));
  commands.push_back(add_sweep_command(app));
  commands.push_back(add_cost_command(app));

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
