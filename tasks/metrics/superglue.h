// SuperGLUE task metrics, in every variant the reference codebases report:
// - CB: accuracy and macro-F1 (sklearn f1_score(average="macro"), the SuperGLUE CB F1).
// - MultiRC, from answer options flattened one per row and grouped by (paragraph, question):
//   * f1a: binary F1 over all options (sklearn f1_score(gold, pred)) — SuperGLUE / jiant F1a;
//   * exact_match: share of questions whose options are all right — SuperGLUE EM;
//   * macro_f1: sklearn f1_score(average="macro") over all options — what SMoP reports under
//     the name 'f1a' (jyjohnchoi/SMoP scripts/train.py, score() with metric "f1a");
//   * f1m: mean over questions of the per-question macro F1 — the Hugging Face super_glue
//     metric's f1_m (evaluate-metric/super_glue, evaluate_multirc).
// - ReCoRD: max over the gold entity strings of exact match and token F1 after SQuAD
//   normalisation, averaged over queries (the ReCoRD / SQuAD 1.1 evaluator semantics, as in the
//   HF super_glue record metric; fractions in [0, 1]).
// Accuracy and F1 values are fractions in [0, 1].
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ptbench::metrics {

// --- CB -------------------------------------------------------------------------------------

struct CbScores {
  double accuracy = 0.0;
  double macro_f1 = 0.0;             // over the labels present in gold or predictions
  std::vector<double> per_class_f1;  // for labels 0..num_classes-1 (0 for an absent class)
};

// Labels are ids 0 = entailment, 1 = contradiction, 2 = neutral (any ints work).
CbScores cb_scores(const std::vector<int>& gold, const std::vector<int>& pred, int num_classes = 3);

// --- MultiRC --------------------------------------------------------------------------------

struct MultiRcOption {
  std::int64_t paragraph = 0;
  std::int64_t question = 0;
  int gold = 0;        // 0 or 1
  int prediction = 0;  // 0 or 1
};

struct MultiRcScores {
  double f1a = 0.0;          // binary F1 of label 1 over all options
  double exact_match = 0.0;  // share of questions with every option right
  double macro_f1 = 0.0;     // macro F1 over all options (SMoP)
  double f1m = 0.0;          // mean per-question macro F1 (HF super_glue f1_m)
  double accuracy = 0.0;     // over all options
  std::int64_t options = 0;
  std::int64_t questions = 0;
};

// Questions are identified by (paragraph, question) and taken in order of first appearance.
// Labels other than 0/1 fail naming the row.
MultiRcScores multirc_scores(const std::vector<MultiRcOption>& options);

// --- ReCoRD ---------------------------------------------------------------------------------

// Max over gold answers of SQuAD exact match (0/1) and of SQuAD 1.1 token F1.
double record_exact_match(const std::string& prediction, const std::vector<std::string>& golds);
double record_f1(const std::string& prediction, const std::vector<std::string>& golds);

struct RecordScores {
  double exact_match = 0.0;
  double f1 = 0.0;
  std::int64_t total = 0;
};

// predictions[i] is scored against gold_answers[i]; a query without gold answers fails.
RecordScores record_scores(const std::vector<std::string>& predictions,
                           const std::vector<std::vector<std::string>>& gold_answers);

}  // namespace ptbench::metrics
