#include "reports/report.h"

#include <cmath>
#include <cstdio>

namespace ptbench::reports {
namespace fs = std::filesystem;

Report build_report(const fs::path& results_dir, const std::vector<fs::path>& reference_files, double confidence) {
  Report report;
  report.results_dir = results_dir;
  report.confidence = confidence;
  report.records = read_run_records(results_dir);
  report.cells = aggregate(report.records, confidence);
  for (const fs::path& file : reference_files) report.references.push_back(read_reference(file));
  // Only now that `references` is complete do pointers into it stay valid.
  for (const Reference& reference : report.references) {
    for (TableComparison& comparison : compare(reference, report.cells)) report.comparisons.push_back(std::move(comparison));
    for (ClaimResult& claim : evaluate_claims(reference, report.cells, report.records.bench)) report.claims.push_back(std::move(claim));
  }
  return report;
}

std::string format_fixed(double value, int decimals) {
  if (std::isnan(value)) return "—";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

std::string format_count(double value) {
  if (std::isnan(value)) return "—";
  const double magnitude = std::fabs(value);
  char buffer[64];
  if (magnitude >= 1e9) std::snprintf(buffer, sizeof buffer, "%.3gG", value / 1e9);
  else if (magnitude >= 1e6) std::snprintf(buffer, sizeof buffer, "%.3gM", value / 1e6);
  else if (magnitude >= 1e3) std::snprintf(buffer, sizeof buffer, "%.3gk", value / 1e3);
  else std::snprintf(buffer, sizeof buffer, "%.3g", value);
  return buffer;
}

std::string format_bytes(double value) {
  if (std::isnan(value)) return "—";
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (std::fabs(value) >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, unit == 0 ? "%.0f %s" : "%.3g %s", value, units[unit]);
  return buffer;
}

namespace {

double or_nan(const std::optional<double>& value) { return value ? *value : std::nan(""); }

std::string ratio_text(const Cell& cell, const std::string& name) {
  auto it = cell.costs.ratio_to_full.find(name);
  if (it == cell.costs.ratio_to_full.end()) return "—";
  if (it->second >= 0.1) return "×" + format_fixed(it->second, 2);
  char buffer[32];  // three significant digits: a 0.06 % method is ×0.000572, not ×0.001
  std::snprintf(buffer, sizeof buffer, "×%.3g", it->second);
  return buffer;
}

std::string ci_text(const SampleStats& stats) {
  if (!stats.has_ci()) return "—";
  return "[" + format_fixed(stats.ci_low, 2) + ", " + format_fixed(stats.ci_high, 2) + "]";
}

std::string join_notes(const std::vector<std::string>& notes) {
  std::string text;
  for (const std::string& note : notes) text += (text.empty() ? "" : "; ") + note;
  return text;
}

// A reference figure: the value, or "—" with the unconfirmed figure beside it when there is one.
std::string reference_text(const std::optional<double>& value, const std::optional<double>& unconfirmed) {
  if (value) return format_fixed(*value, 2);
  if (unconfirmed) return "— (" + format_fixed(*unconfirmed, 2) + " unconfirmed)";
  return "—";
}

std::string confidence_text(double confidence) { return format_fixed(100.0 * confidence, 0) + " %"; }

TextTable results_table(const Report& report) {
  TextTable table;
  table.id = "results";
  table.title = "Results";
  table.caption = "Primary metric of each task, in points (0–100), over seeds: mean, sample standard deviation, "
                  "min, max and the " + confidence_text(report.confidence) +
                  " confidence interval of the mean (Student t, n − 1 degrees of freedom). A cell is one resolved "
                  "run spec without its seed; the variant names the spec keys that differ between cells of the same "
                  "backbone, task and method.";
  table.header = {"backbone", "task", "method", "variant", "metric", "n", "mean", "std", "min", "max",
                  confidence_text(report.confidence) + " CI", "notes"};
  for (const Cell& cell : report.cells) {
    table.rows.push_back({cell.backbone, cell.task, cell.method, cell.variant, cell.primary_metric,
                          std::to_string(cell.primary.n), format_fixed(cell.primary.mean, 2), format_fixed(cell.primary.std, 2),
                          format_fixed(cell.primary.min, 2), format_fixed(cell.primary.max, 2), ci_text(cell.primary),
                          join_notes(cell.notes)});
  }
  return table;
}

TextTable comparison_table(const Report& report, const TableComparison& comparison, std::size_t index) {
  TextTable table;
  table.id = "reference-" + std::to_string(index + 1) + "-" + comparison.table->id;
  table.title = comparison.reference->title + ": " + comparison.table->title;
  table.caption = "Reference file " + comparison.reference->file.filename().string() +
                  (comparison.reference->source.empty() ? "" : "; source " + comparison.reference->source) +
                  ". \"in CI\" says whether the reference value lies in our " + confidence_text(report.confidence) +
                  " confidence interval; — where the source value is not confirmed.";
  table.header = {"column", "task", "method", "metric", "reference", "ours (mean)", "difference",
                  confidence_text(report.confidence) + " CI", "n", "in CI", "our cell", "source"};
  for (const ComparisonRow& row : comparison.rows) {
    const ReferenceCell& ref = *row.reference;
    std::string source = ref.source;
    if (!ref.note.empty()) source += (source.empty() ? "" : " — ") + ref.note;
    table.rows.push_back({ref.label, ref.task, ref.method, ref.metric, reference_text(ref.value, ref.unconfirmed_value),
                          row.ours ? format_fixed(row.ours->mean, 2) : "—",
                          row.difference ? (*row.difference >= 0 ? "+" : "") + format_fixed(*row.difference, 2) : "—",
                          row.ours ? ci_text(*row.ours) : "—", row.ours ? std::to_string(row.ours->n) : "0", row.verdict,
                          row.cell ? report.cells[*row.cell].label() : "—", source});
  }
  return table;
}

TextTable claims_table(const Report& report) {
  TextTable table;
  table.id = "claims";
  table.title = "Claims";
  table.caption = "Statements of the reference sources about one method against another, recomputed from our cells "
                  "(per backbone and task the best-scoring cell of each method).";
  table.header = {"source", "claim", "claimed", "ours", "unit", "how ours is computed", "claim source"};
  for (const ClaimResult& result : report.claims) {
    const ReferenceClaim& claim = *result.claim;
    std::string source = claim.source;
    if (!claim.note.empty()) source += (source.empty() ? "" : " — ") + claim.note;
    table.rows.push_back({result.reference->file.filename().string(), claim.title,
                          reference_text(claim.value, claim.unconfirmed_value), result.ours ? format_fixed(*result.ours, 2) : "—",
                          claim.unit, result.detail, source});
  }
  return table;
}

TextTable costs_table(const Report& report) {
  TextTable table;
  table.id = "costs";
  table.title = "Costs";
  table.caption = "Means over the scored runs of each cell; ×full is the ratio to the full fine-tuning cell of the same "
                  "backbone and task (the one whose spec differs least). Step time is the median training step after "
                  "warm-up; peak memory the run's own peak RSS; FLOPs counted at run time (forward + backward per "
                  "training example, and the forward part alone).";
  table.header = {"backbone", "task", "method", "variant", "trainable", "trainable %", "stored", "×full",
                  "step ms", "×full", "train ex/s", "×full", "peak MB", "×full",
                  "train GFLOP/ex", "×full", "fwd GFLOP/ex", "×full"};
  for (const Cell& cell : report.cells) {
    const RunCosts& c = cell.costs.mean;
    table.rows.push_back({cell.backbone, cell.task, cell.method, cell.variant, format_count(or_nan(c.trainable_parameters)),
                          format_fixed(or_nan(c.trainable_percent), 3), format_bytes(or_nan(c.stored_bytes)),
                          ratio_text(cell, "stored_bytes"), format_fixed(or_nan(c.step_ms), 1), ratio_text(cell, "step_ms"),
                          format_fixed(or_nan(c.train_examples_per_s), 1), ratio_text(cell, "train_examples_per_s"),
                          format_fixed(or_nan(c.peak_rss_mb), 0), ratio_text(cell, "peak_rss_mb"),
                          format_fixed(or_nan(c.train_flops_per_example) / 1e9, 3), ratio_text(cell, "train_flops_per_example"),
                          format_fixed(or_nan(c.forward_flops_per_example) / 1e9, 3),
                          ratio_text(cell, "forward_flops_per_example")});
  }
  return table;
}

TextTable bench_table(const Report& report) {
  TextTable table;
  table.id = "bench";
  table.title = "Cost measurements (ptbench bench)";
  table.caption = "Training steps and inference batches timed by `ptbench bench` on random weights, for geometries too "
                  "large to train here. Ratios are to the first method of the same invocation (measured in one run, "
                  "each method in its own process); peak memory is the process's peak RSS, FLOPs counted at run time.";
  table.header = {"file", "backbone", "batch × seq", "method", "trainable %", "step ms", "×first", "peak MB", "×first",
                  "fwd GFLOP/ex", "×first"};
  const BenchRun* first = nullptr;
  for (const BenchRun& run : report.records.bench) {
    if (!first || first->invocation != run.invocation) first = &run;
    auto ratio = [&](std::optional<double> RunCosts::*field) {
      const auto& mine = run.costs.*field;
      const auto& theirs = first->costs.*field;
      return mine && theirs && *theirs > 0 ? format_fixed(*mine / *theirs, 3) : std::string("—");
    };
    table.rows.push_back({fs::relative(run.file, report.results_dir).string(), run.backbone,
                          std::to_string(run.batch) + " × " + std::to_string(run.seq), run.variant,
                          format_fixed(or_nan(run.costs.trainable_percent), 3), format_fixed(or_nan(run.costs.step_ms), 1),
                          ratio(&RunCosts::step_ms), format_fixed(or_nan(run.costs.peak_rss_mb), 0), ratio(&RunCosts::peak_rss_mb),
                          format_fixed(or_nan(run.costs.forward_flops_per_example) / 1e9, 3),
                          ratio(&RunCosts::forward_flops_per_example)});
  }
  return table;
}

TextTable attention_table(const Report& report) {
  TextTable table;
  table.id = "attention";
  table.title = "Runs needing attention";
  table.caption = "Failed runs (no score), diverged runs (non-finite loss) and degenerate runs (every prediction one "
                  "class: their score is in the statistics above, flagged).";
  table.header = {"run", "status", "cell", "file", "error"};
  for (const Cell& cell : report.cells) {
    for (std::size_t i : cell.runs) {
      const RunSummary& run = report.records.runs[i];
      if (run.status == "ok") continue;
      std::string error = run.error.substr(0, run.error.find('\n'));
      table.rows.push_back({run.run_id, run.status, cell.label(), fs::relative(run.file, report.results_dir).string(), error});
    }
  }
  return table;
}

}  // namespace

std::vector<std::string> summary_lines(const Report& report) {
  int ok = 0, degenerate = 0, diverged = 0, failed = 0;
  for (const Cell& cell : report.cells) {
    ok += cell.ok;
    degenerate += cell.degenerate;
    diverged += cell.diverged;
    failed += cell.failed;
  }
  std::vector<std::string> lines;
  lines.push_back(std::to_string(report.records.runs.size()) + " run records from " + report.results_dir.string() + " in " +
                  std::to_string(report.cells.size()) + " cells: " + std::to_string(ok) + " ok, " + std::to_string(degenerate) +
                  " degenerate, " + std::to_string(diverged) + " diverged, " + std::to_string(failed) + " failed.");
  if (!report.records.bench.empty()) {
    lines.push_back(std::to_string(report.records.bench.size()) + " methods measured by ptbench bench (cost only, no score).");
  }
  if (!report.records.ignored.empty()) {
    lines.push_back(std::to_string(report.records.ignored.size()) + " other JSON files are not run records and were ignored.");
  }
  for (const Reference& reference : report.references) {
    lines.push_back("Reference: " + reference.title + " (" + reference.file.filename().string() + ")" +
                    (reference.source.empty() ? "" : ", " + reference.source) + ".");
  }
  lines.push_back("Scores are in points (0–100): accuracy and F1 fractions × 100; SQuAD's exact match and F1 as the official "
                  "scripts print them.");
  return lines;
}

std::vector<TextTable> report_tables(const Report& report) {
  std::vector<TextTable> tables;
  tables.push_back(results_table(report));
  for (std::size_t i = 0; i < report.comparisons.size(); ++i) tables.push_back(comparison_table(report, report.comparisons[i], i));
  tables.push_back(claims_table(report));
  tables.push_back(costs_table(report));
  tables.push_back(bench_table(report));
  tables.push_back(attention_table(report));
  std::vector<TextTable> kept;
  for (TextTable& table : tables)
    if (!table.rows.empty()) kept.push_back(std::move(table));
  return kept;
}

}  // namespace ptbench::reports
