// The metrics layer against the official scripts' outputs in ../shared/golden/metrics
// (evaluate-v2.0.py, seqeval @ cd01b521, scikit-learn 1.2.1), plus small hand-computed cases.
// Every expected number of the golden tests is read from the golden files at run time.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/files.h"
#include "tasks/metrics/classification.h"
#include "tasks/metrics/seqeval.h"
#include "tasks/metrics/squad.h"
#include "tasks/metrics/srl.h"
#include "tasks/metrics/superglue.h"
#include "tests/test_support.h"

namespace ptbench::metrics {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The brief asks for agreement to 1e-6; everything here is computed in the same order as the
// reference, so agreement is in fact to the last few bits.
constexpr double kTolerance = 1e-9;

fs::path metrics_dir() { return ptbench::testing::golden_dir() / "metrics"; }

// ================================================================================ SQuAD 2.0

// runs.json: {"eval_x.json": {"cmd": "python3 evaluate-v2.0.py sq_dev.json pred.json -o
// eval_x.json [-n na_prob.json -t 0.5]", "result": {...}}}.
struct SquadRun {
  std::string output;
  std::string predictions;
  std::optional<std::string> na_probs;
  double thresh = 0.0;
};

SquadRun parse_run(const std::string& output, const std::string& cmd) {
  std::istringstream words(cmd);
  std::vector<std::string> args;
  for (std::string w; words >> w;) args.push_back(w);
  SquadRun run;
  run.output = output;
  // args: python3 evaluate-v2.0.py <data> <pred> [options...]
  EXPECT_GE(args.size(), 4U) << cmd;
  run.predictions = args.at(3);
  for (std::size_t i = 4; i + 1 < args.size(); ++i) {
    if (args[i] == "-n" || args[i] == "--na-prob-file") run.na_probs = args[i + 1];
    if (args[i] == "-t" || args[i] == "--na-prob-thresh") run.thresh = std::stod(args[i + 1]);
  }
  return run;
}

void expect_same_eval(const nlohmann::ordered_json& actual, const json& expected,
                      const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what << ": " << actual.dump();
  for (const auto& [key, value] : expected.items()) {
    ASSERT_TRUE(actual.contains(key)) << what << ": missing " << key;
    if (value.is_number_integer()) {
      EXPECT_TRUE(actual[key].is_number_integer()) << what << " " << key;
      EXPECT_EQ(actual[key].get<std::int64_t>(), value.get<std::int64_t>()) << what << " " << key;
    } else {
      EXPECT_NEAR(actual[key].get<double>(), value.get<double>(), kTolerance) << what << " " << key;
    }
  }
  // Same keys in the script's order.
  std::vector<std::string> actual_keys;
  for (const auto& [key, value] : actual.items()) actual_keys.push_back(key);
  const std::vector<std::string> order = {"exact",
                                          "f1",
                                          "total",
                                          "HasAns_exact",
                                          "HasAns_f1",
                                          "HasAns_total",
                                          "NoAns_exact",
                                          "NoAns_f1",
                                          "NoAns_total",
                                          "best_exact",
                                          "best_exact_thresh",
                                          "best_f1",
                                          "best_f1_thresh"};
  std::vector<std::string> expected_order;
  for (const std::string& key : order) {
    if (expected.contains(key)) expected_order.push_back(key);
  }
  EXPECT_EQ(actual_keys, expected_order) << what;
}

TEST(SquadGolden, AllFourOfficialEvaluatorRuns) {
  const fs::path dir = metrics_dir() / "squad_v2";
  const json runs = read_json_file(dir / "runs.json");
  ASSERT_EQ(runs.size(), 4U);
  const std::vector<SquadQuestion> questions =
      squad_questions(read_json_file(dir / "dataset.json"));
  for (const auto& [output, run_json] : runs.items()) {
    const SquadRun run = parse_run(output, run_json.at("cmd").get<std::string>());
    const SquadPredictions predictions = read_squad_predictions(dir / run.predictions);
    SquadV2Options options;
    options.na_prob_thresh = run.thresh;
    SquadV2Result result;
    if (run.na_probs) {
      const SquadNaProbs na_probs = read_squad_na_probs(dir / *run.na_probs);
      result = squad_v2_evaluate(questions, predictions, &na_probs, options);
    } else {
      result = squad_v2_evaluate(questions, predictions, nullptr, options);
    }
    const nlohmann::ordered_json actual = to_json(result);
    expect_same_eval(actual, read_json_file(dir / output), output);
    expect_same_eval(actual, run_json.at("result"), output + " (runs.json)");
  }
}

TEST(SquadGolden, FileEntryPointMatchesTheScript) {
  const fs::path dir = metrics_dir() / "squad_v2";
  SquadV2Options options;
  options.na_prob_thresh = 0.5;
  const SquadV2Result result = squad_v2_evaluate_files(
      dir / "dataset.json", dir / "pred_mixed.json", dir / "na_prob.json", options);
  expect_same_eval(to_json(result), read_json_file(dir / "eval_mixed_naprob_t0.5.json"), "files");
  EXPECT_EQ(result.qids.size(), 706U);
}

TEST(SquadMetric, NormalizeAnswerFollowsThePythonScript) {
  EXPECT_EQ(normalize_answer("The Quick, Brown fox!"), "quick brown fox");
  EXPECT_EQ(normalize_answer("an apple a day"), "apple day");
  EXPECT_EQ(normalize_answer("  A  "), "");
  EXPECT_EQ(normalize_answer("theatre"), "theatre");  // only whole words
  EXPECT_EQ(normalize_answer("the-end"), "theend");   // punctuation first
  EXPECT_EQ(normalize_answer("tab\tnew\nline\u00a0nbsp"), "tab new line nbsp");
  EXPECT_EQ(normalize_answer("\u00c9cole Normale"), "\u00e9cole normale");
  EXPECT_EQ(normalize_answer("\u0130"), "i\u0307");  // str.lower() full mapping
  EXPECT_EQ(normalize_answer("\u039f\u0394\u039f\u03a3"),
            "\u03bf\u03b4\u03bf\u03c2");  // final sigma
  EXPECT_EQ(normalize_answer("\u03a3\u039f"), "\u03c3\u03bf");
  // A combining mark is not a word character for Python's re, so "the" before it is an article.
  EXPECT_EQ(normalize_answer("the\u0301"), "\u0301");
  EXPECT_EQ(normalize_answer("caf\u00e9 the"), "caf\u00e9");             // é is a word character
  EXPECT_EQ(normalize_answer("\u00bfd\u00f3nde?"), "\u00bfd\u00f3nde");  // ¿ is not ASCII punct
  EXPECT_EQ(answer_tokens(""), std::vector<std::string>{});
  EXPECT_EQ(answer_tokens("The cat, the hat"), (std::vector<std::string>{"cat", "hat"}));
}

TEST(SquadMetric, ExactAndF1FollowTheV2Rules) {
  EXPECT_EQ(exact_match("The Eiffel Tower", "eiffel tower."), 1);
  EXPECT_EQ(exact_match("Eiffel Tower", "Tower"), 0);
  EXPECT_DOUBLE_EQ(token_f1("", ""), 1.0);  // both unanswerable
  EXPECT_DOUBLE_EQ(token_f1("", "something"), 0.0);
  EXPECT_DOUBLE_EQ(token_f1("the", ""), 1.0);  // both normalise to no tokens
  EXPECT_DOUBLE_EQ(token_f1("cat dog mouse", "dog mouse horse"), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(token_f1("dog dog cat", "dog"), 0.5);  // p = 1, r = 1/3
  EXPECT_DOUBLE_EQ(token_f1("cat", "dog"), 0.0);
  // SQuAD 1.1 F1 has no empty rule.
  EXPECT_DOUBLE_EQ(token_f1_v1("the", ""), 0.0);
  EXPECT_DOUBLE_EQ(token_f1_v1("cat dog mouse", "dog mouse horse"), 2.0 / 3.0);
}

std::vector<SquadQuestion> tiny_squad() {
  return {{"q1", {"Paris", "the city of Paris"}},
          {"q2", {}},
          {"q3", {"1066"}},
          {"q4", {}},
          {"q5", {"a"}}};  // normalises to "": the only gold becomes ""
}

TEST(SquadMetric, HandComputedEvaluation) {
  const SquadPredictions predictions = {
      {"q1", "city of paris"}, {"q2", ""}, {"q3", "in 1066"}, {"q4", "London"}, {"q5", ""}};
  const SquadV2Result r = squad_v2_evaluate(tiny_squad(), predictions);
  // exact: q1 1, q2 1, q3 0, q4 0, q5 1 (gold [""] vs "").
  // f1: q1 1, q2 1, q3 2/3 (p 1/2, r 1), q4 0, q5 1.
  EXPECT_DOUBLE_EQ(r.all.exact, 100.0 * 3 / 5);
  EXPECT_DOUBLE_EQ(r.all.f1, 100.0 * (1 + 1 + 2.0 / 3.0 + 0 + 1) / 5);
  EXPECT_EQ(r.all.total, 5);
  ASSERT_TRUE(r.has_ans && r.no_ans);
  EXPECT_EQ(r.has_ans->total, 3);
  EXPECT_EQ(r.no_ans->total, 2);
  EXPECT_DOUBLE_EQ(r.no_ans->exact, 50.0);
  EXPECT_FALSE(r.best.has_value());
}

TEST(SquadMetric, BestThresholdWalksNaProbsInFileOrder) {
  const SquadPredictions predictions = {
      {"q1", "Paris"}, {"q2", "x"}, {"q3", "wrong"}, {"q4", ""}, {"q5", ""}};
  // Sorted by na_prob (stable): q3 0.1, q1 0.2, q2 0.2, q4 0.2, q5 0.9.
  const SquadNaProbs na = {{"q1", 0.2}, {"q2", 0.2}, {"q3", 0.1}, {"q4", 0.2}, {"q5", 0.9}};
  SquadV2Options options;
  options.na_prob_thresh = 0.15;
  const SquadV2Result r = squad_v2_evaluate(tiny_squad(), predictions, &na, options);
  // Start = 2 NoAns; q3 (HasAns, 0) → 2; q1 (HasAns, 1) → 3 best @0.2; q2 (NoAns, pred "x")
  // → 2; q4 (NoAns, "") → 2; q5 (HasAns with gold [""], exact 1) → 3, not better.
  ASSERT_TRUE(r.best.has_value());
  EXPECT_DOUBLE_EQ(r.best->best_exact, 100.0 * 3 / 5);
  EXPECT_DOUBLE_EQ(r.best->best_exact_thresh, 0.2);
  // Thresholded: na > 0.15 → q1, q2, q4, q5 predicted unanswerable.
  // exact: q1 0 (has answer), q2 1, q3 0 (raw), q4 1, q5 0 (has answer).
  EXPECT_DOUBLE_EQ(r.all.exact, 100.0 * 2 / 5);
}

TEST(SquadMetric, MissingPredictionOrNaProbIsAnError) {
  SquadPredictions predictions = {{"q1", "Paris"}, {"q2", ""}, {"q3", "1066"}, {"q4", ""}};
  EXPECT_THROW(squad_v2_evaluate(tiny_squad(), predictions), Error);
  predictions["q5"] = "";
  const SquadNaProbs na = {{"q1", 0.5}};
  EXPECT_THROW(squad_v2_evaluate(tiny_squad(), predictions, &na), Error);
  EXPECT_THROW(squad_questions(json{{"data", json::array({json{{"title", "x"}}})}}), Error);
}

TEST(SquadMetric, SquadV1Semantics) {
  const std::vector<SquadQuestion> questions = {
      {"a", {"Denver Broncos", "Broncos"}}, {"b", {"Santa Clara"}}, {"c", {"gold"}}};
  const SquadPredictions predictions = {{"a", "the Broncos"}, {"b", "Clara, California"}};
  const SquadV1Result r = squad_v1_evaluate(questions, predictions);
  EXPECT_EQ(r.total, 3);
  EXPECT_EQ(r.missing, 1);
  EXPECT_DOUBLE_EQ(r.exact_match, 100.0 / 3);
  EXPECT_DOUBLE_EQ(r.f1, 100.0 * (1.0 + 0.5) / 3);  // b: p 1/2, r 1/2
}

// ================================================================================ seqeval

TagSequences read_tag_sequences(const json& value) { return value.get<TagSequences>(); }

void expect_prf(const PrecisionRecallF1& actual, const json& expected, const std::string& what,
                const char* f1_key = "f1") {
  EXPECT_NEAR(actual.precision, expected.at("precision").get<double>(), kTolerance) << what;
  EXPECT_NEAR(actual.recall, expected.at("recall").get<double>(), kTolerance) << what;
  EXPECT_NEAR(actual.f1, expected.at(f1_key).get<double>(), kTolerance) << what;
  if (expected.contains("support")) {
    EXPECT_EQ(actual.support, expected.at("support").get<std::int64_t>()) << what;
  }
}

TEST(SeqevalGolden, ConllPerturbationsBothModes) {
  const fs::path dir = metrics_dir() / "seqeval";
  const json results = read_json_file(dir / "results.json");
  const TagSequences gold =
      read_tag_sequences(read_json_file(dir / "gold_conll2003_test.json").at("tags"));
  ASSERT_EQ(gold.size(), 3453U);
  ASSERT_EQ(results.size(), 4U);
  for (const auto& [name, expected] : results.items()) {
    const TagSequences pred =
        name == "identity" ? gold
                           : read_tag_sequences(read_json_file(dir / ("pred_" + name + ".json")));
    for (const bool strict : {false, true}) {
      SeqevalOptions options;
      options.mode = strict ? SeqevalMode::kStrict : SeqevalMode::kDefault;
      options.scheme = TagScheme::kIOB2;
      const std::string mode = strict ? "strict_IOB2" : "default";
      const std::string what = name + " " + mode;
      const SeqevalReport report = seqeval_report(gold, pred, options);

      expect_prf(report.micro, expected.at(mode + "_micro"), what + " micro");
      expect_prf(report.macro, expected.at(mode + "_macro"), what + " macro");
      expect_prf(report.weighted, expected.at(mode + "_weighted"), what + " weighted");
      EXPECT_NEAR(report.accuracy, expected.at("accuracy_score").get<double>(), kTolerance) << what;
      expect_prf(seqeval_micro(gold, pred, options), expected.at(mode + "_micro"),
                 what + " f1_score");

      // classification_report(output_dict=True): every row, every field.
      const json& expected_dict = expected.at("classification_report_" + mode);
      const json actual_dict = to_json(report);
      ASSERT_EQ(actual_dict.size(), expected_dict.size()) << what << ": " << actual_dict.dump();
      for (const auto& [row, values] : expected_dict.items()) {
        ASSERT_TRUE(actual_dict.contains(row)) << what << ": no row " << row;
        const json& got = actual_dict.at(row);
        for (const char* key : {"precision", "recall", "f1-score"}) {
          EXPECT_NEAR(got.at(key).get<double>(), values.at(key).get<double>(), kTolerance)
              << what << " " << row << " " << key;
        }
        EXPECT_EQ(got.at("support").get<std::int64_t>(), values.at("support").get<std::int64_t>())
            << what << " " << row;
      }
      if (!strict) {
        EXPECT_EQ(format_seqeval_report(report, 4),
                  expected.at("classification_report_default_text").get<std::string>())
            << what;
      }
    }
  }
}

TEST(SeqevalGolden, Boundary20ModesReallyDiffer) {
  // Guard against a strict mode that silently falls back to the default one.
  const fs::path dir = metrics_dir() / "seqeval";
  const TagSequences gold =
      read_tag_sequences(read_json_file(dir / "gold_conll2003_test.json").at("tags"));
  const TagSequences pred = read_tag_sequences(read_json_file(dir / "pred_boundary20.json"));
  SeqevalOptions strict;
  strict.mode = SeqevalMode::kStrict;
  EXPECT_GT(seqeval_micro(gold, pred, strict).f1, seqeval_micro(gold, pred).f1 + 0.005);
  strict.scheme = TagScheme::kAuto;  // CoNLL-2003 gold is IOB2
  EXPECT_EQ(detect_scheme(gold), TagScheme::kIOB2);
  EXPECT_NEAR(
      seqeval_micro(gold, pred, strict).f1,
      read_json_file(dir / "results.json")["boundary20"]["strict_IOB2_micro"]["f1"].get<double>(),
      kTolerance);
}

TEST(SeqevalMetric, DocstringExample) {
  // seqeval's f1_score docstring: micro 2/3, macro 0.75, weighted 2/3.
  const TagSequences gold = {{"O", "O", "B-MISC", "I-MISC", "B-MISC", "O", "O"},
                             {"B-PER", "I-PER", "O"}};
  const TagSequences pred = {{"O", "O", "B-MISC", "I-MISC", "B-MISC", "I-MISC", "O"},
                             {"B-PER", "I-PER", "O"}};
  const SeqevalReport r = seqeval_report(gold, pred);
  EXPECT_DOUBLE_EQ(r.micro.f1, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.macro.f1, 0.75);
  EXPECT_DOUBLE_EQ(r.weighted.f1, 2.0 / 3.0);
  ASSERT_EQ(r.per_type.size(), 2U);
  EXPECT_EQ(r.per_type[0].type, "MISC");
  EXPECT_DOUBLE_EQ(r.per_type[0].scores.f1, 0.5);
  EXPECT_EQ(r.per_type[0].scores.support, 2);
  EXPECT_DOUBLE_EQ(r.accuracy, 9.0 / 10.0);
}

TEST(SeqevalMetric, SingleEntityAndDanglingInside) {
  const TagSequences gold = {{"O", "B-PER", "I-PER", "O"}};
  // An I-PER after O: a chunk in default mode, nothing in strict IOB2 mode.
  const TagSequences pred = {{"O", "I-PER", "I-PER", "O"}};
  EXPECT_DOUBLE_EQ(seqeval_micro(gold, pred).f1, 1.0);
  SeqevalOptions strict;
  strict.mode = SeqevalMode::kStrict;
  const PrecisionRecallF1 s = seqeval_micro(gold, pred, strict);
  EXPECT_DOUBLE_EQ(s.precision, 0.0);  // nothing predicted → zero_division 0
  EXPECT_DOUBLE_EQ(s.recall, 0.0);
  EXPECT_DOUBLE_EQ(s.f1, 0.0);
  EXPECT_EQ(s.support, 1);

  EXPECT_EQ(get_entities(std::vector<std::string>{"B-PER", "I-PER", "O", "B-LOC"}),
            (std::vector<Entity>{{-1, "PER", 0, 1}, {-1, "LOC", 3, 3}}));
  // Type change inside a chunk splits it in default mode.
  EXPECT_EQ(get_entities(std::vector<std::string>{"B-PER", "I-LOC"}),
            (std::vector<Entity>{{-1, "PER", 0, 0}, {-1, "LOC", 1, 1}}));
  EXPECT_EQ(get_entities_strict({"B-PER", "I-PER", "O", "B-LOC"}, TagScheme::kIOB2),
            (std::vector<Entity>{{0, "PER", 0, 2}, {0, "LOC", 3, 4}}));
}

TEST(SeqevalMetric, EmptyPredictionsAndNoEntities) {
  const TagSequences gold = {{"B-LOC", "O"}, {"B-PER", "I-PER"}};
  const TagSequences none = {{"O", "O"}, {"O", "O"}};
  const SeqevalReport r = seqeval_report(gold, none);
  EXPECT_DOUBLE_EQ(r.micro.f1, 0.0);
  EXPECT_DOUBLE_EQ(r.macro.f1, 0.0);
  EXPECT_DOUBLE_EQ(r.weighted.recall, 0.0);
  EXPECT_EQ(r.micro.support, 2);
  // No entity on either side: micro 0, macro NaN (numpy's mean of nothing), weighted 0.
  const SeqevalReport empty = seqeval_report(none, none);
  EXPECT_TRUE(empty.per_type.empty());
  EXPECT_DOUBLE_EQ(empty.micro.f1, 0.0);
  EXPECT_TRUE(std::isnan(empty.macro.f1));
  EXPECT_DOUBLE_EQ(empty.weighted.f1, 0.0);
  EXPECT_DOUBLE_EQ(empty.accuracy, 1.0);
}

TEST(SeqevalMetric, IobesAndSuffixSchemes) {
  SeqevalOptions strict;
  strict.mode = SeqevalMode::kStrict;
  strict.scheme = TagScheme::kIOBES;
  const TagSequences gold = {{"B-PER", "E-PER", "S-LOC", "O"}};
  EXPECT_EQ(get_entities_strict(gold[0], TagScheme::kIOBES),
            (std::vector<Entity>{{0, "PER", 0, 2}, {0, "LOC", 2, 3}}));
  // B-I without E is not an entity in strict IOBES.
  EXPECT_TRUE(get_entities_strict({"B-PER", "I-PER", "O"}, TagScheme::kIOBES).empty());
  EXPECT_DOUBLE_EQ(seqeval_micro(gold, gold, strict).f1, 1.0);
  EXPECT_EQ(detect_scheme(gold), TagScheme::kIOBES);
  // Default mode reads E/S too.
  EXPECT_EQ(get_entities(gold[0]), (std::vector<Entity>{{-1, "PER", 0, 1}, {-1, "LOC", 2, 2}}));
  // Suffix style.
  EXPECT_EQ(get_entities(std::vector<std::string>{"PER-B", "PER-I", "O"}, true),
            (std::vector<Entity>{{-1, "PER", 0, 1}}));
}

TEST(SeqevalMetric, BadInputIsAnError) {
  SeqevalOptions strict;
  strict.mode = SeqevalMode::kStrict;
  EXPECT_THROW(seqeval_report({{"O"}}, {{"O", "O"}}), Error);
  EXPECT_THROW(seqeval_report({{"O"}}, {{"O"}, {"O"}}), Error);
  EXPECT_THROW(seqeval_report({{"B-PER"}}, {{"E-PER"}}, strict), Error);  // E not in IOB2
  EXPECT_THROW(seqeval_report({{"X-PER"}}, {{"O"}}, strict), Error);
  EXPECT_THROW(seqeval_accuracy({}, {}), Error);
}

// ================================================================================ SuperGLUE

TEST(SuperGlueGolden, CommitmentBank) {
  const fs::path dir = metrics_dir() / "superglue";
  const json inputs = read_json_file(dir / "cb_inputs.json");
  const json expected_all = read_json_file(dir / "results.json").at("cb");
  const std::vector<int> gold = inputs.at("gold").get<std::vector<int>>();
  ASSERT_EQ(expected_all.size(), 3U);
  for (const auto& [name, expected] : expected_all.items()) {
    const std::vector<int> pred = inputs.at(name).get<std::vector<int>>();
    const CbScores scores = cb_scores(gold, pred);
    EXPECT_NEAR(scores.accuracy, expected.at("accuracy").get<double>(), kTolerance) << name;
    EXPECT_NEAR(scores.macro_f1, expected.at("macro_f1").get<double>(), kTolerance) << name;
    EXPECT_NEAR(macro_f1(gold, pred, std::vector<int>{0, 1, 2}),
                expected.at("macro_f1_labels_0_1_2").get<double>(), kTolerance)
        << name;
    const std::vector<double> per_class = expected.at("per_class_f1").get<std::vector<double>>();
    ASSERT_EQ(scores.per_class_f1.size(), per_class.size()) << name;
    for (std::size_t i = 0; i < per_class.size(); ++i) {
      EXPECT_NEAR(scores.per_class_f1[i], per_class[i], kTolerance) << name << " class " << i;
    }
  }
}

TEST(SuperGlueGolden, MultiRcAllVariants) {
  const fs::path dir = metrics_dir() / "superglue";
  const json inputs = read_json_file(dir / "multirc_inputs.json");
  const json expected_all = read_json_file(dir / "results.json").at("multirc");
  const json& rows = inputs.at("rows");
  ASSERT_EQ(expected_all.size(), 2U);
  for (const auto& [name, expected] : expected_all.items()) {
    const std::vector<int> pred = inputs.at(name).get<std::vector<int>>();
    ASSERT_EQ(pred.size(), rows.size());
    std::vector<MultiRcOption> options;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      options.push_back({rows[i].at("paragraph_idx").get<std::int64_t>(),
                         rows[i].at("question_idx").get<std::int64_t>(),
                         rows[i].at("label").get<int>(), pred[i]});
    }
    const MultiRcScores s = multirc_scores(options);
    EXPECT_NEAR(s.f1a, expected.at("f1a_binary_over_all_options").get<double>(), kTolerance)
        << name;
    EXPECT_NEAR(s.exact_match, expected.at("em_per_question").get<double>(), kTolerance) << name;
    EXPECT_NEAR(s.macro_f1, expected.at("macro_f1_over_all_options_SMoP").get<double>(), kTolerance)
        << name;
    EXPECT_NEAR(s.f1m, expected.at("f1m_mean_per_question_macro_f1").get<double>(), kTolerance)
        << name;
    EXPECT_NEAR(s.accuracy, expected.at("accuracy_over_all_options").get<double>(), kTolerance)
        << name;
    EXPECT_EQ(s.options, expected.at("n_options").get<std::int64_t>()) << name;
    EXPECT_EQ(s.questions, expected.at("n_questions").get<std::int64_t>()) << name;
  }
}

TEST(SuperGlueGolden, SmopStringLabelsWithAnInvalidGeneration) {
  const json expected = read_json_file(metrics_dir() / "superglue" / "results.json")
                            .at("smop_string_labels_with_invalid_prediction");
  const auto gold = expected.at("gold").get<std::vector<std::string>>();
  const auto pred = expected.at("pred").get<std::vector<std::string>>();
  EXPECT_NEAR(macro_f1(gold, pred), expected.at("macro_f1").get<double>(), kTolerance);
  EXPECT_NEAR(accuracy(gold, pred), expected.at("accuracy").get<double>(), kTolerance);
  std::vector<std::string> labels;
  for (const ClassScores<std::string>& c : per_class_scores(gold, pred)) labels.push_back(c.label);
  EXPECT_EQ(labels, expected.at("labels_seen_by_sklearn").get<std::vector<std::string>>());
}

TEST(SuperGlueMetric, MultiRcHandComputed) {
  // Question (0,0): gold 1 0, pred 1 0 → EM 1, macro F1 1.
  // Question (0,1): gold 1 1, pred 1 0 → EM 0, macro F1 over {0,1}: class 0 = 0, class 1 =
  // 2/3 → 1/3.
  const std::vector<MultiRcOption> options = {
      {0, 0, 1, 1}, {0, 0, 0, 0}, {0, 1, 1, 1}, {0, 1, 1, 0}};
  const MultiRcScores s = multirc_scores(options);
  EXPECT_EQ(s.questions, 2);
  EXPECT_DOUBLE_EQ(s.exact_match, 0.5);
  EXPECT_DOUBLE_EQ(s.f1m, (1.0 + 1.0 / 3.0) / 2.0);
  // All options: tp 2, predicted 2, gold 3 → p 1, r 2/3, F1a 0.8.
  EXPECT_DOUBLE_EQ(s.f1a, 0.8);
  // Class 0: tp 1, predicted 2, gold 1 → p 1/2, r 1, F1 2/3; macro (2/3 + 0.8) / 2.
  EXPECT_DOUBLE_EQ(s.macro_f1, (2.0 / 3.0 + 0.8) / 2.0);
  EXPECT_THROW(multirc_scores({{0, 0, 2, 1}}), Error);
}

TEST(SuperGlueMetric, RecordMaxOverGoldAnswers) {
  EXPECT_DOUBLE_EQ(record_exact_match("the Obama", {"Barack Obama", "Obama"}), 1.0);
  EXPECT_DOUBLE_EQ(record_f1("Barack", {"Barack Obama", "Michelle"}), 2.0 / 3.0);
  const RecordScores s = record_scores({"Obama", "nobody"}, {{"Barack Obama", "Obama"}, {"Trump"}});
  EXPECT_DOUBLE_EQ(s.exact_match, 0.5);
  EXPECT_DOUBLE_EQ(s.f1, 0.5);
  EXPECT_THROW(record_scores({"x"}, {{}}), Error);
}

// ================================================================================ sklearn

TEST(ClassificationMetric, ZeroDivisionAndBinaryRules) {
  const std::vector<int> gold = {0, 1, 2, 2};
  const std::vector<int> pred = {0, 0, 0, 0};
  // Class 0: tp 1, predicted 4, gold 1 → p 1/4, r 1, F1 0.4; classes 1, 2: never predicted → 0.
  EXPECT_DOUBLE_EQ(macro_f1(gold, pred), 0.4 / 3.0);
  // A label absent from both sides still counts when listed explicitly.
  EXPECT_DOUBLE_EQ(macro_f1(gold, pred, {0, 1, 2, 3}), 0.4 / 4.0);
  const auto report = classification_report(gold, pred);
  EXPECT_DOUBLE_EQ(report.accuracy, 0.25);
  EXPECT_DOUBLE_EQ(report.micro.f1, 0.25);
  EXPECT_DOUBLE_EQ(report.weighted.f1, 0.4 * 1 / 4);
  // zero_division = 1 (sklearn's option) for classes never predicted.
  EXPECT_DOUBLE_EQ(per_class_scores(gold, pred, {}, 1.0)[1].scores.precision, 1.0);

  EXPECT_DOUBLE_EQ(binary_f1(std::vector<int>{1, 0, 1}, std::vector<int>{1, 1, 0}, 1), 0.5);
  EXPECT_DOUBLE_EQ(binary_f1(std::vector<int>{0, 0}, std::vector<int>{0, 0}, 1), 0.0);
  EXPECT_THROW(binary_f1(gold, pred, 1), Error);  // three labels
  EXPECT_THROW(binary_f1(std::vector<int>{2, 3}, std::vector<int>{3, 2}, 1), Error);
  EXPECT_THROW(accuracy(std::vector<int>{1}, std::vector<int>{1, 2}), Error);
  const std::vector<std::string> words = {"yes", "no"};
  EXPECT_DOUBLE_EQ(binary_f1(words, std::vector<std::string>{"yes", "yes"}, std::string("yes")),
                   2.0 / 3.0);
}

// ================================================================================ SRL

TEST(SrlMetric, SrlEvalCountsExcludeTheVerb) {
  const std::vector<std::vector<std::string>> gold = {
      {"B-ARG0", "I-ARG0", "B-V", "B-ARG1", "I-ARG1", "O"}};
  const std::vector<std::vector<std::string>> pred = {
      {"B-ARG0", "I-ARG0", "B-V", "B-ARG1", "O", "O"}};
  const SrlEvalResult r = srl_eval(gold, pred);
  EXPECT_EQ(r.overall.correct, 1);  // ARG0
  EXPECT_EQ(r.overall.excess, 1);   // ARG1 (3,3)
  EXPECT_EQ(r.overall.missed, 1);   // ARG1 (3,4)
  EXPECT_DOUBLE_EQ(r.overall.f1(), 0.5);
  EXPECT_EQ(r.excluded.at("V").correct, 1);
  EXPECT_EQ(r.per_type.count("V"), 0U);
  EXPECT_EQ(r.propositions, 1);
  EXPECT_EQ(r.perfect_propositions, 0);
  EXPECT_NE(format_srl_eval_report(r).find("   Overall        1       1       1    50.00"),
            std::string::npos)
      << format_srl_eval_report(r);
}

TEST(SrlMetric, ContinuationArgumentsMatchAsAWhole) {
  const std::vector<std::string> gold = {"B-ARG1", "O", "B-V", "B-C-ARG1", "I-C-ARG1"};
  const std::vector<SrlArgument> args = srl_arguments_from_bio(gold);
  ASSERT_EQ(args.size(), 2U);
  EXPECT_EQ(args[0].type, "ARG1");
  EXPECT_EQ(args[0].start, 0);
  EXPECT_EQ(args[0].end, 4);
  EXPECT_EQ(args[0].pieces.size(), 2U);

  SrlEvalResult same = srl_eval({gold}, {gold});
  EXPECT_EQ(same.overall.correct, 1);
  EXPECT_EQ(same.perfect_propositions, 1);
  // Predicting the two pieces as two separate ARG1s: both excess, the discontinuous gold missed.
  const SrlEvalResult split = srl_eval({gold}, {{"B-ARG1", "O", "B-V", "B-ARG1", "I-ARG1"}});
  EXPECT_EQ(split.overall.correct, 0);
  EXPECT_EQ(split.overall.excess, 2);
  EXPECT_EQ(split.overall.missed, 1);
  // A continuation without its head is a plain argument; a dangling I- starts a phrase.
  const std::vector<SrlArgument> lone = srl_arguments_from_bio({"I-C-ARG2", "I-C-ARG2", "O"});
  ASSERT_EQ(lone.size(), 1U);
  EXPECT_EQ(lone[0].type, "ARG2");
  EXPECT_EQ(lone[0].end, 1);
  EXPECT_THROW(srl_arguments_from_bio({"X"}), Error);
}

}  // namespace
}  // namespace ptbench::metrics
