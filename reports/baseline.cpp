#include "reports/baseline.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "common/error.h"

namespace ptbench::reports {
using nlohmann::json;

namespace {

constexpr const char* kSchema = "ptbench-baseline/1";

// Rounded so the file stays readable and diffs stay small; 1e-4 points is far below any tolerance.
double rounded(double value) { return std::round(value * 1e4) / 1e4; }

// Mean final training loss over the cell's scored runs; nullopt unless every one has it.
std::optional<double> mean_final_train_loss(const Report& report, const Cell& cell) {
  double sum = 0;
  for (std::size_t run : cell.scored) {
    const auto& loss = report.records.runs[run].final_train_loss;
    if (!loss) return std::nullopt;
    sum += *loss;
  }
  if (cell.scored.empty()) return std::nullopt;
  return sum / static_cast<double>(cell.scored.size());
}

}  // namespace

json make_baseline(const Report& report, const BaselineOptions& options) {
  json cells = json::array();
  for (const Cell& cell : report.cells) {
    if (cell.scored.empty() || cell.primary.n == 0) continue;
    double tolerance = options.min_tolerance;
    if (cell.primary.has_ci()) tolerance = std::max(tolerance, options.std_multiplier * cell.primary.std);
    json entry = {{"cell", cell.id},
                  {"label", cell.label()},
                  {"key", cell.key},
                  {"metric", cell.primary_metric},
                  {"expected", rounded(cell.primary.mean)},
                  {"tolerance", rounded(tolerance)},
                  {"n", cell.primary.n}};
    if (cell.costs.mean.trainable_parameters) entry["trainable_parameters"] = std::llround(*cell.costs.mean.trainable_parameters);
    if (const auto loss = mean_final_train_loss(report, cell)) {
      entry["train_loss"] = {{"expected", *loss}, {"relative_tolerance", options.loss_relative_tolerance}};
    }
    cells.push_back(entry);
  }
  return {{"schema", kSchema},
          {"rewrite", options.rewrite_command},
          {"tolerance_rule", "points; max(" + format_fixed(options.min_tolerance, 2) + ", " +
                                 format_fixed(options.std_multiplier, 1) + " x std over seeds); a cell regresses when its "
                                 "mean is below expected - tolerance; train_loss (the last epoch's, mean over seeds) "
                                 "fails when it moves by more than relative_tolerance either way"},
          {"cells", cells}};
}

std::vector<CheckFinding> check_baseline(const Report& report, const json& baseline, const std::string& name) {
  if (!baseline.is_object() || baseline.value("schema", std::string()) != kSchema || !baseline.contains("cells") ||
      !baseline["cells"].is_array()) {
    fail(name, ": not a ptbench baseline (expected {\"schema\": \"", kSchema, "\", \"cells\": [...]}); write one with "
         "ptbench report RESULTS --write-baseline ", name);
  }
  const std::string rewrite = baseline.value("rewrite", std::string());
  std::vector<CheckFinding> findings;
  std::vector<bool> used(report.cells.size(), false);
  const json& entries = baseline["cells"];
  for (std::size_t e = 0; e < entries.size(); ++e) {
    const json& entry = entries[e];
    const std::string where = name + " cells[" + std::to_string(e) + "]";
    if (!entry.is_object() || !entry.contains("key") || !entry["key"].is_object() || !entry.contains("metric") ||
        !entry["metric"].is_string() || !entry.contains("expected") || !entry["expected"].is_number() ||
        !entry.contains("tolerance") || !entry["tolerance"].is_number() || entry["tolerance"].get<double>() < 0) {
      fail(where, ": needs key (object), metric (string), expected (number) and tolerance (number >= 0)");
    }
    const std::string label = entry.value("label", std::string("cell ") + std::to_string(e)) + " (" +
                              entry.value("cell", std::string("?")) + ")";
    const std::string metric = entry["metric"].get<std::string>();
    const double expected = entry["expected"].get<double>();
    const double tolerance = entry["tolerance"].get<double>();

    std::vector<std::size_t> candidates;
    for (std::size_t i = 0; i < report.cells.size(); ++i)
      if (json_subset(entry["key"], report.cells[i].key)) candidates.push_back(i);
    if (candidates.size() > 1) {
      std::vector<std::size_t> exact;
      for (std::size_t i : candidates)
        if (report.cells[i].key == entry["key"]) exact.push_back(i);
      candidates = exact;
    }
    if (candidates.empty()) {
      findings.push_back({label, "missing: no run records for this cell in " + report.results_dir.string(), true});
      continue;
    }
    if (candidates.size() > 1) {
      findings.push_back({label, "ambiguous: " + std::to_string(candidates.size()) +
                                     " cells match this baseline key; rewrite the baseline", true});
      continue;
    }
    const Cell& cell = report.cells[candidates.front()];
    used[candidates.front()] = true;
    auto stats = cell.metrics.find(metric);
    if (cell.scored.empty() || stats == cell.metrics.end()) {
      findings.push_back({label, "no scored run (" + std::to_string(cell.failed) + " failed, " + std::to_string(cell.diverged) +
                                     " diverged) or no metric '" + metric + "'", true});
      continue;
    }
    const double mean = stats->second.mean;
    if (mean < expected - tolerance) {
      findings.push_back({label, "regression: " + metric + " " + format_fixed(mean, 4) + " < expected " +
                                     format_fixed(expected, 4) + " - tolerance " + format_fixed(tolerance, 4) + " (n = " +
                                     std::to_string(stats->second.n) + ")", true});
    } else if (mean > expected + tolerance) {
      findings.push_back({label, "improved: " + metric + " " + format_fixed(mean, 4) + " > expected " + format_fixed(expected, 4) +
                                     " + tolerance " + format_fixed(tolerance, 4) +
                                     (rewrite.empty() ? std::string() : "; to accept it run: " + rewrite), false});
    }
    if (entry.contains("trainable_parameters") && entry["trainable_parameters"].is_number() && cell.costs.mean.trainable_parameters &&
        std::llround(*cell.costs.mean.trainable_parameters) != entry["trainable_parameters"].get<long long>()) {
      findings.push_back({label, "trainable parameters " + std::to_string(std::llround(*cell.costs.mean.trainable_parameters)) +
                                     " != baseline " + std::to_string(entry["trainable_parameters"].get<long long>()), true});
    }
    if (entry.contains("train_loss")) {
      const json& loss_entry = entry["train_loss"];
      if (!loss_entry.is_object() || !loss_entry.contains("expected") || !loss_entry["expected"].is_number() ||
          !loss_entry.contains("relative_tolerance") || !loss_entry["relative_tolerance"].is_number()) {
        fail(where, ".train_loss: needs expected (number) and relative_tolerance (number)");
      }
      const double expected_loss = loss_entry["expected"].get<double>();
      const double relative = loss_entry["relative_tolerance"].get<double>();
      const auto loss = mean_final_train_loss(report, cell);
      if (!loss) {
        findings.push_back({label, "no final training loss in the records (record.epochs[-1].train_loss)", true});
      } else if (std::abs(*loss - expected_loss) > relative * std::max(std::abs(expected_loss), 1e-12)) {
        findings.push_back({label, "training loss drifted: " + format_fixed(*loss, 6) + " vs expected " +
                                       format_fixed(expected_loss, 6) + " (relative tolerance " + format_fixed(relative, 4) +
                                       "): the run computes something else" +
                                       (rewrite.empty() ? std::string() : "; if that is intended, run: " + rewrite),
                            true});
      }
    }
  }
  for (std::size_t i = 0; i < report.cells.size(); ++i) {
    if (!used[i] && !report.cells[i].scored.empty()) {
      findings.push_back({report.cells[i].label() + " (" + report.cells[i].id + ")", "new cell, not in the baseline", false});
    }
  }
  return findings;
}

}  // namespace ptbench::reports
