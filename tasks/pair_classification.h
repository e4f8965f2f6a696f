// Sentence(-pair) classification on the pooled output: RTE, CB, BoolQ, WiC, WSC, and the two
// SuperGLUE tasks that the P-Tuning v2 code also casts as one binary decision per row —
// MultiRC (one row per answer option) and ReCoRD (one row per candidate entity of a query).
// Encoder input: [CLS] a [SEP] (b [SEP]) with longest_first truncation at max_seq_length, as the
// P-Tuning v2 code's tokenizer call (truncation=True) does.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tasks/task.h"

namespace ptbench {

struct PairExample {
  std::string text_a;
  std::optional<std::string> text_b;  // none: a single-sequence input
  std::int64_t label = -1;            // -1 = unlabelled (test files)
  // Rows that a metric scores together: MultiRC (paragraph idx, question idx), ReCoRD
  // (passage idx, query idx). Unused by the other tasks.
  std::int64_t group = 0;
  std::int64_t subgroup = 0;
  std::string candidate;  // ReCoRD: the entity this row puts in place of @placeholder
};

// ReCoRD: one query with its gold answer texts. Every query of the split is listed, so a query
// whose passage has no candidate entity still counts (as a miss) instead of vanishing.
struct CandidateQuery {
  std::int64_t group = 0;
  std::int64_t subgroup = 0;
  std::vector<std::string> answers;
};

struct PairSplit {
  std::vector<PairExample> examples;
  std::vector<CandidateQuery> queries;  // ReCoRD only
};

enum class PairMetric {
  accuracy,  // "accuracy"
  macro_f1,  // "macro_f1": sklearn f1_score(average="macro") (the SuperGLUE CB F1)
  multirc,   // "f1a", "exact_match", "macro_f1" (SMoP), "f1m", "accuracy" over answer options
  record,    // "f1", "exact_match": per query the candidate with the highest class-1 logit
};

struct PairTaskDefinition {
  std::string name;
  int version = 1;
  std::vector<std::string> labels;                       // label names by id
  std::vector<PairMetric> metrics{PairMetric::accuracy};
  std::string primary_metric = "accuracy";
  // Loads a split as rows, keeping at most `limit` examples in the task's own unit (rows; for
  // ReCoRD queries) when limit > 0. `notes` receives data remarks for the run record.
  std::function<PairSplit(const TaskContext& context, Split split, std::int64_t limit, nlohmann::json& notes)> load;
};

class PairClassificationTask : public Task {
 public:
  explicit PairClassificationTask(PairTaskDefinition definition) : definition_(std::move(definition)) {}
  std::string name() const override { return definition_.name; }
  int version() const override { return definition_.version; }
  HeadSpec head() const override;
  std::string primary_metric() const override { return definition_.primary_metric; }
  void load(const TaskContext& context) override;
  std::int64_t size(Split split) const override;
  std::vector<Batch> batches(Split split, std::int64_t batch_size, std::mt19937_64* rng) const override;
  nlohmann::json evaluate(Split split, const std::vector<Batch>& batches,
                          const std::vector<torch::Tensor>& logits) const override;
  nlohmann::json data_notes() const override { return notes_; }

 private:
  struct Encoded {
    std::vector<tok::Encoding> encodings;
    std::vector<PairExample> examples;  // texts dropped after encoding
    std::vector<CandidateQuery> queries;
  };
  const Encoded& split_data(Split split) const;

  PairTaskDefinition definition_;
  TaskContext context_;
  std::int64_t pad_id_ = 0;
  Encoded train_, validation_;
  nlohmann::json notes_ = nlohmann::json::object();
};

}  // namespace ptbench
