// The task seam (DESIGN.md section 3, "Task"): a task loads its splits from the original public
// files, turns examples into batches for the backbone kind, names its head and its metrics, and
// carries a version that changes whenever its preprocessing or metric changes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "backbones/backbone.h"
#include "backbones/heads.h"
#include "backbones/tokenizers/tokenizer.h"
#include "tasks/data/common.h"

namespace ptbench {

using data::Split;

struct TaskContext {
  std::filesystem::path data_dir;
  const tok::Tokenizer* tokenizer = nullptr;
  BackboneKind backbone_kind = BackboneKind::encoder;
  std::int64_t max_seq_length = 128;
  bool pad_to_max_length = false;  // P-Tuning v2's scripts pad every batch to max_seq_length
  std::int64_t max_train_examples = 0;  // 0 = all (questions for QA and ReCoRD, sentences for tagging)
  std::int64_t max_eval_examples = 0;   // 0 = all
  // Extractive QA (tasks/qa.h); defaults are P-Tuning v2's (arguments.py QuestionAnwseringArguments,
  // run_script/run_squad*_roberta.sh) and Hugging Face run_qa.py's.
  std::int64_t doc_stride = 128;            // tokens shared by consecutive context windows
  std::int64_t n_best_size = 20;            // start and end candidates searched per window
  std::int64_t max_answer_length = 30;      // longest answer span, in tokens
  double null_score_diff_threshold = 0.0;   // SQuAD 2.0: answer "" when null score − best span score > this
  // SuperGLUE WiC / WSC input template of the P-Tuning v2 code (`--template_id`): -1 = what its
  // run scripts used (WiC: 1 with BERT, 0 with RoBERTa; WSC: 0). tasks/superglue.h spells them out.
  int template_id = -1;
  // Text-to-text tasks on encoder-decoder backbones (tasks/text2text.h): "generate" scores the
  // exact match of the decoded, normalised string (SMoP's evaluation; an invalid string is wrong
  // and counted), "rank" scores each verbalised label's log-likelihood and picks the best.
  std::string text_scoring = "generate";
  std::int64_t max_target_length = 0;  // generation limit in tokens (0 = the longest label + 1)
  std::int64_t num_beams = 1;          // 1 = greedy
};

// What the trainer hands evaluate() for each batch.
enum class EvalOutput {
  head_output,       // the head's output for the batch (logits; encoder tasks)
  generated_ids,     // [B, 1 + N] generated ids, starting with the decoder start token (HF generate layout)
  candidate_scores,  // [B, C] summed log-likelihood of each candidate target
};

// How to produce generated_ids or candidate_scores.
struct GenerationRequest {
  std::int64_t max_new_tokens = 0;  // generation length limit
  std::int64_t num_beams = 1;       // 1 = greedy
  // candidate_scores: tokenised candidate targets (each ending with </s>), the same for every example.
  std::vector<std::vector<std::int64_t>> candidates;
};

struct Batch {
  BackboneInput input;
  torch::Tensor labels;                    // task-specific layout; -100 = ignored
  std::vector<std::int64_t> example_ids;   // indices into the split's examples
  std::int64_t real_tokens = 0;            // tokens that are not padding
  std::int64_t padded_tokens = 0;          // batch × padded length
  std::int64_t size() const { return static_cast<std::int64_t>(example_ids.size()); }
};

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;
  virtual int version() const = 0;
  virtual HeadSpec head() const = 0;
  // The metric model selection uses (higher is better), e.g. "accuracy".
  virtual std::string primary_metric() const = 0;
  // Reads and encodes the splits it needs. Errors name files and lines.
  virtual void load(const TaskContext& context) = 0;
  virtual std::int64_t size(Split split) const = 0;
  // Batches of a split; shuffled when `rng` is given (training), in file order otherwise.
  virtual std::vector<Batch> batches(Split split, std::int64_t batch_size, std::mt19937_64* rng) const = 0;
  // What evaluate() receives per batch (encoder tasks: the head output).
  virtual EvalOutput eval_output() const { return EvalOutput::head_output; }
  // For generated_ids / candidate_scores: the generation settings and candidates.
  virtual GenerationRequest generation() const { return {}; }
  // Mean training loss of a batch from the head's output.
  virtual torch::Tensor loss(const torch::Tensor& logits, const Batch& batch) const;
  // Metrics of a split from the head outputs of its batches (in the order batches() gave them).
  virtual nlohmann::json evaluate(Split split, const std::vector<Batch>& batches,
                                  const std::vector<torch::Tensor>& logits) const = 0;
  // What the run record should know about the data: which files, fallbacks, counts.
  virtual nlohmann::json data_notes() const { return nlohmann::json::object(); }
  // The split that selects the model and the one reported (the papers select on dev, report dev).
  virtual Split selection_split() const { return Split::validation; }
};

struct TaskEntry {
  std::string name;
  std::string summary;
  std::function<std::unique_ptr<Task>()> make;
};

const std::vector<TaskEntry>& task_registry();
std::unique_ptr<Task> make_task(const std::string& name);  // Error listing the known names

// Shared helpers for tasks that encode text with the tokenizer.
namespace task_util {
// Stacks encodings into padded [B, L] tensors (pad id from the tokenizer), L = the longest
// encoding or max_length when pad_to_max_length.
BackboneInput collate(const std::vector<const tok::Encoding*>& encodings, std::int64_t pad_id,
                      std::int64_t pad_to_length);
// Takes the first `limit` items (0 = all).
template <typename T>
void limit(std::vector<T>& items, std::int64_t limit) {
  if (limit > 0 && static_cast<std::int64_t>(items.size()) > limit) items.resize(limit);
}
// Index order of a split, shuffled when rng is given.
std::vector<std::int64_t> order(std::int64_t count, std::mt19937_64* rng);
// That order cut into consecutive batches of at most batch_size indices (the last may be short).
std::vector<std::vector<std::int64_t>> batch_groups(std::int64_t count, std::int64_t batch_size,
                                                    std::mt19937_64* rng);
// Fails unless the backbone is an encoder: the tasks here build encoder inputs only (the
// text-to-text formats for encoder-decoder backbones are a separate seam).
void require_encoder(const TaskContext& context, const std::string& task);
// The tokenizer's pad id (0 when it has none).
std::int64_t pad_id(const tok::Tokenizer& tokenizer);
}  // namespace task_util

}  // namespace ptbench
