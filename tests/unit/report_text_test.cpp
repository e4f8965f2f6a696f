// The report on the hand-written records of tests/fixtures/records/basic: aggregation over
// seeds, comparison with a reference table and claims, cost ratios, the baseline check, and the
// errors a malformed record or reference file gives. Every expected number is worked out by hand
// from the fixture values (README.md there), not taken from a run of this code.
#include <cmath>
#include <fstream>

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/files.h"
#include "reports/baseline.h"
#include "reports/charts.h"
#include "reports/markdown.h"
#include "reports/report.h"
#include "tests/test_support.h"

namespace ptbench::reports {
namespace {

namespace fs = std::filesystem;
using testing::fixtures_dir;
using testing::temp_dir;

// Two-sided 95 % Student-t critical values from a t table: t(0.975, 1) and t(0.975, 2).
constexpr double kT1 = 12.706204736174707;
constexpr double kT2 = 4.302652729749464;

fs::path records() { return fixtures_dir() / "records" / "basic"; }
fs::path reference_file() { return fixtures_dir() / "records" / "reference.json"; }

const Report& fixture_report() {
  static const Report report = build_report(records(), {reference_file()});
  return report;
}

TEST(ReportStats, MeanStdAndStudentTIntervalByHand) {
  const SampleStats s = SampleStats::of({70, 72, 74});
  EXPECT_EQ(s.n, 3u);
  EXPECT_DOUBLE_EQ(s.mean, 72.0);
  EXPECT_NEAR(s.std, 2.0, 1e-12);  // sqrt((4 + 0 + 4) / 2)
  EXPECT_DOUBLE_EQ(s.min, 70.0);
  EXPECT_DOUBLE_EQ(s.max, 74.0);
  const double half = kT2 * 2.0 / std::sqrt(3.0);
  EXPECT_NEAR(s.ci_low, 72.0 - half, 1e-9);
  EXPECT_NEAR(s.ci_high, 72.0 + half, 1e-9);
  EXPECT_TRUE(s.ci_contains(73.0));
  EXPECT_FALSE(s.ci_contains(80.0));

  const SampleStats one = SampleStats::of({61.5});
  EXPECT_EQ(one.n, 1u);
  EXPECT_DOUBLE_EQ(one.mean, 61.5);
  EXPECT_TRUE(std::isnan(one.std));
  EXPECT_FALSE(one.has_ci());
  EXPECT_FALSE(one.ci_contains(61.5));

  EXPECT_EQ(SampleStats::of({}).n, 0u);
  EXPECT_NEAR(student_t_critical(0.95, 1), kT1, 1e-9);
  EXPECT_NEAR(student_t_critical(0.95, 30), 2.042272456301238, 1e-9);
  EXPECT_NEAR(student_t_critical(0.99, 2), 9.924843200918276, 1e-9);
}

TEST(ReportAggregate, GroupsSeedsAndDropsExecutionOnlyKeys) {
  const Report& report = fixture_report();
  EXPECT_EQ(report.records.runs.size(), 11u);
  ASSERT_EQ(report.records.ignored.size(), 1u);  // sweep-state.json
  EXPECT_EQ(report.records.ignored[0].filename(), "sweep-state.json");
  ASSERT_EQ(report.cells.size(), 4u);
  // Sorted by backbone, task, method (full first), variant.
  EXPECT_EQ(report.cells[0].label(), "tiny-bert / rte / full");
  EXPECT_EQ(report.cells[1].label(), "tiny-bert / rte / prefix [length=4]");
  EXPECT_EQ(report.cells[2].label(), "tiny-bert / rte / prefix [length=8]");
  EXPECT_EQ(report.cells[3].label(), "tiny-bert / squad / prefix");

  // Seeds 1, 2, 3 at 0.70, 0.72, 0.74; seed 3 ran twice (threads 0 and 2, which do not split
  // the cell) and only the newer record (0.74, 120 ms) counts, not the older (0.50, 300 ms).
  const Cell& full = report.cells[0];
  EXPECT_EQ(full.runs.size(), 4u);
  EXPECT_EQ(full.scored.size(), 3u);
  EXPECT_EQ(full.primary_metric, "accuracy");
  EXPECT_EQ(full.primary.n, 3u);
  EXPECT_NEAR(full.primary.mean, 72.0, 1e-9);
  EXPECT_NEAR(full.primary.std, 2.0, 1e-9);
  EXPECT_NEAR(full.primary.ci_high - full.primary.mean, kT2 * 2.0 / std::sqrt(3.0), 1e-9);
  EXPECT_NEAR(full.primary.min, 70.0, 1e-9);
  EXPECT_NEAR(full.primary.max, 74.0, 1e-9);
  EXPECT_NEAR(*full.costs.mean.step_ms, 110.0, 1e-9);  // (100 + 110 + 120) / 3
  EXPECT_FALSE(full.key.contains("data_dir"));
  EXPECT_FALSE(full.key["train"].contains("seed"));
  EXPECT_FALSE(full.key["train"].contains("threads"));
  EXPECT_EQ(full.key["backbone"], "tiny-bert");  // "models/tiny-bert" by its folder name
  ASSERT_EQ(full.notes.size(), 1u);
  EXPECT_NE(full.notes[0].find("seed 3 has several records"), std::string::npos);

  const Cell& p4 = report.cells[1];
  EXPECT_EQ(p4.primary.n, 2u);
  EXPECT_NEAR(p4.primary.mean, 62.0, 1e-9);
  EXPECT_NEAR(p4.primary.std, std::sqrt(8.0), 1e-9);
  EXPECT_NEAR(p4.primary.ci_low, 62.0 - kT1 * std::sqrt(8.0) / std::sqrt(2.0), 1e-9);

  // 0.66 ok, 0.50 degenerate (kept, flagged), one failed run (no score).
  const Cell& p8 = report.cells[2];
  EXPECT_EQ(p8.runs.size(), 3u);
  EXPECT_EQ(p8.ok, 1);
  EXPECT_EQ(p8.degenerate, 1);
  EXPECT_EQ(p8.failed, 1);
  EXPECT_EQ(p8.primary.n, 2u);
  EXPECT_NEAR(p8.primary.mean, 58.0, 1e-9);
  EXPECT_NEAR(p8.primary.std, std::sqrt(128.0), 1e-9);

  // SQuAD metrics are percentages already: 50 and 54, not 5000.
  const Cell& squad = report.cells[3];
  EXPECT_EQ(squad.primary_metric, "f1");
  EXPECT_NEAR(squad.primary.mean, 52.0, 1e-9);
  EXPECT_NEAR(squad.metrics.at("exact_match").mean, 41.0, 1e-9);
  EXPECT_EQ(squad.metrics.count("total"), 0u);  // an integer count, not a score
  EXPECT_TRUE(squad.variant.empty());
}

TEST(ReportAggregate, CostRatiosToFullFineTuning) {
  const Report& report = fixture_report();
  const Cell& p4 = report.cells[1];
  ASSERT_TRUE(p4.costs.full_cell.has_value());
  EXPECT_EQ(*p4.costs.full_cell, 0u);
  const auto& ratio = p4.costs.ratio_to_full;
  EXPECT_NEAR(ratio.at("step_ms"), 55.0 / 110.0, 1e-12);
  EXPECT_NEAR(ratio.at("peak_rss_mb"), 250.0 / 500.0, 1e-12);
  EXPECT_NEAR(ratio.at("trainable_parameters"), 10.0 / 1000.0, 1e-12);
  EXPECT_NEAR(ratio.at("stored_bytes"), 40.0 / 4000.0, 1e-12);
  EXPECT_NEAR(ratio.at("train_examples_per_s"), 20.0 / 10.0, 1e-12);
  EXPECT_NEAR(ratio.at("train_flops_per_example"), 1.5e9 / 3.0e9, 1e-12);
  // Forward share: prefix 1.5e9 · 1/1.5 = 1e9, full 3e9 · 1/3 = 1e9.
  EXPECT_NEAR(*p4.costs.mean.forward_flops_per_example, 1.0e9, 1e-3);
  EXPECT_NEAR(ratio.at("forward_flops_per_example"), 1.0, 1e-12);
  EXPECT_NEAR(report.cells[0].costs.ratio_to_full.at("step_ms"), 1.0, 1e-12);
  EXPECT_FALSE(report.cells[3].costs.full_cell.has_value());  // no full SQuAD cell
}

TEST(ReportReference, ComparesEachReferenceCellWithTheCellsItDescribes) {
  const Report& report = fixture_report();
  ASSERT_EQ(report.comparisons.size(), 1u);
  const TableComparison& table = report.comparisons[0];
  ASSERT_EQ(table.rows.size(), 7u);  // the length-free PT-2 row matches both prefix cells
  const auto& ft = table.rows[0];
  EXPECT_EQ(ft.reference->label, "RTE FT");
  ASSERT_TRUE(ft.difference.has_value());
  EXPECT_NEAR(*ft.difference, 72.0 - 73.0, 1e-9);
  EXPECT_EQ(ft.verdict, "yes");  // 73 lies in 72 ± 4.97
  const auto& pt2 = table.rows[1];
  EXPECT_EQ(report.cells[*pt2.cell].label(), "tiny-bert / rte / prefix [length=4]");
  EXPECT_NEAR(*pt2.difference, 62.0 - 90.0, 1e-9);
  EXPECT_EQ(pt2.verdict, "no");  // 90 lies above 62 + 25.41
  EXPECT_EQ(table.rows[2].verdict, "yes");  // SQuAD F1 52.5 in 52 ± 25.41
  EXPECT_EQ(table.rows[3].verdict, "split differs (reference: test, ours: validation)");
  EXPECT_EQ(table.rows[4].verdict, "not run");
  EXPECT_FALSE(table.rows[4].cell.has_value());
  EXPECT_EQ(table.rows[5].verdict, "no reference value");
  EXPECT_EQ(table.rows[6].verdict, "no reference value");
}

TEST(ReportReference, ClaimsAreRecomputedFromTheBestCellPerTask) {
  const Report& report = fixture_report();
  ASSERT_EQ(report.claims.size(), 2u);
  // RTE: best prefix cell (length 4, 62) − full (72) = −10; SQuAD has no full cell.
  ASSERT_TRUE(report.claims[0].ours.has_value());
  EXPECT_NEAR(*report.claims[0].ours, -10.0, 1e-9);
  // 100 · (1 − 55 ms / 110 ms).
  ASSERT_TRUE(report.claims[1].ours.has_value());
  EXPECT_NEAR(*report.claims[1].ours, 50.0, 1e-9);
}

TEST(ReportCheck, PassesOnItsBaselineAndNamesThePlantedRegression) {
  const Report& report = fixture_report();
  const fs::path dir = fixtures_dir() / "records";
  for (const CheckFinding& finding : check_baseline(report, read_json_file(dir / "baseline.json"), "baseline.json")) {
    EXPECT_FALSE(finding.fails) << finding.cell << ": " << finding.message;
  }
  std::vector<CheckFinding> failing;
  for (const CheckFinding& finding :
       check_baseline(report, read_json_file(dir / "baseline_regression.json"), "baseline_regression.json")) {
    if (finding.fails) failing.push_back(finding);
  }
  ASSERT_EQ(failing.size(), 1u);
  EXPECT_NE(failing[0].cell.find("tiny-bert / rte / full"), std::string::npos) << failing[0].cell;
  EXPECT_NE(failing[0].message.find("regression: accuracy 72.0000 < expected 80.0000"), std::string::npos) << failing[0].message;
}

TEST(ReportCheck, MissingCellsAndChangedParameterCountsFail) {
  const Report& report = fixture_report();
  nlohmann::json baseline = read_json_file(fixtures_dir() / "records" / "baseline.json");
  baseline["cells"][0]["trainable_parameters"] = 999;
  baseline["cells"].push_back({{"label", "tiny-bert / wic / prefix"},
                               {"key", {{"task", "wic"}}},
                               {"metric", "accuracy"},
                               {"expected", 60.0},
                               {"tolerance", 1.0}});
  std::vector<std::string> messages;
  for (const CheckFinding& finding : check_baseline(report, baseline, "edited.json"))
    if (finding.fails) messages.push_back(finding.cell + ": " + finding.message);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_NE(messages[0].find("trainable parameters 1000 != baseline 999"), std::string::npos) << messages[0];
  EXPECT_NE(messages[1].find("tiny-bert / wic / prefix"), std::string::npos) << messages[1];
  EXPECT_NE(messages[1].find("missing"), std::string::npos) << messages[1];

  EXPECT_THROW(check_baseline(report, nlohmann::json{{"cells", 1}}, "bad.json"), Error);
}

TEST(ReportCheck, AWrittenBaselineHoldsForTheRecordsItCameFrom) {
  const Report& report = fixture_report();
  BaselineOptions options;
  options.rewrite_command = "ptbench report DIR --write-baseline FILE";
  const nlohmann::json baseline = make_baseline(report, options);
  ASSERT_EQ(baseline["cells"].size(), 4u);
  EXPECT_EQ(baseline["rewrite"], options.rewrite_command);
  EXPECT_DOUBLE_EQ(baseline["cells"][0]["expected"].get<double>(), 72.0);
  EXPECT_DOUBLE_EQ(baseline["cells"][0]["tolerance"].get<double>(), 4.0);  // max(1, 2 · std 2)
  EXPECT_EQ(baseline["cells"][0]["trainable_parameters"], 1000);
  for (const CheckFinding& finding : check_baseline(report, baseline, "written")) {
    EXPECT_FALSE(finding.fails) << finding.cell << ": " << finding.message;
  }
}

TEST(ReportCheck, TrainingLossDriftFailsInEitherDirection) {
  const Report& report = fixture_report();
  const nlohmann::json written = make_baseline(report, BaselineOptions{});
  // rte / full: last-epoch losses 0.6, 0.5, 0.4 (the older seed-3 record's 0.8 is replaced).
  ASSERT_TRUE(written["cells"][0].contains("train_loss"));
  EXPECT_NEAR(written["cells"][0]["train_loss"]["expected"].get<double>(), 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(written["cells"][0]["train_loss"]["relative_tolerance"].get<double>(), 0.005);
  for (std::size_t i = 1; i < written["cells"].size(); ++i) EXPECT_FALSE(written["cells"][i].contains("train_loss")) << i;

  for (double planted : {0.5 * 1.01, 0.5 * 0.99}) {
    nlohmann::json baseline = written;
    baseline["cells"][0]["train_loss"]["expected"] = planted;
    std::vector<std::string> messages;
    for (const CheckFinding& finding : check_baseline(report, baseline, "drift.json"))
      if (finding.fails) messages.push_back(finding.cell + ": " + finding.message);
    ASSERT_EQ(messages.size(), 1u) << planted;
    EXPECT_NE(messages[0].find("tiny-bert / rte / full"), std::string::npos) << messages[0];
    EXPECT_NE(messages[0].find("training loss drifted: 0.500000"), std::string::npos) << messages[0];
  }
  nlohmann::json within = written;
  within["cells"][0]["train_loss"]["expected"] = 0.5 * 1.004;  // inside 0.5 %
  for (const CheckFinding& finding : check_baseline(report, within, "within.json")) EXPECT_FALSE(finding.fails) << finding.message;
}

TEST(ReportBench, BenchOutputAnswersCostClaimsAtLargeGeometries) {
  const fs::path dir = fixtures_dir() / "records" / "bench";
  const Report report = build_report(dir, {dir / "reference.json"});
  EXPECT_TRUE(report.records.runs.empty());
  ASSERT_EQ(report.records.bench.size(), 2u);
  const BenchRun& smop = report.records.bench[1];
  EXPECT_EQ(smop.backbone, "t5-large");
  EXPECT_EQ(smop.method_block["num_prompts"], 4);
  EXPECT_EQ(smop.method_block["name"], "smop");
  EXPECT_DOUBLE_EQ(*smop.costs.train_flops_per_example, 7.5e9);  // 60 GFLOP per step of 8
  EXPECT_DOUBLE_EQ(*smop.costs.forward_flops_per_example, 3e9);
  EXPECT_EQ(report.records.bench[0].invocation, smop.invocation);

  ASSERT_EQ(report.claims.size(), 4u);
  const double by_hand[] = {25.0, 20.0, 25.0};  // 1 − 150/200, 1 − 800/1000, 1 − 3/4
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(report.claims[i].ours.has_value()) << report.claims[i].detail;
    EXPECT_NEAR(*report.claims[i].ours, by_hand[i], 1e-9) << report.claims[i].claim->id;
    EXPECT_EQ(report.claims[i].tasks, 1u);
    EXPECT_NE(report.claims[i].summary_line().find("reproduced in direction"), std::string::npos)
        << report.claims[i].summary_line();
  }
  EXPECT_NE(report.claims[0].summary_line().find("ours +25.00 %, paper 14.6 %"), std::string::npos)
      << report.claims[0].summary_line();
  EXPECT_FALSE(report.claims[3].ours.has_value());  // T5-base: nothing measured
  EXPECT_NE(report.claims[3].summary_line().find("not reproduced here"), std::string::npos);

  bool has_bench_table = false;
  for (const TextTable& table : report_tables(report)) {
    if (table.id != "bench") continue;
    has_bench_table = true;
    ASSERT_EQ(table.rows.size(), 2u);
    EXPECT_EQ(table.rows[1][6], "0.750");  // step ×first
    EXPECT_EQ(table.rows[1][8], "0.800");  // peak ×first
  }
  EXPECT_TRUE(has_bench_table);
}

TEST(ReportClaims, ParityCountsTasksWithinTheThreshold) {
  // basic/: rte full 72, best prefix cell 62 (length 4): −10 points on the one task both ran.
  const fs::path dir = temp_dir("parity");
  nlohmann::json reference = {
      {"schema", "ptbench-reference/1"}, {"title", "parity"}, {"tables", nlohmann::json::array()},
      {"claims",
       {{{"id", "tight"}, {"kind", "parity"}, {"threshold", 1.0}, {"title", "within 1"}, {"value", nullptr}, {"unit", "tasks"},
         {"method", {{"name", "prefix"}}}, {"baseline", {{"name", "full"}}}},
        {{"id", "loose"}, {"kind", "parity"}, {"threshold", 10.0}, {"title", "within 10"}, {"value", nullptr}, {"unit", "tasks"},
         {"method", {{"name", "prefix"}}}, {"baseline", {{"name", "full"}}}}}}};
  write_json_atomic(dir / "parity.json", reference);
  const Report report = build_report(records(), {dir / "parity.json"});
  ASSERT_EQ(report.claims.size(), 2u);
  ASSERT_TRUE(report.claims[0].ours && report.claims[1].ours);
  EXPECT_EQ(*report.claims[0].ours, 0.0);
  EXPECT_EQ(*report.claims[1].ours, 1.0);
  EXPECT_EQ(report.claims[1].tasks, 1u);
  EXPECT_NE(report.claims[0].summary_line().find("ours 0 of 1 tasks within 1.0 point(s)"), std::string::npos)
      << report.claims[0].summary_line();
  EXPECT_NE(report.claims[0].summary_line().find("NOT reproduced"), std::string::npos);
  reference["claims"][0].erase("threshold");
  write_json_atomic(dir / "bad.json", reference);
  EXPECT_THROW(read_reference(dir / "bad.json"), Error);
}

TEST(ReportMarkdown, HasEveryTableAndFlagsRunsNeedingAttention) {
  const std::string markdown = render_markdown(fixture_report());
  for (const char* heading : {"## Results", "## Fixture paper: Table 1 (dev)", "## Claims", "## Costs", "## Runs needing attention"}) {
    EXPECT_NE(markdown.find(heading), std::string::npos) << heading;
  }
  EXPECT_NE(markdown.find("| tiny-bert | rte | full |  | accuracy | 3 | 72.00 | 2.00 | 70.00 | 74.00 |"), std::string::npos)
      << markdown;
  EXPECT_NE(markdown.find("| rtep8s3 | failed | tiny-bert / rte / prefix [length=8] | rte-prefix8-seed3.json | out of memory allocating 4 GiB |"),
            std::string::npos);
  EXPECT_EQ(markdown.find("Exception raised from"), std::string::npos);  // first line of the error only
  EXPECT_NE(markdown.find("| rtep8s2 | degenerate |"), std::string::npos);
  EXPECT_NE(markdown.find("×0.50"), std::string::npos);   // prefix step time vs full
  EXPECT_NE(markdown.find("×0.01 |"), std::string::npos);  // 10 of 1000 trainable parameters
}

TEST(ReportCharts, GnuplotProgramDrawsEveryChartKind) {
  std::vector<Chart> charts;
  const std::string program = gnuplot_program(fixture_report(), "/tmp/out", charts);
  std::vector<std::string> ids;
  for (const Chart& chart : charts) ids.push_back(chart.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"score-rte", "spread-rte", "score-squad", "spread-squad", "cost-tiny-bert-rte",
                                           "cost-tiny-bert-squad"}));
  EXPECT_NE(program.find("set logscale x 10"), std::string::npos);
  EXPECT_NE(program.find("set output \"/tmp/out/score-rte.svg\""), std::string::npos);
  EXPECT_NE(program.find("set style histogram clustered"), std::string::npos);

  const std::string svg = inline_svg(
      "<?xml version=\"1.0\"?>\n<svg id=\"gnuplot_canvas\"><defs><path id='gpPt0'/></defs><use xlink:href='#gpPt0' "
      "filter=\"url(#textbox)\" stroke-width=\"1\"/></svg>",
      "c1");
  EXPECT_EQ(svg,
            "<svg id=\"c1-gnuplot_canvas\"><defs><path id='c1-gpPt0'/></defs><use xlink:href='#c1-gpPt0' "
            "filter=\"url(#c1-textbox)\" stroke-width=\"1\"/></svg>");
}

TEST(ReportErrors, MalformedRecordsAndReferencesNameTheFileAndKey) {
  const fs::path dir = temp_dir("report-bad");
  std::ofstream(dir / "run.json") << R"({"schema_version": 1, "run_id": "x", "spec": {"task": "rte", "method": {"name": "full"},
                                         "train": {"seed": 1}, "backbone": "m"}})";
  try {
    read_run_records(dir);
    FAIL() << "a record without status was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("run.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no status"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_run_records(dir / "missing"), Error);

  std::ofstream(dir / "ref.json") << R"({"title": "t", "tables": [{"id": "a", "title": "b", "cells": [
      {"task": "rte", "method": "full", "metric": "accuracy", "value": 1, "match": {"geometri": {}}}]}]})";
  try {
    read_reference(dir / "ref.json");
    FAIL() << "an unknown match key was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tables[0].cells[0]: unknown match key \"geometri\" (did you mean 'geometry'?)"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace ptbench::reports
