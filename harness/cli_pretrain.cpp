// `ptbench pretrain`: pretrains a small backbone from the shipped corpus and writes a Hugging
// Face model folder (backbones/pretrain/pretrain.h). A recipe file (experiments/pretrain/*.json)
// holds everything; the flags below override its keys.
#include <cstdio>
#include <iostream>

#include <torch/torch.h>

#include "backbones/pretrain/pretrain.h"
#include "common/error.h"
#include "common/files.h"
#include "harness/bench.h"
#include "harness/cli.h"
#include "harness/config.h"
#include "harness/meters.h"

namespace ptbench {
namespace {

struct PretrainArguments {
  std::string recipe_file, arch, geometry, config_file, corpus, tokenizer, out_dir, device;
  std::vector<std::string> sets;
  std::int64_t steps = -1, batch = -1, seq = -1, threads = -1, seed = -1;
  std::int64_t gemm_size = 2048;
  std::int64_t stop_after = 0;
  bool resume = false;
  bool quiet = false;
};

int command_pretrain(const PretrainArguments& arguments) {
  nlohmann::json file = arguments.recipe_file.empty() ? nlohmann::json::object() : read_json_file(arguments.recipe_file);
  nlohmann::json flags = nlohmann::json::object();
  if (!arguments.arch.empty()) flags["arch"] = arguments.arch;
  if (!arguments.geometry.empty()) {
    flags["geometry"] = arguments.geometry;
    flags["model_config"] = nullptr;  // a named geometry replaces the recipe's model
  }
  if (!arguments.config_file.empty()) {
    flags["geometry"] = "";
    flags["model_config"] = nullptr;
  }
  if (!arguments.corpus.empty()) flags["data"]["corpus"] = arguments.corpus;
  if (!arguments.tokenizer.empty()) flags["tokenizer"] = arguments.tokenizer;
  if (!arguments.device.empty()) flags["train"]["device"] = arguments.device;
  if (arguments.steps > 0) flags["train"]["steps"] = arguments.steps;
  if (arguments.batch > 0) flags["train"]["batch_size"] = arguments.batch;
  if (arguments.seq > 0) flags["data"]["seq_length"] = arguments.seq;
  if (arguments.threads >= 0) flags["train"]["threads"] = arguments.threads;
  if (arguments.seed >= 0) flags["train"]["seed"] = arguments.seed;
  // merge-patch: null deletes, so model_config is reset first and then set from the file.
  std::vector<nlohmann::json> patches{flags};
  if (!arguments.config_file.empty()) patches.push_back({{"model_config", read_json_file(arguments.config_file)}});
  for (const std::string& assignment : arguments.sets) patches.push_back(parse_set_override(assignment));
  nlohmann::json patched_file = file;
  for (const nlohmann::json& patch : patches) {
    check_known_keys(patch, pretrain::default_recipe(), "pretrain options");
    apply_merge_patch(patched_file, patch);
  }
  const nlohmann::json recipe = pretrain::resolve_recipe(patched_file, {});

  pretrain::PretrainRun run;
  run.out_dir = arguments.out_dir;
  run.resume = arguments.resume;
  run.stop_after_steps = arguments.stop_after;
  run.quiet = arguments.quiet;
  run.environment = environment_info();
  run.environment["allocator"] = configure_allocator();
  if (recipe["train"]["threads"].get<std::int64_t>() > 0) torch::set_num_threads(static_cast<int>(recipe["train"]["threads"].get<std::int64_t>()));
  // The GEMM rate of this machine, measured as `ptbench bench` does, so the log can state the
  // training step's share of it (CPU runs only: a GPU's rate is another matter).
  if (arguments.gemm_size > 0 && recipe["train"]["device"] == "cpu") run.gemm_gflops = measure_gemm_gflops(arguments.gemm_size);
  std::fprintf(stderr, "pretrain: %s (%s) → %s\n", recipe["arch"].get<std::string>().c_str(),
               recipe["geometry"].get<std::string>().empty() ? "model_config" : recipe["geometry"].get<std::string>().c_str(),
               arguments.out_dir.c_str());
  const pretrain::PretrainOutcome outcome = pretrain::run_pretraining(recipe, run);
  std::cout << nlohmann::json{{"out", arguments.out_dir},
                              {"steps", outcome.steps},
                              {"finished", outcome.finished},
                              {"stopped_by_time", outcome.stopped_by_time},
                              {"eval_loss", outcome.eval_loss},
                              {"eval_accuracy", outcome.eval_accuracy},
                              {"tokens_per_s", outcome.tokens_per_second},
                              {"gemm_gflops", run.gemm_gflops},
                              {"log", outcome.log_path.string()}}
                   .dump(2)
            << "\n";
  return 0;
}

}  // namespace

CliCommand add_pretrain_command(CLI::App& app) {
  auto arguments = std::make_shared<PretrainArguments>();
  CLI::App* command = app.add_subcommand(
      "pretrain", "pretrain a small BERT/RoBERTa (masked LM) or T5 (span corruption) from a text corpus; writes a HF model folder");
  command->add_option("--recipe", arguments->recipe_file, "recipe JSON (experiments/pretrain/*.json); flags override its keys")
      ->check(CLI::ExistingFile);
  command->add_option("--arch", arguments->arch, "bert, roberta or t5")->check(CLI::IsMember({"bert", "roberta", "t5"}));
  auto* geometry = command->add_option("--geometry", arguments->geometry, "named geometry (bert-mini, t5-small, …)");
  command->add_option("--config", arguments->config_file, "a HF config.json for the model instead of --geometry")
      ->check(CLI::ExistingFile)
      ->excludes(geometry);
  command->add_option("--corpus", arguments->corpus, "corpus root: <corpus>/<source>/NNNN.txt.gz (default ../shared/corpus)");
  command->add_option("--tokenizer", arguments->tokenizer, "tokenizer folder (default: the shared vocabulary of --arch)");
  command->add_option("--out", arguments->out_dir, "output model folder (also holds the checkpoint and pretrain_log.jsonl)")
      ->required();
  command->add_flag("--resume", arguments->resume, "continue from the checkpoint in --out (starts fresh when there is none)");
  command->add_option("--device", arguments->device, "cpu, cuda or cuda:N");
  command->add_option("--steps", arguments->steps, "optimizer steps (train.steps)");
  command->add_option("--batch", arguments->batch, "sequences per optimizer step (train.batch_size)");
  command->add_option("--seq", arguments->seq, "sequence length (data.seq_length)");
  command->add_option("--threads", arguments->threads, "intra-op threads (0 = LibTorch's default: its count of physical cores, 1 on some VMs, while OpenBLAS still runs its own threads in matrix products; records say how many ran)");
  command->add_option("--seed", arguments->seed, "random seed (train.seed)");
  command->add_option("--set", arguments->sets, "override any recipe key: --set train.lr=1e-3 --set data.sources='[\"wikipedia\"]'")
      ->take_all();
  command->add_option("--gemm", arguments->gemm_size, "n of the n^3 fp32 GEMM measured for the log (0 skips)");
  command->add_option("--stop-after", arguments->stop_after, "stop after N steps as if killed (testing resume)");
  command->add_flag("--quiet", arguments->quiet, "no progress lines");
  return {command, [arguments] { return command_pretrain(*arguments); }};
}

}  // namespace ptbench
