// Sweeps (DESIGN.md sections 2 and 3): an expanded experiment is checked against the records
// already in its output folder, and what is missing is handed to an executor (executors.h).
// Records are keyed by run id and trusted only after an integrity check, so an interrupted or
// damaged sweep resumes by running exactly what is missing and never counts a bad record.
#pragma once

#include <cstddef>
#include <filesystem>
#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/executors.h"
#include "harness/experiment.h"

namespace ptbench {

enum class RecordState {
  missing,  // no record: the run has not finished (or was killed mid-way)
  done,     // a trusted record with status ok, diverged or degenerate
  failed,   // a trusted record with status failed (re-run only with --retry-failed)
  corrupt,  // a record that does not parse, is not final, or whose spec does not match its id
};
std::string to_string(RecordState state);

struct RecordCheck {
  RecordState state = RecordState::missing;
  std::string status;      // the record's status when trusted
  std::string problem;     // why a record is not trusted (corrupt)
  nlohmann::json record;   // the parsed record when trusted
};

// Reads `<dir>/<run_id>.json`. It is trusted only if it parses as an object, its status is final
// (ok, failed, diverged, degenerate), and resolve_run_spec(record.spec).run_id() == record.run_id
// == run_id (the file stem); anything else is corrupt, with the reason.
RecordCheck check_record(const std::filesystem::path& dir, const std::string& run_id);

// Moves an untrusted record aside to `<run_id>.json.corrupt` (kept for inspection, replacing an
// older one) so the run executes again. Returns the new path.
std::filesystem::path set_aside_corrupt_record(const std::filesystem::path& dir, const std::string& run_id);

// Writes a status "failed" record for a run whose process ended without writing one (a crash or
// a non-zero exit before the trainer could record), so the sweep counts it and goes on.
void write_failed_record(const std::filesystem::path& dir, const PlannedRun& run, const std::string& error);

struct SweepOptions {
  std::filesystem::path out_dir;  // where records are (and go)
  ExecutorOptions executor;       // which executor and its settings (out_dir is filled in)
  bool dry_run = false;           // print the expanded runs and their state; run nothing
  bool retry_failed = false;      // run again the runs whose record says failed
  ProgressStyle progress = ProgressStyle::automatic;
};

// Runs the missing runs of an experiment. Prints the plan and a summary to `out` (progress goes
// to stderr). Returns the exit status: 0 when every run has a trusted record and none failed,
// 1 when some failed or are still missing, 128 + signal when interrupted (SIGINT, SIGTERM).
int run_sweep(const Experiment& experiment, const SweepOptions& options, std::ostream& out);

}  // namespace ptbench
