// Token classification over pre-split words (NER, SRL), the way the P-Tuning v2 code aligns
// labels (tasks/ner/dataset.py, tasks/srl/dataset.py tokenize_and_align_labels; the
// transformers run_ner.py recipe): every word is tokenized on its own, its tag goes on its first
// sub-token, every other sub-token and every special token gets -100 (ignored by the loss), and
// the metric reads one prediction per word, at that first sub-token.
//
// Where the reference truncates a sentence longer than the window (and silently drops the
// labels past it), we keep every label: a sentence whose sub-tokens do not fit in
// max_seq_length is cut into consecutive windows of whole words, each window encoded on its own
// (with the unlabelled suffix words, e.g. SRL's "[SEP] predicate", repeated in every window),
// and the per-word predictions of its windows are put back together before scoring. A single
// word with more sub-tokens than a window holds keeps its first ones (its label sits on the
// first). A word that yields no sub-token at all (nothing but characters the tokenizer drops)
// is predicted "O".
//
// The label set is "O" then B-/I- of every type found in the train and validation files (full
// files, before any example limit), types sorted — stable for a corpus whatever the limits.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tasks/metrics/seqeval.h"
#include "tasks/task.h"

namespace ptbench {

// One sentence (NER) or one proposition (SRL).
struct TaggedExample {
  std::vector<std::string> words;   // the words that carry labels
  std::vector<std::string> tags;    // one BIO tag per word
  std::vector<std::string> suffix;  // words appended to every window, without labels (SRL: "[SEP]", predicate)
};

struct TaggingTaskDefinition {
  std::string name;
  int version = 1;
  std::string primary_metric = "f1";
  // Loads a whole split (the task applies the example limit); `notes` receives data remarks.
  std::function<std::vector<TaggedExample>(const TaskContext& context, Split split, nlohmann::json& notes)> load;
  // Scores the predicted tag sequences against the gold ones (one sequence per example).
  std::function<nlohmann::json(const metrics::TagSequences& gold, const metrics::TagSequences& predicted)> metrics;
};

class TokenTaggingTask : public Task {
 public:
  explicit TokenTaggingTask(TaggingTaskDefinition definition) : definition_(std::move(definition)) {}
  std::string name() const override { return definition_.name; }
  int version() const override { return definition_.version; }
  HeadSpec head() const override;
  std::string primary_metric() const override { return definition_.primary_metric; }
  void load(const TaskContext& context) override;
  // Number of windows (the batching unit); examples(split) gives the sentences.
  std::int64_t size(Split split) const override;
  std::vector<Batch> batches(Split split, std::int64_t batch_size, std::mt19937_64* rng) const override;
  nlohmann::json evaluate(Split split, const std::vector<Batch>& batches,
                          const std::vector<torch::Tensor>& logits) const override;
  nlohmann::json data_notes() const override { return notes_; }

  const std::vector<std::string>& labels() const { return labels_; }
  const std::vector<TaggedExample>& examples(Split split) const;
  // Per-example predicted tags from the head outputs (what evaluate() scores).
  metrics::TagSequences predictions(Split split, const std::vector<Batch>& batches,
                                    const std::vector<torch::Tensor>& logits) const;

 private:
  struct Window {
    std::int64_t example = 0;
    std::int64_t first_word = 0;               // index of the window's first word in its example
    tok::Encoding encoding;
    std::vector<std::int64_t> labels;          // per token; -100 where ignored
    std::vector<std::int64_t> word_positions;  // per window word: its first sub-token, -1 if none
  };
  struct SplitData {
    std::vector<TaggedExample> examples;
    std::vector<Window> windows;
  };
  const SplitData& split_data(Split split) const;
  std::vector<Window> make_windows(const std::vector<TaggedExample>& examples, std::int64_t& split_examples) const;

  TaggingTaskDefinition definition_;
  TaskContext context_;
  std::int64_t pad_id_ = 0;
  std::vector<std::string> labels_;
  SplitData train_, validation_;
  nlohmann::json notes_ = nlohmann::json::object();
};

// The metrics of the NER tasks: seqeval default mode (conlleval-like; what the P-Tuning v2 code
// reports) micro precision / recall / f1 and token accuracy at the top level, the same in
// strict IOB2 mode under "strict", macro averages under "macro", and the per-type
// classification reports under "per_type" / "strict_per_type".
nlohmann::json ner_metrics(const metrics::TagSequences& gold, const metrics::TagSequences& predicted);

}  // namespace ptbench
