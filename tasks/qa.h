// Extractive question answering: SQuAD 1.1 ("squad") and SQuAD 2.0 ("squad_v2") with a span
// head ([B, L, 2] start/end logits), the Hugging Face run_qa.py recipe that the P-Tuning v2 code
// runs (its tasks/qa; transformers examples/pytorch/question-answering prepare_train_features,
// prepare_validation_features and utils_qa.py postprocess_qa_predictions; behaviour reproduced,
// code written anew):
//
// - Input: [CLS] question [SEP] context-window [SEP] (leading whitespace of the question
//   stripped), the context cut into windows of max_seq_length tokens that share doc_stride
//   tokens with the next one (HF `truncation="only_second", stride=doc_stride,
//   return_overflowing_tokens=True`). Token offsets come from Tokenizer::encode_with_offsets and
//   are byte offsets into the UTF-8 context.
// - Labels (training and evaluation windows alike): the tokens holding the first gold answer's
//   first and last character; the [CLS] position when the window does not contain the whole
//   answer or the question has none (SQuAD 2.0).
// - Prediction: per window the n_best_size highest start and end logits are paired (in-context
//   tokens only, end ≥ start, at most max_answer_length tokens), scored start + end, and the
//   best n_best_size spans of all windows of a question kept. SQuAD 2.0: the null score is the
//   smallest [CLS] start + end over the question's windows; the answer is "" when null score −
//   (best non-empty span's start + end) > null_score_diff_threshold (0 by default).
// - Metric: the official evaluators (tasks/metrics/squad.h). SQuAD 1.1: evaluate-v1.1.py
//   (exact_match, f1). SQuAD 2.0: evaluate-v2.0.py given each question's best non-empty span and,
//   as its na_prob file, that null-score difference (the null_odds.json of utils_qa.py) with
//   -t = null_score_diff_threshold — so exact / f1 / HasAns / NoAns are those of the thresholded
//   answers and best_exact / best_f1 (with their thresholds) say what another threshold would
//   give. Scores are percentages, as the scripts print them. Primary: "f1".
//
// Degenerate windows: when doc_stride leaves no progress (doc_stride ≥ the room for context,
// e.g. max_seq_length 128 with the default stride 128) the stride is halved for that question,
// and a question so long that fewer than min(32, room/2) context tokens would fit is cut from
// the right; data_notes() counts both.
//
// Files: squad: <data>/squad/{train,dev}-v1.1.json. squad_v2: <data>/squad_v2/{train,dev}-v2.0.json
// when both exist; otherwise the one SQuAD 2.0 file this mirror ships,
// <data>/squad_v2/dev-v2.0-subset.json, split deterministically by article: "Normans" and "Rhine"
// evaluate, every other article (there: "Computational_complexity_theory") trains. That split
// is not the official one; data_notes() and stderr say so. Training uses each question's
// first answer (the dev file lists several).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tasks/data/qa.h"
#include "tasks/task.h"

namespace ptbench {

std::unique_ptr<Task> make_squad_task();
std::unique_ptr<Task> make_squad_v2_task();

// The articles of the shipped dev subset that evaluate when no official train file exists.
inline const std::vector<std::string> kSquadV2SubsetValidationArticles = {"Normans", "Rhine"};

// One window of a question: logits per position and, per position, the [begin, end) bytes of
// the context the token covers ({-1, -1} for question, special and padding positions).
struct QaWindowScores {
  std::vector<double> start_logits;
  std::vector<double> end_logits;
  const std::vector<std::pair<std::int64_t, std::int64_t>>* context_offsets = nullptr;
};

struct QaPostprocessOptions {
  std::int64_t n_best_size = 20;
  std::int64_t max_answer_length = 30;
  bool with_negative = false;  // SQuAD 2.0
  double null_score_diff_threshold = 0.0;
};

struct QaAnswer {
  std::string text;              // the answer ("" = no answer, SQuAD 2.0)
  std::string best_non_null;     // the best non-empty span ("empty" when there is none, as utils_qa.py)
  double null_score_diff = 0.0;  // SQuAD 2.0: null score − best non-empty span score
};

// utils_qa.py postprocess_qa_predictions for one question (windows in order).
QaAnswer postprocess_qa(const std::string& context, const std::vector<QaWindowScores>& windows,
                        const QaPostprocessOptions& options);

class SquadTask : public Task {
 public:
  explicit SquadTask(data::SquadVersion version) : version_(version) {}
  std::string name() const override { return version_ == data::SquadVersion::v2_0 ? "squad_v2" : "squad"; }
  int version() const override { return 1; }
  HeadSpec head() const override;
  std::string primary_metric() const override { return "f1"; }
  void load(const TaskContext& context) override;
  // Number of windows (the batching unit); examples(split) gives the questions.
  std::int64_t size(Split split) const override;
  std::vector<Batch> batches(Split split, std::int64_t batch_size, std::mt19937_64* rng) const override;
  // Mean of the start and end cross-entropies (BertForQuestionAnswering).
  torch::Tensor loss(const torch::Tensor& logits, const Batch& batch) const override;
  nlohmann::json evaluate(Split split, const std::vector<Batch>& batches,
                          const std::vector<torch::Tensor>& logits) const override;
  nlohmann::json data_notes() const override { return notes_; }

  const std::vector<data::SquadExample>& examples(Split split) const;
  // Per question (in examples() order) the post-processed answer from the head outputs.
  std::vector<QaAnswer> answers(Split split, const std::vector<Batch>& batches,
                                const std::vector<torch::Tensor>& logits) const;

 private:
  struct Feature {
    std::int64_t example = 0;
    tok::Encoding encoding;
    std::vector<std::pair<std::int64_t, std::int64_t>> context_offsets;  // per position, {-1,-1} outside the context
    std::int64_t start_position = 0;
    std::int64_t end_position = 0;
  };
  struct SplitData {
    std::vector<data::SquadExample> examples;
    std::vector<Feature> features;
    std::vector<std::vector<std::int64_t>> features_of_example;
  };
  const SplitData& split_data(Split split) const;
  void build_features(SplitData& data, const std::string& split_label);

  data::SquadVersion version_;
  TaskContext context_;
  std::int64_t pad_id_ = 0;
  SplitData train_, validation_;
  nlohmann::json notes_ = nlohmann::json::object();
};

}  // namespace ptbench
