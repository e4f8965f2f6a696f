// Reference tables (results/reference/*.json): the papers' and official repositories' numbers,
// each with its source, and the comparison of our cells with them. The file format is
// documented in results/reference/README.md.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/aggregate.h"

namespace ptbench::reports {

// One number of a source table.
struct ReferenceCell {
  std::string label;             // the source's column name ("BoolQ", "SQuAD 1.1 EM")
  std::string task;              // ptbench task name
  std::string method;            // ptbench method name
  std::string metric;            // metric name in our records ("accuracy", "f1", "exact_match")
  std::optional<double> value;   // in points (0–100); nullopt where the source could not be confirmed
  // A figure seen only in a secondary source or cited without confirmation: printed beside the
  // missing value, never compared.
  std::optional<double> unconfirmed_value;
  // Which of our cells this number describes beyond task and method: "geometry" (subset of the
  // record's backbone geometry), "backbone" (folder or geometry name), "options" (subset of the
  // method options), "spec" (subset of the group key). Table-level and cell-level merged.
  nlohmann::json match = nlohmann::json::object();
  std::string split = "validation";  // split the source reports; a different split is not compared
  std::string source;                // where the number stands (file, table, column)
  std::string note;
};

struct ReferenceTable {
  std::string id, title, source;
  std::vector<ReferenceCell> cells;
};

// A statement about two methods rather than one number: "SMoP is 2.5 points better than prompt
// tuning on average", "SMoP needs up to 22.9 % less memory".
struct ReferenceClaim {
  std::string id, title, source, note;
  std::string kind;   // "score_gain": mean over tasks of (method − baseline) primary score, in points;
                      // "cost_reduction": largest over tasks (and bench measurements) of
                      //   100·(1 − method cost / baseline cost), in %;
                      // "parity": on how many tasks the method scores at least baseline − threshold
                      //   ("P-Tuning v2 is comparable to fine-tuning"), as "k of n"
  double threshold = 1.0;  // parity: points
  std::string cost;   // cost_reduction: step_ms | peak_rss_mb | train_flops_per_example | forward_flops_per_example
  std::optional<double> value;
  std::optional<double> unconfirmed_value;  // as for ReferenceCell
  std::string unit;
  nlohmann::json method;    // {"name": …, options…} subset of a cell's method block
  nlohmann::json baseline;  // the same for the baseline
  nlohmann::json match = nlohmann::json::object();  // geometry / backbone / spec, as for cells
};

struct Reference {
  std::filesystem::path file;
  std::string title;
  std::string source;  // the primary source (URL)
  std::vector<ReferenceTable> tables;
  std::vector<ReferenceClaim> claims;
};

// Reads and validates a reference file; errors name the file, table and cell.
Reference read_reference(const std::filesystem::path& file);

// Whether a reference number describes a cell (task, method, match; the cell has the metric).
bool reference_matches(const ReferenceCell& reference, const Cell& cell);

struct ComparisonRow {
  const ReferenceCell* reference = nullptr;
  std::optional<std::size_t> cell;   // index into the cells; nullopt = not run
  std::optional<SampleStats> ours;   // the cell's statistics of reference->metric
  std::optional<double> difference;  // ours.mean − reference value
  std::string verdict;               // "yes", "no", "n/a (1 seed)", "not run", "no reference value", "split differs …"
};

struct TableComparison {
  const Reference* reference = nullptr;
  const ReferenceTable* table = nullptr;
  std::vector<ComparisonRow> rows;  // in the table's order; one per matching cell
};

std::vector<TableComparison> compare(const Reference& reference, const std::vector<Cell>& cells);

struct ClaimResult {
  const Reference* reference = nullptr;
  const ReferenceClaim* claim = nullptr;
  std::optional<double> ours;  // parity: k (the tasks at parity)
  std::size_t tasks = 0;       // how many backbone/task pairs (or bench measurements) entered `ours`
  std::string detail;          // per-task figures behind `ours`, or why there is none
  // One line for a terminal: the claim, the source's figure and ours, and whether ours points the
  // same way (a gain is a gain, a reduction a reduction, parity on every task).
  std::string summary_line() const;
};

// Cost claims are also recomputed from `ptbench bench` runs (one invocation measures both sides).
std::vector<ClaimResult> evaluate_claims(const Reference& reference, const std::vector<Cell>& cells,
                                         const std::vector<BenchRun>& bench = {});

}  // namespace ptbench::reports
