// Single-label classification metrics with scikit-learn 1.2.1 semantics (the version the
// reference numbers in ../shared/golden/metrics/superglue were produced with):
// sklearn/metrics/_classification.py — accuracy_score, precision_recall_fscore_support,
// f1_score.
//
// What "sklearn semantics" means here, precisely:
// - The label set is the sorted union of the labels seen in gold and predictions (numpy's
//   np.unique order: numeric for integers, code-point order for strings), unless the caller
//   passes `labels`, which are then used in the caller's order (labels absent from the data
//   get zero counts and still enter the averages, as in sklearn).
// - precision = tp / predicted, recall = tp / true; a zero denominator gives `zero_division`
//   (sklearn's default "warn" behaves as 0, which is our default).
// - F1 = 2·p·r / (p + r) computed from those p and r (1.2.1 formula, not 1.3's tp-based one),
//   0 when p + r = 0.
// - macro = unweighted mean over the label set; weighted = mean weighted by support
//   (zero_division values when the total support is 0); micro = from summed counts.
// - An invalid generated string in a text-to-text setup is simply one more label: it counts as
//   its own class in the macro average (what SMoP's scripts/train.py reports).
//
// The functions are templates instantiated for int, long, long long and std::string.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ptbench::metrics {

// Precision, recall and F1 for one class or one average, with the support (number of gold
// items of that class; for an average the total of the classes averaged).
struct PrecisionRecallF1 {
  double precision = 0.0;
  double recall = 0.0;
  double f1 = 0.0;
  std::int64_t support = 0;
};

// The sufficient statistics of one class: true positives, predicted items, gold items.
struct ClassCounts {
  std::int64_t true_positives = 0;
  std::int64_t predicted = 0;
  std::int64_t gold = 0;
};

// p, r, F1 of one class from its counts (sklearn/seqeval _prf_divide + the 1.2.1 F formula).
PrecisionRecallF1 scores_from_counts(const ClassCounts& counts, double zero_division = 0.0);
// Averages over classes, exactly as sklearn 1.2.1 and seqeval v1 compute them: micro from the
// summed counts; macro the plain mean of the per-class values (NaN when there are no classes,
// as numpy's mean of an empty array); weighted by gold support, with sklearn's zero_division
// values when the total support is 0. The support of an average is the summed gold count.
PrecisionRecallF1 micro_average(const std::vector<ClassCounts>& classes,
                                double zero_division = 0.0);
PrecisionRecallF1 macro_average(const std::vector<ClassCounts>& classes,
                                double zero_division = 0.0);
PrecisionRecallF1 weighted_average(const std::vector<ClassCounts>& classes,
                                   double zero_division = 0.0);

template <typename Label>
struct ClassScores {
  Label label{};
  PrecisionRecallF1 scores;
};

// Everything sklearn's classification_report would give, plus accuracy.
template <typename Label>
struct ClassificationReport {
  std::vector<ClassScores<Label>> per_class;  // in label order (see above)
  double accuracy = 0.0;
  PrecisionRecallF1 micro;
  PrecisionRecallF1 macro;
  PrecisionRecallF1 weighted;
};

// Share of positions where pred equals gold (sklearn accuracy_score). Fails on different
// lengths or empty input.
template <typename Label>
double accuracy(const std::vector<Label>& gold, const std::vector<Label>& pred);

// sklearn precision_recall_fscore_support(average=None). `labels` empty: sorted union.
template <typename Label>
std::vector<ClassScores<Label>> per_class_scores(const std::vector<Label>& gold,
                                                 const std::vector<Label>& pred,
                                                 const std::vector<Label>& labels = {},
                                                 double zero_division = 0.0);

// sklearn f1_score(average="macro"): the SuperGLUE CB F1 and SMoP's MultiRC "f1a".
template <typename Label>
double macro_f1(const std::vector<Label>& gold, const std::vector<Label>& pred,
                const std::vector<Label>& labels = {}, double zero_division = 0.0);

// sklearn f1_score(average="binary", pos_label=positive): the F1 of the positive class.
// Like sklearn it refuses data with more than two distinct labels, and data with two labels
// neither of which is `positive`.
template <typename Label>
double binary_f1(const std::vector<Label>& gold, const std::vector<Label>& pred,
                 const Label& positive, double zero_division = 0.0);

// Per-class scores and the micro, macro and weighted averages in one pass.
template <typename Label>
ClassificationReport<Label> classification_report(const std::vector<Label>& gold,
                                                  const std::vector<Label>& pred,
                                                  const std::vector<Label>& labels = {},
                                                  double zero_division = 0.0);

}  // namespace ptbench::metrics
