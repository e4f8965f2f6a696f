// Semantic role labelling scores as the CoNLL-2005 shared task's srl-eval.pl (Carreras &
// Màrquez, srlconll-1.1) computes them, from BIO argument tags, one tag sequence per
// proposition (predicate).
//
// What srl-eval.pl counts (read from the script):
// - Each proposition's arguments are phrases (start, end, type). A phrase typed "C-X"
//   continues the most recent argument of type X in that proposition: the two become one
//   discontinuous argument spanning from the first piece's start to the last piece's end
//   (a "C-X" with no earlier X becomes a plain X argument). "R-X" arguments are ordinary types.
// - A predicted argument is correct when a gold argument has the same start and end, the same
//   type, and — for discontinuous arguments — exactly the same pieces; each gold argument
//   matches at most once. Otherwise the prediction is an "excess" (over-predicted) argument;
//   gold arguments left unmatched are "missed".
// - Arguments of the excluded types (only "V", the verb itself) are counted separately and
//   do not enter the overall score. Overall and per-type precision = correct / (correct +
//   excess), recall = correct / (correct + missed), F1 = 2PR / (P + R), each 0 when its
//   denominator is 0. The script prints them ×100; here they are fractions in [0, 1].
// - A proposition is "perfect" when it has no excess and no missed non-excluded argument.
// Our input is BIO rather than the script's Start-End brackets: a phrase starts at B-X, or at
// an I-X that does not continue a phrase of type X (conlleval's lenient reading); "O" is
// outside. Tags look like B-ARG0, I-ARGM-TMP, B-V, B-C-ARG1, B-R-ARG0.
//
// The other SRL number the P-Tuning v2 code reports is plain seqeval (default mode) on the BIO
// tags, V included: use tasks/metrics/seqeval.h for that.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ptbench::metrics {

struct SrlCounts {
  std::int64_t correct = 0;
  std::int64_t excess = 0;
  std::int64_t missed = 0;
  double precision() const;
  double recall() const;
  double f1() const;
};

struct SrlPhrase {
  std::int64_t start = 0;
  std::int64_t end = 0;  // inclusive, as in srl-eval.pl
};

// One argument of a proposition; `pieces` has more than one phrase for a discontinuous one.
struct SrlArgument {
  std::string type;
  std::int64_t start = 0;
  std::int64_t end = 0;  // inclusive
  std::vector<SrlPhrase> pieces;
};

// The arguments of one proposition from its BIO tags, continuations merged.
std::vector<SrlArgument> srl_arguments_from_bio(const std::vector<std::string>& tags);

struct SrlEvalOptions {
  std::set<std::string> excluded_types = {"V"};  // srl-eval.pl's %excluded
};

struct SrlEvalResult {
  std::int64_t propositions = 0;
  std::int64_t perfect_propositions = 0;
  SrlCounts overall;                          // over non-excluded types
  std::map<std::string, SrlCounts> per_type;  // non-excluded types, sorted
  std::map<std::string, SrlCounts> excluded;  // e.g. "V"
};

// gold[i] and pred[i] are the BIO tags of proposition i (same length).
SrlEvalResult srl_eval(const std::vector<std::vector<std::string>>& gold,
                       const std::vector<std::vector<std::string>>& pred,
                       const SrlEvalOptions& options = {});

// srl-eval.pl's text table (numbers ×100 with two decimals, as the script prints them).
std::string format_srl_eval_report(const SrlEvalResult& result);

}  // namespace ptbench::metrics
