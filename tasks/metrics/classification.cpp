// Reference: scikit-learn 1.2.1, sklearn/metrics/_classification.py
// (_check_set_wise_labels, multilabel_confusion_matrix, _prf_divide,
// precision_recall_fscore_support). Written from its documented behaviour; see the header.
#include "tasks/metrics/classification.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>
#include <string>

#include "common/error.h"

namespace ptbench::metrics {
namespace {

std::string label_text(const std::string& label) { return "\"" + label + "\""; }
template <typename Integer>
std::string label_text(Integer label) {
  return std::to_string(label);
}

template <typename Label>
void check_same_length(const std::vector<Label>& gold, const std::vector<Label>& pred,
                       const char* what) {
  if (gold.size() != pred.size()) {
    fail(what, ": gold has ", gold.size(), " items but predictions have ", pred.size());
  }
}

// Sorted union of the labels in gold and pred (np.unique order).
template <typename Label>
std::vector<Label> present_labels(const std::vector<Label>& gold, const std::vector<Label>& pred) {
  std::vector<Label> labels(gold.begin(), gold.end());
  labels.insert(labels.end(), pred.begin(), pred.end());
  std::sort(labels.begin(), labels.end());
  labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
  return labels;
}

// One pass over the data: counts per label in `labels` (labels not listed are ignored, as
// sklearn drops them from the averages).
template <typename Label>
std::vector<ClassCounts> count_classes(const std::vector<Label>& gold,
                                       const std::vector<Label>& pred,
                                       const std::vector<Label>& labels) {
  std::map<Label, std::size_t> index;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (!index.emplace(labels[i], i).second) {
      fail("classification metrics: label ", label_text(labels[i]), " is listed twice");
    }
  }
  std::vector<ClassCounts> counts(labels.size());
  for (std::size_t i = 0; i < gold.size(); ++i) {
    const auto g = index.find(gold[i]);
    const auto p = index.find(pred[i]);
    if (g != index.end()) ++counts[g->second].gold;
    if (p != index.end()) {
      ++counts[p->second].predicted;
      if (gold[i] == pred[i]) ++counts[p->second].true_positives;
    }
  }
  return counts;
}

double divide_or(std::int64_t numerator, std::int64_t denominator, double zero_division) {
  if (denominator == 0) return zero_division;
  return static_cast<double>(numerator) / static_cast<double>(denominator);
}

double f1_from(double precision, double recall) {
  const double denominator = precision + recall;
  if (denominator == 0.0) return 0.0;
  return 2.0 * precision * recall / denominator;
}

}  // namespace

PrecisionRecallF1 scores_from_counts(const ClassCounts& counts, double zero_division) {
  PrecisionRecallF1 out;
  out.precision = divide_or(counts.true_positives, counts.predicted, zero_division);
  out.recall = divide_or(counts.true_positives, counts.gold, zero_division);
  out.f1 = f1_from(out.precision, out.recall);
  out.support = counts.gold;
  return out;
}

PrecisionRecallF1 micro_average(const std::vector<ClassCounts>& classes, double zero_division) {
  ClassCounts total;
  for (const ClassCounts& c : classes) {
    total.true_positives += c.true_positives;
    total.predicted += c.predicted;
    total.gold += c.gold;
  }
  return scores_from_counts(total, zero_division);
}

PrecisionRecallF1 macro_average(const std::vector<ClassCounts>& classes, double zero_division) {
  PrecisionRecallF1 out;
  if (classes.empty()) {
    // numpy's mean of an empty array.
    out.precision = out.recall = out.f1 = std::numeric_limits<double>::quiet_NaN();
    return out;
  }
  for (const ClassCounts& c : classes) {
    const PrecisionRecallF1 s = scores_from_counts(c, zero_division);
    out.precision += s.precision;
    out.recall += s.recall;
    out.f1 += s.f1;
    out.support += c.gold;
  }
  const double n = static_cast<double>(classes.size());
  out.precision /= n;
  out.recall /= n;
  out.f1 /= n;
  return out;
}

PrecisionRecallF1 weighted_average(const std::vector<ClassCounts>& classes, double zero_division) {
  PrecisionRecallF1 out;
  std::int64_t predicted = 0;
  for (const ClassCounts& c : classes) {
    out.support += c.gold;
    predicted += c.predicted;
  }
  if (out.support == 0) {
    // sklearn 1.2.1: precision and F are zero_division only when nothing was predicted either.
    out.recall = zero_division;
    out.precision = out.f1 = predicted == 0 ? zero_division : 0.0;
    return out;
  }
  for (const ClassCounts& c : classes) {
    const PrecisionRecallF1 s = scores_from_counts(c, zero_division);
    const double weight = static_cast<double>(c.gold);
    out.precision += s.precision * weight;
    out.recall += s.recall * weight;
    out.f1 += s.f1 * weight;
  }
  const double total = static_cast<double>(out.support);
  out.precision /= total;
  out.recall /= total;
  out.f1 /= total;
  return out;
}

template <typename Label>
double accuracy(const std::vector<Label>& gold, const std::vector<Label>& pred) {
  check_same_length(gold, pred, "accuracy");
  if (gold.empty()) fail("accuracy: no items to score");
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < gold.size(); ++i) correct += gold[i] == pred[i] ? 1 : 0;
  return static_cast<double>(correct) / static_cast<double>(gold.size());
}

template <typename Label>
std::vector<ClassScores<Label>> per_class_scores(const std::vector<Label>& gold,
                                                 const std::vector<Label>& pred,
                                                 const std::vector<Label>& labels,
                                                 double zero_division) {
  check_same_length(gold, pred, "per-class scores");
  const std::vector<Label> used = labels.empty() ? present_labels(gold, pred) : labels;
  const std::vector<ClassCounts> counts = count_classes(gold, pred, used);
  std::vector<ClassScores<Label>> out;
  out.reserve(used.size());
  for (std::size_t i = 0; i < used.size(); ++i) {
    out.push_back({used[i], scores_from_counts(counts[i], zero_division)});
  }
  return out;
}

template <typename Label>
double macro_f1(const std::vector<Label>& gold, const std::vector<Label>& pred,
                const std::vector<Label>& labels, double zero_division) {
  check_same_length(gold, pred, "macro F1");
  if (gold.empty() && labels.empty()) fail("macro F1: no items to score");
  const std::vector<Label> used = labels.empty() ? present_labels(gold, pred) : labels;
  return macro_average(count_classes(gold, pred, used), zero_division).f1;
}

template <typename Label>
double binary_f1(const std::vector<Label>& gold, const std::vector<Label>& pred,
                 const Label& positive, double zero_division) {
  check_same_length(gold, pred, "binary F1");
  const std::vector<Label> present = present_labels(gold, pred);
  // sklearn's _check_set_wise_labels for average="binary".
  if (present.size() > 2) {
    std::ostringstream seen;
    for (std::size_t i = 0; i < present.size(); ++i) {
      seen << (i ? ", " : "") << label_text(present[i]);
    }
    fail("binary F1: the data has more than two labels (", seen.str(),
         "); use the macro average instead");
  }
  if (present.size() == 2 && std::find(present.begin(), present.end(), positive) == present.end()) {
    fail("binary F1: positive label ", label_text(positive), " is not one of the labels ",
         label_text(present[0]), " and ", label_text(present[1]));
  }
  return scores_from_counts(count_classes(gold, pred, std::vector<Label>{positive})[0],
                            zero_division)
      .f1;
}

template <typename Label>
ClassificationReport<Label> classification_report(const std::vector<Label>& gold,
                                                  const std::vector<Label>& pred,
                                                  const std::vector<Label>& labels,
                                                  double zero_division) {
  check_same_length(gold, pred, "classification report");
  ClassificationReport<Label> report;
  const std::vector<Label> used = labels.empty() ? present_labels(gold, pred) : labels;
  const std::vector<ClassCounts> counts = count_classes(gold, pred, used);
  for (std::size_t i = 0; i < used.size(); ++i) {
    report.per_class.push_back({used[i], scores_from_counts(counts[i], zero_division)});
  }
  report.accuracy = accuracy(gold, pred);
  report.micro = micro_average(counts, zero_division);
  report.macro = macro_average(counts, zero_division);
  report.weighted = weighted_average(counts, zero_division);
  return report;
}

// Explicit instantiations for the label types we support (a type name cannot be parenthesised).
// NOLINTBEGIN(bugprone-macro-parentheses)
#define PTBENCH_INSTANTIATE_CLASSIFICATION(Label)                                               \
  template double accuracy<Label>(const std::vector<Label>&, const std::vector<Label>&);        \
  template std::vector<ClassScores<Label>> per_class_scores<Label>(                             \
      const std::vector<Label>&, const std::vector<Label>&, const std::vector<Label>&, double); \
  template double macro_f1<Label>(const std::vector<Label>&, const std::vector<Label>&,         \
                                  const std::vector<Label>&, double);                           \
  template double binary_f1<Label>(const std::vector<Label>&, const std::vector<Label>&,        \
                                   const Label&, double);                                       \
  template ClassificationReport<Label> classification_report<Label>(                            \
      const std::vector<Label>&, const std::vector<Label>&, const std::vector<Label>&, double);

PTBENCH_INSTANTIATE_CLASSIFICATION(int)
PTBENCH_INSTANTIATE_CLASSIFICATION(long)
PTBENCH_INSTANTIATE_CLASSIFICATION(long long)
PTBENCH_INSTANTIATE_CLASSIFICATION(std::string)

#undef PTBENCH_INSTANTIATE_CLASSIFICATION
// NOLINTEND(bugprone-macro-parentheses)

}  // namespace ptbench::metrics
