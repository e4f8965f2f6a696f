// RunSpec: everything that determines one run, built from an optional JSON file plus
// `--set key=value` overrides (JSON merge-patch), validated strictly, and hashed to a stable
// run id (DESIGN.md section 2).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ptbench {

struct TrainOptions {
  std::int64_t epochs = 3;              // passes over the training split; 0 with max_steps > 0 = steps only
  std::int64_t max_steps = 0;           // stop after this many optimizer steps (0 = no limit)
  std::int64_t batch_size = 16;         // training batch size (P-Tuning v2 run_script default 16-32)
  std::int64_t eval_batch_size = 32;    // evaluation batch size
  std::string optimizer = "adamw";      // "adamw" (HF Trainer default); "adafactor" with the T5 backbone
  double lr = 2e-5;                     // peak learning rate (method-specific papers' values in experiments/)
  double weight_decay = 0.01;           // AdamW decoupled decay, not applied to biases and LayerNorm weights (HF Trainer)
  double adam_beta1 = 0.9;              // HF TrainingArguments default
  double adam_beta2 = 0.999;            // HF TrainingArguments default
  double adam_epsilon = 1e-8;           // HF TrainingArguments default
  std::string schedule = "linear";      // "linear" (warm-up then linear decay to 0) or "constant" (warm-up then flat)
  double warmup_ratio = 0.0;            // share of all steps spent warming up (SMoP: 0.06)
  std::int64_t warmup_steps = 0;        // overrides warmup_ratio when > 0
  double max_grad_norm = 1.0;           // global gradient-norm clip (HF default 1.0; 0 disables)
  std::int64_t seed = 42;               // seeds initialisation, dropout, shuffling and routing noise
  std::int64_t max_seq_length = 128;    // P-Tuning v2 scripts: 128 (152 CoNLL-03, 384 QA)
  bool pad_to_max_length = false;       // pad every batch to max_seq_length as the P-Tuning v2 scripts do
  std::int64_t max_train_examples = 0;  // keep only the first N training examples (0 = all)
  std::int64_t max_eval_examples = 0;   // keep only the first N evaluation examples (0 = all)
  std::int64_t early_stopping_patience = 0;  // epochs without improvement before stopping (0 disables)
  std::int64_t threads = 0;             // intra-op threads (0 = all cores); recorded in every run
  std::int64_t log_every = 0;           // plain progress line every N steps when not on a terminal (0 = 10 per epoch)
  bool save_trainable = true;           // write the selected epoch's trainable parameters (safetensors)

  nlohmann::json to_json() const;
  static TrainOptions from_json(const nlohmann::json& json);
  void validate() const;
};

// Task-side settings that are not training options; they reach the task through TaskContext
// (tasks/task.h, where each is documented with its source).
struct TaskOptions {
  int template_id = -1;                      // WiC/WSC input template of the P-Tuning v2 code (-1 = its scripts' choice)
  std::int64_t doc_stride = 128;             // QA: tokens shared by consecutive windows
  std::int64_t n_best_size = 20;             // QA: start/end candidates per window
  std::int64_t max_answer_length = 30;       // QA: longest answer span in tokens
  double null_score_diff_threshold = 0.0;    // SQuAD 2.0: answer "" above this null-score margin
  std::string text_scoring = "generate";     // text-to-text: "generate" (exact match of the decoded string) or "rank"
  std::int64_t max_target_length = 0;        // text-to-text: generation limit in tokens (0 = the longest label + 1)
  std::int64_t num_beams = 1;                // text-to-text: 1 = greedy, > 1 = beam search

  nlohmann::json to_json() const;
  static TaskOptions from_json(const nlohmann::json& json);
  void validate() const;
};

struct RunSpec {
  std::string backbone;        // HF model folder, or a name under --models-dir / PTBENCH_MODELS
  std::string geometry;        // or a named geometry with random weights (bert-base, …)
  std::string weights_file;    // force model.safetensors or pytorch_model.bin (empty = prefer safetensors)
  std::string tokenizer;       // tokenizer folder (empty = the backbone folder, else the shared vocabulary of its arch)
  std::string task = "rte";
  std::string method = "full";
  nlohmann::json method_options = nlohmann::json::object();  // method.* except name, defaults filled in
  std::string head_pooling = "auto";  // auto | pooler | first_token_mlp
  double head_dropout = -1;    // dropout before the head; < 0 = the backbone's hidden dropout
  std::string data_dir;        // data root (empty = --data-dir / PTBENCH_DATA / ../shared/data)
  TaskOptions task_options;
  TrainOptions train;

  // {"backbone": …, "method": {"name": …, options…}, "train": {…}, …}
  nlohmann::json to_json() const;
  // 16 hex digits of SHA-1 over the canonical resolved spec, without the execution-only keys
  // train.threads and train.log_every (an executor sets them; the record states what ran).
  std::string run_id() const;
};

// The schema of a run spec file: every key with its default. method options are checked
// against the chosen method's own defaults.
nlohmann::json run_spec_defaults();

// Layers: defaults ← file (if any) ← patches in order (CLI flags, then --set), by JSON merge-patch;
// then validates every key and value. Errors name the key and the nearest valid one.
RunSpec resolve_run_spec(const nlohmann::json& file, const std::vector<nlohmann::json>& patches);

}  // namespace ptbench
