// SQuAD metrics with the semantics of the official evaluators:
// - evaluate-v2.0.py (rajpurkar/SQuAD-explorer, the version at commit eee5fdbf used for the
//   goldens in ../shared/golden/metrics/squad_v2): normalize_answer, get_tokens,
//   compute_exact, compute_f1, get_raw_scores, apply_no_ans_threshold, make_eval_dict,
//   find_best_thresh — reproduced behaviour for behaviour, including its quirks (see below);
// - evaluate-v1.1.py (SQuAD 1.1), whose F1 lacks the empty-answer rule and which averages over
//   every question, scoring a missing prediction 0.
//
// Text normalisation follows Python 3 exactly where it matters: str.lower() (full Unicode
// lower-casing, including "İ" → "i̇" and the final-sigma rule), string.punctuation (the 32
// ASCII punctuation characters only), the article regex \b(a|an|the)\b with Python's Unicode
// notion of word characters (letters, numbers, underscore — combining marks are not word
// characters), and str.split() on Python's Unicode whitespace. Unicode properties come from
// utf8proc; its Unicode version can differ slightly from the Python 3.11 one.
//
// Quirks of evaluate-v2.0.py kept on purpose:
// - `--na-prob-thresh` defaults to 0.0 (its help text says 1.0): with na_probs given and the
//   default threshold, every question with na_prob > 0 counts as predicted unanswerable.
// - Without na_probs every na_prob is 0.0, so only a negative threshold changes anything.
// - best_exact / best_f1 walk the questions sorted by na_prob with a *stable* sort in the
//   order of the na_prob file, starting from the number of unanswerable questions, and may
//   report a score reached between two equal na_probs.
// - Gold answers that normalise to "" are dropped; if none remains the only gold is "".
// - A question id that appears twice keeps the last occurrence (Python dict semantics).
// Where the script would crash (a missing prediction, a missing na_prob) we fail with a message
// naming the question instead.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ptbench::metrics {

// --- text -----------------------------------------------------------------------------------

// evaluate-v2.0.py normalize_answer: lower, drop ASCII punctuation, replace the words a/an/the
// by a space, collapse whitespace. Also the normalisation of SQuAD 1.1, ReCoRD and SMoP's
// text-to-text outputs (jyjohnchoi/SMoP scripts/train.py normalize_answer is the same code).
std::string normalize_answer(std::string_view text);

// get_tokens: the normalised answer split on spaces ([] for "").
std::vector<std::string> answer_tokens(std::string_view text);

// compute_exact: 1 if the normalised strings are equal.
int exact_match(std::string_view gold, std::string_view prediction);

// compute_f1 (v2.0): bag-of-tokens F1; if either side has no tokens, 1 when both have none.
double token_f1(std::string_view gold, std::string_view prediction);

// evaluate-v1.1.py / ReCoRD f1_score: the same F1 without the empty rule (0 when no token is
// shared, so an empty prediction never scores).
double token_f1_v1(std::string_view gold, std::string_view prediction);

// --- data -----------------------------------------------------------------------------------

struct SquadQuestion {
  std::string id;
  std::vector<std::string> answers;  // gold answer texts; empty = unanswerable (SQuAD 2.0)
};

// The questions of an official SQuAD json ({"data": [...]} or the "data" array itself), in
// file order. A malformed document fails naming the missing or mistyped field.
std::vector<SquadQuestion> squad_questions(const nlohmann::json& dataset);

// qid -> predicted answer text.
using SquadPredictions = std::unordered_map<std::string, std::string>;
// qid -> probability that the question has no answer, in the order of the na_prob file: that
// order breaks ties in best-threshold search, so it must not be lost (nlohmann::json sorts
// object keys; read_squad_na_probs keeps the file order).
using SquadNaProbs = std::vector<std::pair<std::string, double>>;

SquadPredictions read_squad_predictions(const std::filesystem::path& path);
SquadNaProbs read_squad_na_probs(const std::filesystem::path& path);

// --- evaluation -----------------------------------------------------------------------------

struct SquadSubsetScores {
  double exact = 0.0;  // percent
  double f1 = 0.0;     // percent
  std::int64_t total = 0;
};

struct SquadBestThresholds {
  double best_exact = 0.0;  // percent
  double best_exact_thresh = 0.0;
  double best_f1 = 0.0;  // percent
  double best_f1_thresh = 0.0;
};

struct SquadV2Result {
  SquadSubsetScores all;
  std::optional<SquadSubsetScores> has_ans;  // present when some question has an answer
  std::optional<SquadSubsetScores> no_ans;   // present when some question has none
  std::optional<SquadBestThresholds> best;   // present when na_probs were given
  // Per-question raw scores (before the na_prob threshold), in dataset order.
  std::vector<std::string> qids;
  std::vector<double> exact_raw;
  std::vector<double> f1_raw;
};

struct SquadV2Options {
  // Predict "" when na_prob exceeds this (evaluate-v2.0.py -t; its real default is 0.0).
  double na_prob_thresh = 0.0;
};

// evaluate-v2.0.py on parsed inputs. `na_probs` null = no -n file.
SquadV2Result squad_v2_evaluate(const std::vector<SquadQuestion>& questions,
                                const SquadPredictions& predictions,
                                const SquadNaProbs* na_probs = nullptr,
                                const SquadV2Options& options = {});

// The script's output object, with its keys in its order: exact, f1, total, HasAns_exact,
// HasAns_f1, HasAns_total, NoAns_exact, NoAns_f1, NoAns_total, best_exact, best_exact_thresh,
// best_f1, best_f1_thresh (the optional groups only when present).
nlohmann::ordered_json to_json(const SquadV2Result& result);

// evaluate-v2.0.py <dataset> <predictions> [-n na_probs] [-t thresh] on files.
SquadV2Result squad_v2_evaluate_files(const std::filesystem::path& dataset,
                                      const std::filesystem::path& predictions,
                                      const std::optional<std::filesystem::path>& na_probs = {},
                                      const SquadV2Options& options = {});

struct SquadV1Result {
  double exact_match = 0.0;  // percent
  double f1 = 0.0;           // percent
  std::int64_t total = 0;    // every question, duplicates and unanswered included
  std::int64_t missing = 0;  // questions without a prediction (scored 0, as the script does)
};

// evaluate-v1.1.py: max over gold answers (unfiltered) of exact match and token_f1_v1.
// A question without gold answers fails (the script would crash on max of nothing).
SquadV1Result squad_v1_evaluate(const std::vector<SquadQuestion>& questions,
                                const SquadPredictions& predictions);

}  // namespace ptbench::metrics
