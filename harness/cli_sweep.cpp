// `ptbench sweep FILE`: expands an experiment file (harness/experiment.h) and runs what is
// missing from its output folder with the inline, local or Slurm executor (harness/sweep.h).
#include <cstdlib>
#include <iostream>
#include <memory>

#include "common/error.h"
#include "harness/cli.h"
#include "harness/config.h"
#include "harness/experiment.h"
#include "harness/sweep.h"

namespace ptbench {
namespace {

struct SweepArguments {
  std::string file;
  std::string out_dir;
  std::vector<std::string> sets;
  std::string data_dir, models_dir;
  std::string progress = "auto";
  SweepOptions options;
};

int command_sweep(const SweepArguments& arguments) {
  if (!arguments.models_dir.empty()) setenv("PTBENCH_MODELS", arguments.models_dir.c_str(), 1);
  std::vector<nlohmann::json> patches;
  if (!arguments.data_dir.empty()) patches.push_back({{"data_dir", arguments.data_dir}});
  for (const std::string& assignment : arguments.sets) patches.push_back(parse_set_override(assignment));
  const Experiment experiment = load_experiment(arguments.file, patches);

  SweepOptions options = arguments.options;
  if (!arguments.out_dir.empty()) {
    options.out_dir = arguments.out_dir;
  } else if (!experiment.out.empty()) {
    options.out_dir = experiment.out;
  } else {
    options.out_dir = std::filesystem::path("results") / "runs" / experiment.name;
  }
  if (arguments.progress == "live") {
    options.progress = ProgressStyle::live;
  } else if (arguments.progress == "plain") {
    options.progress = ProgressStyle::plain;
  } else if (arguments.progress != "auto") {
    fail("unknown --progress '", arguments.progress, "' (known: auto, live, plain)");
  }
  return run_sweep(experiment, options, std::cout);
}

}  // namespace

CliCommand add_sweep_command(CLI::App& app) {
  auto arguments = std::make_shared<SweepArguments>();
  CLI::App* sweep = app.add_subcommand(
      "sweep", "run an experiment file (grid × seeds) with resumable records; see experiments/README.md");
  sweep->add_option("file", arguments->file, "experiment JSON file")->required()->check(CLI::ExistingFile);
  sweep->add_flag("--dry-run", arguments->options.dry_run,
                  "print the expanded runs with their ids and whether their record exists; run nothing");
  sweep->add_option("--out", arguments->out_dir, "records folder (default: the file's \"out\", else results/runs/<name>)");
  sweep->add_option("--executor", arguments->options.executor.kind, "inline, local (child processes) or slurm")
      ->check(CLI::IsMember({"inline", "local", "slurm"}));
  sweep->add_option("--jobs", arguments->options.executor.jobs, "local: runs at once (each its own process)");
  sweep->add_option("--threads", arguments->options.executor.threads,
                    "intra-op threads in all, divided among the runs at once (0 = every core); a spec's own "
                    "train.threads wins");
  sweep->add_flag("--retry-failed", arguments->options.retry_failed, "run again the runs whose record says failed");
  sweep->add_option("--set", arguments->sets, "override a spec key in every run: --set train.epochs=1")->take_all();
  sweep->add_option("--data-dir", arguments->data_dir, "data root for every run (sets the spec's data_dir)");
  sweep->add_option("--models-dir", arguments->models_dir, "models root for named backbones ($PTBENCH_MODELS)");
  sweep->add_option("--progress", arguments->progress, "auto (live on a terminal, plain lines otherwise), live, plain");
  sweep->add_option("--partition", arguments->options.executor.slurm.partition, "slurm: partition");
  sweep->add_option("--time", arguments->options.executor.slurm.time, "slurm: time limit per run (\"1:00:00\")");
  sweep->add_option("--cpus-per-task", arguments->options.executor.slurm.cpus_per_task,
                    "slurm: CPUs per run, also its threads (default 1)");
  sweep->add_option("--gres", arguments->options.executor.slurm.gres, "slurm: generic resources (\"gpu:1\")");
  sweep->add_option("--sbatch", arguments->options.executor.slurm.extra,
                    "slurm: another sbatch option, written as an #SBATCH line (\"--account=nlp\"); repeatable");
  sweep->add_option("--poll", arguments->options.executor.slurm.poll_seconds, "slurm: seconds between squeue calls");
  return {sweep, [arguments] { return command_sweep(*arguments); }};
}

}  // namespace ptbench
