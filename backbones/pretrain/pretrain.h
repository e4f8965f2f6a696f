// `ptbench pretrain`: pretrains a small BERT/RoBERTa (masked-language modelling) or T5 (span
// corruption) from the shipped corpus and writes an ordinary Hugging Face model folder
// (DESIGN.md section 5: no pretrained weights can be downloaded here, and prompt methods on a
// randomly initialised frozen backbone measure nothing).
//
// A recipe (experiments/pretrain/*.json) fixes the model, data, objective and optimisation; the
// loop runs AdamW with linear warm-up and decay, gradient clipping and accumulation, evaluates
// on a held-out shard, and checkpoints atomically. A resumed run continues with the same data
// order, masks and dropout as an uninterrupted one: every random draw of a step is derived from
// (seed, step), and the data stream's whole position is part of the checkpoint.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ptbench::pretrain {

// The recipe schema with every default (check_known_keys validates against it).
nlohmann::json default_recipe();

// Defaults ← recipe file ← patches (JSON merge-patch each), validated. Unknown keys, wrong types
// and inconsistent values are Errors naming the key.
nlohmann::json resolve_recipe(const nlohmann::json& file, const std::vector<nlohmann::json>& patches);

// The model's config.json a recipe stands for (geometry merged with model_config).
nlohmann::json recipe_model_config(const nlohmann::json& recipe);

struct PretrainRun {
  std::filesystem::path out_dir;          // the HF model folder written at the end (+ log, checkpoint)
  bool resume = false;                    // continue from out_dir/checkpoint when there is one
  std::int64_t stop_after_steps = 0;      // stop (as if killed) after this many steps; 0 = run to the end
  double gemm_gflops = 0;                 // the machine's GEMM rate, for achieved/GEMM in the log (0 = unknown)
  nlohmann::json environment;             // written into the log's first line
  bool quiet = false;                     // no progress lines on stderr
};

struct PretrainOutcome {
  std::int64_t steps = 0;                 // optimizer steps done (in total, across resumes)
  bool finished = false;                  // reached recipe.train.steps (or its time budget) and wrote the model
  bool stopped_by_time = false;           // train.max_minutes ended it early
  double eval_loss = 0, eval_accuracy = 0;
  double tokens_per_second = 0;           // median over logged intervals of this process
  std::filesystem::path log_path;
};

PretrainOutcome run_pretraining(const nlohmann::json& recipe, const PretrainRun& run);

// Where the checkpoint of an output folder lives.
std::filesystem::path checkpoint_path(const std::filesystem::path& out_dir);

}  // namespace ptbench::pretrain
