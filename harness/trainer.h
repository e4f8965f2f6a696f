// The trainer (DESIGN.md section 3): builds Model = Backbone + Method + Head for a RunSpec,
// trains with AdamW and a linear or constant schedule, evaluates every epoch, selects the best
// epoch on the validation split, and writes the run record atomically.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "backbones/factory.h"
#include "backbones/tokenizers/tokenizer.h"
#include "harness/model.h"
#include "harness/run_spec.h"
#include "tasks/task.h"

namespace ptbench {

constexpr int kRunRecordSchemaVersion = 1;

// Everything built for a run before training.
struct RunSetup {
  LoadedBackbone backbone;
  std::unique_ptr<tok::Tokenizer> tokenizer;
  std::string tokenizer_source;
  std::unique_ptr<Task> task;
  Model model{nullptr};
  std::string head_note;
  std::filesystem::path data_dir;
};

// The tokenizer for a backbone: spec.tokenizer, else the tokenizer files in the backbone folder,
// else the shared vocabulary of its architecture (BERT uncased WordPiece, RoBERTa byte-level BPE,
// T5 SentencePiece). `source` receives a description for the record.
std::unique_ptr<tok::Tokenizer> tokenizer_for(const RunSpec& spec, const LoadedBackbone& backbone, std::string& source);

// Builds backbone, tokenizer, task (loaded) and model, seeded by spec.train.seed.
RunSetup prepare_run(const RunSpec& spec);

// What the task's evaluate() reads for one batch: the head output, or for text-to-text tasks the
// generated ids or candidate scores (Task::eval_output). Call under InferenceMode in eval().
torch::Tensor evaluation_output(Model& model, const Task& task, const Batch& batch);

// Evaluates a split batch by batch and returns the task's metrics.
nlohmann::json evaluate_split(RunSetup& setup, Split split, std::int64_t batch_size);

struct TrainOutcome {
  nlohmann::json record;
  std::filesystem::path record_path;
};

// Trains and evaluates one run and writes `<out_dir>/<run_id>.json` (and the trainable state as
// `<out_dir>/<run_id>.trainable.safetensors`). A failure that happens after the run started is
// recorded with status "failed" and rethrown.
TrainOutcome train_run(const RunSpec& spec, const std::filesystem::path& out_dir);

}  // namespace ptbench
