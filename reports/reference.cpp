#include "reports/reference.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "common/error.h"
#include "common/files.h"
#include "harness/config.h"
#include "reports/report.h"

namespace ptbench::reports {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::vector<std::string> kMatchKeys = {"geometry", "backbone", "options", "spec"};
const std::vector<std::string> kCostNames = {"step_ms", "peak_rss_mb", "train_flops_per_example", "forward_flops_per_example"};

std::string text_field(const json& object, const char* key, const std::string& where, bool required) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    if (required) fail(where, ": missing \"", key, "\"");
    return "";
  }
  if (!it->is_string()) fail(where, ": \"", key, "\" must be a string, got ", it->dump());
  return it->get<std::string>();
}

std::optional<double> optional_number(const json& object, const char* key, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) fail(where, ": \"", key, "\" must be a number, got ", it->dump());
  return it->get<double>();
}

std::optional<double> value_field(const json& object, const std::string& where) {
  auto it = object.find("value");
  if (it == object.end()) fail(where, ": missing \"value\" (a number, or null where the source is not confirmed)");
  if (it->is_null()) return std::nullopt;
  if (!it->is_number()) fail(where, ": \"value\" must be a number or null, got ", it->dump());
  return it->get<double>();
}

json match_field(const json& object, const std::string& where) {
  auto it = object.find("match");
  if (it == object.end() || it->is_null()) return json::object();
  if (!it->is_object()) fail(where, ": \"match\" must be an object, got ", it->dump());
  for (const auto& [key, value] : it->items()) {
    if (std::find(kMatchKeys.begin(), kMatchKeys.end(), key) == kMatchKeys.end()) {
      fail(where, ": unknown match key \"", key, "\"", suggestion_suffix(key, kMatchKeys), " (known: ", join(kMatchKeys, ", "), ")");
    }
    if (key == "backbone" ? !value.is_string() : !value.is_object()) {
      fail(where, ": match.", key, " must be ", key == "backbone" ? "a string" : "an object", ", got ", value.dump());
    }
  }
  return *it;
}

bool matches_scope(const json& match, const Cell& cell) {
  if (match.contains("backbone") && match["backbone"].get<std::string>() != cell.backbone) return false;
  if (match.contains("geometry") && !json_subset(match["geometry"], cell.geometry)) return false;
  if (match.contains("options") && !json_subset(match["options"], cell.key.value("method", json::object()))) return false;
  if (match.contains("spec") && !json_subset(match["spec"], cell.key)) return false;
  return true;
}

std::string signed_text(double value, const char* unit) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%+.2f%s", value, unit);
  return buffer;
}

}  // namespace

Reference read_reference(const fs::path& file) {
  const json document = read_json_file(file);
  const std::string where = file.string();
  if (!document.is_object()) fail(where, ": a reference file is a JSON object with \"title\", \"source\" and \"tables\"");
  Reference reference;
  reference.file = file;
  reference.title = text_field(document, "title", where, true);
  if (document.contains("source") && document["source"].is_object()) {
    reference.source = text_field(document["source"], "url", where + " source", false);
  } else {
    reference.source = text_field(document, "source", where, false);
  }
  const json tables = document.value("tables", json::array());
  if (!tables.is_array()) fail(where, ": \"tables\" must be an array");
  for (std::size_t t = 0; t < tables.size(); ++t) {
    const json& table_json = tables[t];
    const std::string table_where = where + " tables[" + std::to_string(t) + "]";
    if (!table_json.is_object()) fail(table_where, ": must be an object");
    ReferenceTable table;
    table.id = text_field(table_json, "id", table_where, true);
    table.title = text_field(table_json, "title", table_where, true);
    table.source = text_field(table_json, "source", table_where, false);
    const std::string table_method = text_field(table_json, "method", table_where, false);
    const std::string table_split = text_field(table_json, "split", table_where, false);
    const json table_match = match_field(table_json, table_where);
    const json cells = table_json.value("cells", json::array());
    if (!cells.is_array() || cells.empty()) fail(table_where, ": \"cells\" must be a non-empty array");
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const json& cell_json = cells[c];
      const std::string cell_where = table_where + ".cells[" + std::to_string(c) + "]";
      if (!cell_json.is_object()) fail(cell_where, ": must be an object");
      ReferenceCell cell;
      cell.task = text_field(cell_json, "task", cell_where, true);
      cell.metric = text_field(cell_json, "metric", cell_where, true);
      cell.method = text_field(cell_json, "method", cell_where, false);
      if (cell.method.empty()) cell.method = table_method;
      if (cell.method.empty()) fail(cell_where, ": no \"method\" (give it on the cell or the table)");
      cell.label = text_field(cell_json, "label", cell_where, false);
      if (cell.label.empty()) cell.label = cell.task;
      cell.value = value_field(cell_json, cell_where);
      cell.unconfirmed_value = optional_number(cell_json, "unconfirmed_value", cell_where);
      cell.match = table_match;
      cell.match.merge_patch(match_field(cell_json, cell_where));
      cell.split = text_field(cell_json, "split", cell_where, false);
      if (cell.split.empty()) cell.split = table_split.empty() ? "validation" : table_split;
      cell.source = text_field(cell_json, "source", cell_where, false);
      if (cell.source.empty()) cell.source = table.source;
      cell.note = text_field(cell_json, "note", cell_where, false);
      table.cells.push_back(std::move(cell));
    }
    reference.tables.push_back(std::move(table));
  }
  const json claims = document.value("claims", json::array());
  if (!claims.is_array()) fail(where, ": \"claims\" must be an array");
  for (std::size_t c = 0; c < claims.size(); ++c) {
    const json& claim_json = claims[c];
    const std::string claim_where = where + " claims[" + std::to_string(c) + "]";
    if (!claim_json.is_object()) fail(claim_where, ": must be an object");
    ReferenceClaim claim;
    claim.id = text_field(claim_json, "id", claim_where, true);
    claim.title = text_field(claim_json, "title", claim_where, true);
    claim.kind = text_field(claim_json, "kind", claim_where, true);
    if (claim.kind != "score_gain" && claim.kind != "cost_reduction" && claim.kind != "parity") {
      fail(claim_where, ": unknown kind \"", claim.kind, "\"",
           suggestion_suffix(claim.kind, {"score_gain", "cost_reduction", "parity"}), " (known: score_gain, cost_reduction, parity)");
    }
    if (claim.kind == "parity") {
      const auto threshold = optional_number(claim_json, "threshold", claim_where);
      if (!threshold || *threshold < 0) fail(claim_where, ": a parity claim needs \"threshold\" (points, >= 0)");
      claim.threshold = *threshold;
    }
    claim.cost = text_field(claim_json, "cost", claim_where, claim.kind == "cost_reduction");
    if (claim.kind == "cost_reduction" && std::find(kCostNames.begin(), kCostNames.end(), claim.cost) == kCostNames.end()) {
      fail(claim_where, ": unknown cost \"", claim.cost, "\"", suggestion_suffix(claim.cost, kCostNames), " (known: ",
           join(kCostNames, ", "), ")");
    }
    claim.value = value_field(claim_json, claim_where);
    claim.unconfirmed_value = optional_number(claim_json, "unconfirmed_value", claim_where);
    claim.unit = text_field(claim_json, "unit", claim_where, false);
    claim.source = text_field(claim_json, "source", claim_where, false);
    claim.note = text_field(claim_json, "note", claim_where, false);
    claim.match = match_field(claim_json, claim_where);
    for (const char* side : {"method", "baseline"}) {
      const json& pattern = claim_json.value(side, json());
      if (!pattern.is_object() || !pattern.contains("name") || !pattern["name"].is_string()) {
        fail(claim_where, ": \"", side, "\" must be an object with a \"name\" (and method options to match)");
      }
      (std::string(side) == "method" ? claim.method : claim.baseline) = pattern;
    }
    reference.claims.push_back(std::move(claim));
  }
  return reference;
}

bool reference_matches(const ReferenceCell& reference, const Cell& cell) {
  return reference.task == cell.task && reference.method == cell.method && cell.metrics.count(reference.metric) > 0 &&
         matches_scope(reference.match, cell);
}

std::vector<TableComparison> compare(const Reference& reference, const std::vector<Cell>& cells) {
  std::vector<TableComparison> comparisons;
  for (const ReferenceTable& table : reference.tables) {
    TableComparison comparison;
    comparison.reference = &reference;
    comparison.table = &table;
    for (const ReferenceCell& ref : table.cells) {
      bool any = false;
      for (std::size_t i = 0; i < cells.size(); ++i) {
        if (!reference_matches(ref, cells[i])) continue;
        any = true;
        ComparisonRow row;
        row.reference = &ref;
        row.cell = i;
        row.ours = cells[i].metrics.at(ref.metric);
        if (ref.split != cells[i].reported_split) {
          row.verdict = "split differs (reference: " + ref.split + ", ours: " + cells[i].reported_split + ")";
        } else if (!ref.value) {
          row.verdict = "no reference value";
        } else {
          row.difference = row.ours->mean - *ref.value;
          row.verdict = !row.ours->has_ci() ? "n/a (" + std::to_string(row.ours->n) + " seed)"
                        : row.ours->ci_contains(*ref.value) ? "yes"
                                                            : "no";
        }
        comparison.rows.push_back(row);
      }
      if (!any) {
        ComparisonRow row;
        row.reference = &ref;
        row.verdict = "not run";
        comparison.rows.push_back(row);
      }
    }
    comparisons.push_back(std::move(comparison));
  }
  return comparisons;
}

namespace {

std::optional<double> RunCosts::*cost_field(const std::string& cost) {
  return cost == "step_ms"                   ? &RunCosts::step_ms
         : cost == "peak_rss_mb"             ? &RunCosts::peak_rss_mb
         : cost == "train_flops_per_example" ? &RunCosts::train_flops_per_example
                                             : &RunCosts::forward_flops_per_example;
}

// 100 · (1 − method / baseline), when both have the cost.
std::optional<double> reduction(const RunCosts& method, const RunCosts& baseline, const std::string& cost) {
  const auto field = cost_field(cost);
  if (!(method.*field) || !(baseline.*field) || *(baseline.*field) <= 0) return std::nullopt;
  return 100.0 * (1.0 - *(method.*field) / *(baseline.*field));
}

bool bench_matches_scope(const json& match, const BenchRun& run) {
  if (match.contains("backbone") && match["backbone"].get<std::string>() != run.backbone) return false;
  if (match.contains("geometry") && !json_subset(match["geometry"], run.geometry)) return false;
  if (match.contains("options") && !json_subset(match["options"], run.method_block)) return false;
  return !match.contains("spec");  // bench runs have no run spec to match
}

std::string figure_text(double figure, const std::string& kind) {
  return signed_text(figure, kind == "cost_reduction" ? " %" : "");
}

}  // namespace

std::string ClaimResult::summary_line() const {
  const std::optional<double> claimed = claim->value ? claim->value : claim->unconfirmed_value;
  std::string line = claim->title + ": ";
  if (claim->kind == "parity") {
    line += ours ? "ours " + format_fixed(*ours, 0) + " of " + std::to_string(tasks) + " tasks within " +
                       format_fixed(claim->threshold, 1) + " point(s)"
                 : "ours —";
  } else {
    line += ours ? "ours " + figure_text(*ours, claim->kind) + (claim->kind == "cost_reduction" ? "" : " points") : "ours —";
  }
  if (claimed) {
    line += ", paper " + format_fixed(*claimed, claim->kind == "parity" ? 0 : 1) + " " + claim->unit +
            (claim->value ? "" : " (unconfirmed)");
  }
  if (!ours) return line + " — not reproduced here: " + detail;
  bool same_way = false;
  if (claim->kind == "parity") same_way = tasks > 0 && *ours == static_cast<double>(tasks);
  else same_way = *ours > 0;
  return line + (same_way ? " — reproduced in direction" : " — NOT reproduced") + " (" + detail + ")";
}

std::vector<ClaimResult> evaluate_claims(const Reference& reference, const std::vector<Cell>& cells,
                                         const std::vector<BenchRun>& bench) {
  std::vector<ClaimResult> results;
  for (const ReferenceClaim& claim : reference.claims) {
    ClaimResult result;
    result.reference = &reference;
    result.claim = &claim;
    // Per backbone and task, the best-scoring cell of each side (papers report their best setting).
    std::map<std::string, std::pair<std::optional<std::size_t>, std::optional<std::size_t>>> sides;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const Cell& cell = cells[i];
      if (cell.scored.empty() || !matches_scope(claim.match, cell)) continue;
      const json method_block = cell.key.value("method", json::object());
      auto& [method, baseline] = sides[cell.backbone + " " + cell.task];
      for (auto [pattern, slot] : {std::make_pair(&claim.method, &method), std::make_pair(&claim.baseline, &baseline)}) {
        if (!json_subset(*pattern, method_block)) continue;
        if (!*slot || cell.primary.mean > cells[**slot].primary.mean) *slot = i;
      }
    }
    std::vector<double> figures;
    std::string detail;
    auto add = [&](const std::string& name, double figure) {
      figures.push_back(figure);
      if (!detail.empty()) detail += "; ";
      detail += name + " " + figure_text(figure, claim.kind);
    };
    for (const auto& [name, pair] : sides) {
      if (!pair.first || !pair.second) continue;
      const Cell& m = cells[*pair.first];
      const Cell& b = cells[*pair.second];
      if (claim.kind == "cost_reduction") {
        if (const auto figure = reduction(m.costs.mean, b.costs.mean, claim.cost)) add(name, *figure);
      } else {
        add(name, m.primary.mean - b.primary.mean);
      }
    }
    if (claim.kind == "cost_reduction") {
      // Bench measurements: both sides from one invocation, so they share the machine's state.
      std::map<std::size_t, std::pair<const BenchRun*, const BenchRun*>> invocations;
      for (const BenchRun& run : bench) {
        if (!bench_matches_scope(claim.match, run)) continue;
        auto& [method, baseline] = invocations[run.invocation];
        if (!method && json_subset(claim.method, run.method_block)) method = &run;
        if (!baseline && json_subset(claim.baseline, run.method_block)) baseline = &run;
      }
      for (const auto& [invocation, pair] : invocations) {
        if (!pair.first || !pair.second) continue;
        const auto figure = reduction(pair.first->costs, pair.second->costs, claim.cost);
        if (!figure) continue;
        add("bench " + pair.first->backbone + " batch " + std::to_string(pair.first->batch) + " seq " +
                std::to_string(pair.first->seq) + " (" + pair.first->variant + " vs " + pair.second->variant + ")",
            *figure);
      }
    }
    result.tasks = figures.size();
    if (figures.empty()) {
      result.detail = "no backbone/task with both a " + claim.method["name"].get<std::string>() + " and a " +
                      claim.baseline["name"].get<std::string>() + (claim.kind == "cost_reduction" ? " cell or bench run" : " cell") +
                      " that match";
    } else if (claim.kind == "score_gain") {
      double sum = 0;
      for (double f : figures) sum += f;
      result.ours = sum / static_cast<double>(figures.size());
      result.detail = "mean over " + std::to_string(figures.size()) + ": " + detail;
    } else if (claim.kind == "parity") {
      const auto at_parity = std::count_if(figures.begin(), figures.end(), [&](double f) { return f >= -claim.threshold; });
      result.ours = static_cast<double>(at_parity);
      result.detail = std::to_string(at_parity) + " of " + std::to_string(figures.size()) + " at least baseline − " +
                      format_fixed(claim.threshold, 1) + ": " + detail;
    } else {
      result.ours = *std::max_element(figures.begin(), figures.end());
      result.detail = "largest of " + std::to_string(figures.size()) + ": " + detail;
    }
    results.push_back(std::move(result));
  }
  return results;
}

}  // namespace ptbench::reports
