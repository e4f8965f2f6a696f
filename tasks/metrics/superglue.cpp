// References (behaviour reproduced, code written anew): scikit-learn 1.2.1 f1_score /
// accuracy_score; jyjohnchoi/SMoP scripts/train.py score(); the Hugging Face super_glue
// metric (evaluate_multirc, evaluate_record); the ReCoRD official evaluator.
#include "tasks/metrics/superglue.h"

#include <algorithm>
#include <map>
#include <utility>

#include "common/error.h"
#include "tasks/metrics/classification.h"
#include "tasks/metrics/squad.h"

namespace ptbench::metrics {

CbScores cb_scores(const std::vector<int>& gold, const std::vector<int>& pred, int num_classes) {
  if (gold.size() != pred.size()) {
    fail("CB scores: gold has ", gold.size(), " items but predictions have ", pred.size());
  }
  if (num_classes <= 0) fail("CB scores: num_classes must be positive, got ", num_classes);
  CbScores scores;
  scores.accuracy = accuracy(gold, pred);
  scores.macro_f1 = macro_f1(gold, pred);
  std::vector<int> labels(static_cast<std::size_t>(num_classes));
  for (int i = 0; i < num_classes; ++i) labels[static_cast<std::size_t>(i)] = i;
  for (const ClassScores<int>& c : per_class_scores(gold, pred, labels)) {
    scores.per_class_f1.push_back(c.scores.f1);
  }
  return scores;
}

MultiRcScores multirc_scores(const std::vector<MultiRcOption>& options) {
  if (options.empty()) fail("MultiRC scores: no answer options to score");
  std::vector<int> gold;
  std::vector<int> pred;
  gold.reserve(options.size());
  pred.reserve(options.size());

  // Questions in order of first appearance.
  std::map<std::pair<std::int64_t, std::int64_t>, std::size_t> question_index;
  std::vector<std::vector<std::size_t>> question_rows;
  for (std::size_t i = 0; i < options.size(); ++i) {
    const MultiRcOption& o = options[i];
    if ((o.gold != 0 && o.gold != 1) || (o.prediction != 0 && o.prediction != 1)) {
      fail("MultiRC scores: option ", i, " (paragraph ", o.paragraph, ", question ", o.question,
           ") has gold ", o.gold, " and prediction ", o.prediction, "; labels must be 0 or 1");
    }
    gold.push_back(o.gold);
    pred.push_back(o.prediction);
    const auto [it, inserted] =
        question_index.emplace(std::make_pair(o.paragraph, o.question), question_rows.size());
    if (inserted) question_rows.emplace_back();
    question_rows[it->second].push_back(i);
  }

  MultiRcScores scores;
  scores.options = static_cast<std::int64_t>(options.size());
  scores.questions = static_cast<std::int64_t>(question_rows.size());
  scores.f1a = binary_f1(gold, pred, 1);
  scores.macro_f1 = macro_f1(gold, pred);
  scores.accuracy = accuracy(gold, pred);

  double f1_sum = 0.0;
  std::int64_t exact = 0;
  for (const std::vector<std::size_t>& rows : question_rows) {
    std::vector<int> question_gold;
    std::vector<int> question_pred;
    bool all_right = true;
    for (const std::size_t r : rows) {
      question_gold.push_back(gold[r]);
      question_pred.push_back(pred[r]);
      all_right = all_right && gold[r] == pred[r];
    }
    f1_sum += macro_f1(question_gold, question_pred);
    exact += all_right ? 1 : 0;
  }
  scores.f1m = f1_sum / static_cast<double>(question_rows.size());
  scores.exact_match = static_cast<double>(exact) / static_cast<double>(question_rows.size());
  return scores;
}

double record_exact_match(const std::string& prediction, const std::vector<std::string>& golds) {
  if (golds.empty()) fail("ReCoRD: a query has no gold answer");
  int best = 0;
  for (const std::string& gold : golds) best = std::max(best, exact_match(gold, prediction));
  return best;
}

double record_f1(const std::string& prediction, const std::vector<std::string>& golds) {
  if (golds.empty()) fail("ReCoRD: a query has no gold answer");
  double best = 0.0;
  for (const std::string& gold : golds) best = std::max(best, token_f1_v1(gold, prediction));
  return best;
}

RecordScores record_scores(const std::vector<std::string>& predictions,
                           const std::vector<std::vector<std::string>>& gold_answers) {
  if (predictions.size() != gold_answers.size()) {
    fail("ReCoRD scores: ", gold_answers.size(), " queries but ", predictions.size(),
         " predictions");
  }
  if (predictions.empty()) fail("ReCoRD scores: no queries to score");
  RecordScores scores;
  double exact_sum = 0.0;
  double f1_sum = 0.0;
  for (std::size_t i = 0; i < predictions.size(); ++i) {
    if (gold_answers[i].empty()) fail("ReCoRD scores: query ", i, " has no gold answer");
    exact_sum += record_exact_match(predictions[i], gold_answers[i]);
    f1_sum += record_f1(predictions[i], gold_answers[i]);
  }
  scores.total = static_cast<std::int64_t>(predictions.size());
  scores.exact_match = exact_sum / static_cast<double>(scores.total);
  scores.f1 = f1_sum / static_cast<double>(scores.total);
  return scores;
}

}  // namespace ptbench::metrics
