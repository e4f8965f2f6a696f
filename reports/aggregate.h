// Reading run records (harness/trainer.cpp writes them) and aggregating them over seeds into
// cells: one cell per resolved spec minus the seed and the keys that only say how a run was
// executed (DESIGN.md "Report"). Everything here reads JSON only; no LibTorch.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/stats.h"

namespace ptbench::reports {

// Run record schema this reader understands (harness/trainer.h kRunRecordSchemaVersion).
constexpr int kMaxRecordSchemaVersion = 1;

// Spec keys that change how a run executes but not what it computes: they are left out of the
// group key so runs that differ only in them aggregate together. train.seed is what a cell
// aggregates over; data_dir is a path on one machine (the task version and name identify the data).
const std::vector<std::string>& execution_only_keys();  // JSON pointers, e.g. "/train/threads"

// Costs of one run, as the trainer measured them (absent when the record has none).
struct RunCosts {
  std::optional<double> total_parameters;        // parameters.total
  std::optional<double> trainable_parameters;    // parameters.trainable
  std::optional<double> trainable_percent;       // parameters.trainable_percent
  std::optional<double> stored_bytes;            // parameters.stored_bytes (saved trainable state, fp32)
  std::optional<double> step_ms;                 // costs.step_time.median_ms (after warm-up)
  std::optional<double> train_examples_per_s;    // costs.train_examples_per_s
  std::optional<double> peak_rss_mb;             // costs.peak_rss_mb (the run's own process)
  std::optional<double> train_flops_per_example; // costs.train_flops_per_example (forward + backward)
  // Forward FLOPs per training example: train_flops_per_example · forward / (forward + backward),
  // the closest the record comes to inference FLOPs (same inputs, no backward).
  std::optional<double> forward_flops_per_example;
};

// One run record, reduced to what the report needs.
struct RunSummary {
  std::filesystem::path file;
  std::string run_id;
  std::string status;             // ok | degenerate | diverged | failed
  std::string error;              // for failed runs
  std::string backbone;           // label: the model folder's name, or the geometry name
  std::string task;
  std::string method;
  std::int64_t task_version = 0;  // 0 when the record has no task block (failed before loading)
  std::int64_t seed = 0;
  std::string finished_at;
  nlohmann::json group_key;       // see execution_only_keys(); backbone/tokenizer by folder name
  nlohmann::json geometry;        // record.backbone.geometry, null when absent
  std::string primary_metric;     // record.task.primary_metric
  std::string reported_split;     // record.selection.reported ("validation")
  nlohmann::json metrics;         // record.metrics as written (fractions or percentages)
  RunCosts costs;
  // The training loss of the last epoch (record.epochs[-1].train_loss): a continuous fingerprint
  // of everything the run computed, which a degenerate score (a random backbone predicting one
  // class) does not give. nullopt when the record has no epochs.
  std::optional<double> final_train_loss;

  // Whether this run has a score to aggregate (ok or degenerate with its primary metric).
  bool scored() const;
  // A metric on the report's scale (points, 0–100); nullopt when the record lacks it.
  std::optional<double> points(const std::string& metric) const;
};

// Multiplier that puts a task's metric on a 0–100 scale: classification and tagging metrics are
// fractions, SQuAD's are already percentages as the official scripts print them (tasks/README.md).
double points_scale(const std::string& task);

// Reads one record file. A file that is not JSON, or a run record missing a required key, is an
// Error naming the file and key. Returns nullopt for JSON files that are not run records (no
// run_id/spec/schema_version), so a results folder may hold other JSON.
std::optional<RunSummary> read_run_record(const std::filesystem::path& file);

// One method measured by `ptbench bench` (its JSON output saved in the results folder: one run,
// or {"runs": [...], "summary": ...} for several methods measured in one invocation). Bench runs
// have costs but no score: they answer cost claims at geometries too large to train here.
struct BenchRun {
  std::filesystem::path file;
  std::size_t invocation = 0;   // runs of one bench invocation share it (measured together)
  std::string backbone;         // geometry name or model folder name
  nlohmann::json geometry;      // the backbone geometry block
  std::string method;
  nlohmann::json method_block;  // {"name": method, options…}, as a run spec's method block
  std::string variant;          // "prompt[length=100]"; the method name for single runs
  std::int64_t batch = 0, seq = 0, target_seq = 0;
  RunCosts costs;               // step_ms, peak_rss_mb, FLOPs per example, parameters
};

// The bench runs of a parsed JSON document, or nullopt when it is not bench output.
// A bench document missing a figure is an Error naming the file and key.
std::optional<std::vector<BenchRun>> read_bench_document(const nlohmann::json& document, const std::filesystem::path& file);

struct RecordSet {
  std::vector<RunSummary> runs;
  std::vector<BenchRun> bench;                 // `ptbench bench` outputs found beside the records
  std::vector<std::filesystem::path> ignored;  // JSON files that are neither
};

// Every `*.json` under `dir` (recursively), sorted by path. A missing folder is an Error.
RecordSet read_run_records(const std::filesystem::path& dir);

// The averaged costs of a cell and their ratios to the matching full fine-tuning cell.
struct CellCosts {
  RunCosts mean;                       // each field the mean over the cell's scored runs
  std::optional<std::size_t> full_cell;  // index of the full fine-tuning cell used for ratios
  std::map<std::string, double> ratio_to_full;  // "step_ms", "train_examples_per_s", "peak_rss_mb", …
};

struct Cell {
  std::string id;           // "<backbone>/<task>/<method>/<8 hex digits of the group key>"
  std::string backbone, task, method;
  std::string variant;      // keys that differ from other cells of the same backbone/task/method
  std::int64_t task_version = 0;
  nlohmann::json key;       // the group key
  nlohmann::json geometry;
  std::string primary_metric;
  std::string reported_split;
  std::vector<std::size_t> runs;    // indices into RecordSet::runs, every status
  std::vector<std::size_t> scored;  // the runs whose scores are aggregated (one per seed)
  std::map<std::string, SampleStats> metrics;  // every numeric metric all scored runs share, in points
  SampleStats primary;                         // metrics[primary_metric]
  std::vector<std::pair<std::int64_t, double>> seed_scores;  // (seed, primary score in points)
  CellCosts costs;
  int ok = 0, degenerate = 0, diverged = 0, failed = 0;
  std::vector<std::string> notes;   // duplicate seeds, missing metrics, …

  // "backbone / task / method [variant]"
  std::string label() const;
};

// Groups runs into cells, computes statistics and cost ratios. Cells come sorted by backbone,
// task, method (full, prompt, ptuning, prefix, smop, then others) and variant.
std::vector<Cell> aggregate(const RecordSet& records, double confidence = 0.95);

// Canonical order of methods in tables.
int method_rank(const std::string& method);

// Every leaf of `pattern` (objects recursively) equals the value at the same place in `value`;
// numbers compare by value. An empty or null pattern matches everything.
bool json_subset(const nlohmann::json& pattern, const nlohmann::json& value);

// Compact text of a JSON scalar for labels: strings unquoted, numbers as written.
std::string scalar_text(const nlohmann::json& value);

}  // namespace ptbench::reports
