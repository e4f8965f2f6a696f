// `ptbench report RESULTS`: aggregates run records over seeds, compares them with reference
// tables, writes markdown and a self-contained HTML page with gnuplot charts, and checks or
// rewrites a score baseline (reports/*.h).
#include <cstdio>
#include <iostream>
#include <memory>

#include "common/error.h"
#include "common/files.h"
#include "harness/cli.h"
#include "reports/baseline.h"
#include "reports/charts.h"
#include "reports/html.h"
#include "reports/markdown.h"
#include "reports/report.h"

namespace ptbench {
namespace {

struct ReportArguments {
  std::string results_dir;
  std::vector<std::string> references;
  std::vector<std::string> formats{"md", "html"};
  std::string out_dir;              // default: results_dir
  std::string check;                // baseline to check against
  std::string write_baseline;       // baseline to (re)write
  double min_tolerance = 1.0;       // points, for --write-baseline
  double confidence = 0.95;
};

int run_report(const ReportArguments& arguments) {
  bool markdown = false, html = false;
  for (const std::string& format : arguments.formats) {
    if (format == "md") markdown = true;
    else if (format == "html") html = true;
    else if (format != "none") fail("report --format: unknown format '", format, "' (known: md, html, none)");
  }
  if (!(arguments.confidence > 0 && arguments.confidence < 1)) fail("report --confidence must lie in (0, 1), got ", arguments.confidence);
  if (arguments.min_tolerance < 0) fail("report --tolerance must not be negative, got ", arguments.min_tolerance);

  std::vector<std::filesystem::path> references(arguments.references.begin(), arguments.references.end());
  const reports::Report report = reports::build_report(arguments.results_dir, references, arguments.confidence);
  const std::filesystem::path out(arguments.out_dir.empty() ? arguments.results_dir : arguments.out_dir);
  std::fprintf(stderr, "report: %zu run records, %zu cells\n", report.records.runs.size(), report.cells.size());
  if (markdown) {
    write_file_atomic(out / "report.md", reports::render_markdown(report));
    std::cout << "markdown: " << (out / "report.md").string() << "\n";
  }
  if (html) {
    const std::vector<reports::Chart> charts = reports::draw_charts(report);
    write_file_atomic(out / "report.html", reports::render_html(report, charts));
    std::cout << "html: " << (out / "report.html").string() << " (" << charts.size() << " charts)\n";
  }
  // The claims, one line each, so a replication ends with what it reproduced (also in the report).
  for (const reports::ClaimResult& claim : report.claims) std::cout << "claim: " << claim.summary_line() << "\n";
  std::string rewrite = "ptbench report " + arguments.results_dir + " --format none --write-baseline " +
                        (arguments.write_baseline.empty() ? arguments.check : arguments.write_baseline);
  if (arguments.min_tolerance != 1.0) rewrite += " --tolerance " + std::to_string(arguments.min_tolerance);
  if (!arguments.write_baseline.empty()) {
    reports::BaselineOptions options;
    options.min_tolerance = arguments.min_tolerance;
    options.rewrite_command = rewrite;
    const nlohmann::json baseline = reports::make_baseline(report, options);
    write_json_atomic(arguments.write_baseline, baseline);
    std::cout << "baseline: " << arguments.write_baseline << " (" << baseline["cells"].size() << " cells)\n";
  }
  if (!arguments.check.empty()) {
    const nlohmann::json baseline = read_json_file(arguments.check);
    const std::vector<reports::CheckFinding> findings = reports::check_baseline(report, baseline, arguments.check);
    std::size_t failures = 0;
    for (const reports::CheckFinding& finding : findings) {
      std::fprintf(stderr, "report --check: %s %s: %s\n", finding.fails ? "FAIL" : "note", finding.cell.c_str(),
                   finding.message.c_str());
      if (finding.fails) ++failures;
    }
    if (failures > 0) {
      const std::string stored = baseline.value("rewrite", std::string());
      std::fprintf(stderr,
                   "report --check: %zu of %zu baseline cells failed against %s. If the change is intended, rewrite the "
                   "baseline: %s\n",
                   failures, baseline["cells"].size(), arguments.check.c_str(), (stored.empty() ? rewrite : stored).c_str());
      return 1;
    }
    std::fprintf(stderr, "report --check: all %zu baseline cells within tolerance (%s)\n", baseline["cells"].size(),
                 arguments.check.c_str());
  }
  return 0;
}

}  // namespace

CliCommand add_report_command(CLI::App& app) {
  auto arguments = std::make_shared<ReportArguments>();
  CLI::App* command = app.add_subcommand(
      "report", "aggregate run records over seeds, compare with reference tables, write markdown/HTML, check a baseline");
  command->add_option("results", arguments->results_dir, "folder of run records (searched recursively)")->required();
  command->add_option("--reference", arguments->references, "reference table JSON (results/reference/*.json); repeatable")
      ->check(CLI::ExistingFile);
  command->add_option("--format", arguments->formats, "md, html (charts need gnuplot), or none; comma-separated (default md,html)")
      ->delimiter(',');
  command->add_option("--out", arguments->out_dir, "folder for report.md and report.html (default: the results folder)");
  command->add_option("--check", arguments->check,
                      "baseline JSON: exit 1 naming each cell that regressed beyond its tolerance, is missing, or changed "
                      "its trainable parameter count")
      ->check(CLI::ExistingFile);
  command->add_option("--write-baseline", arguments->write_baseline,
                      "write a baseline from these results: expected = mean, tolerance = max(--tolerance, 2 std)");
  command->add_option("--tolerance", arguments->min_tolerance, "smallest tolerance in points for --write-baseline (default 1)");
  command->add_option("--confidence", arguments->confidence, "confidence level of the intervals (default 0.95)");
  return {command, [arguments] { return run_report(*arguments); }};
}

}  // namespace ptbench
