#include "harness/sweep.h"

#include <cstdio>
#include <iomanip>
#include <ostream>
#include <set>

#include "common/error.h"
#include "common/files.h"
#include "harness/meters.h"
#include "harness/trainer.h"

namespace ptbench {
namespace fs = std::filesystem;

std::string to_string(RecordState state) {
  switch (state) {
    case RecordState::missing: return "missing";
    case RecordState::done: return "done";
    case RecordState::failed: return "failed";
    case RecordState::corrupt: return "corrupt";
  }
  return "?";
}

RecordCheck check_record(const fs::path& dir, const std::string& run_id) {
  RecordCheck check;
  const fs::path path = dir / (run_id + ".json");
  std::error_code ec;
  if (!fs::exists(path, ec)) return check;
  check.state = RecordState::corrupt;
  nlohmann::json record;
  try {
    record = nlohmann::json::parse(read_text_file(path));
  } catch (const std::exception& e) {
    check.problem = std::string("does not parse: ") + e.what();
    return check;
  }
  if (!record.is_object()) {
    check.problem = "is not a JSON object";
    return check;
  }
  const auto string_at = [&](const char* key) {
    return record.contains(key) && record[key].is_string() ? record[key].get<std::string>() : std::string();
  };
  const std::string status = string_at("status");
  static const std::set<std::string> final_statuses = {"ok", "failed", "diverged", "degenerate"};
  if (!final_statuses.count(status)) {
    check.problem = status.empty() ? "has no status" : "has status '" + status + "', which is not final";
    return check;
  }
  if (string_at("run_id") != run_id) {
    check.problem = "says run_id '" + string_at("run_id") + "' but is stored as " + run_id;
    return check;
  }
  if (!record.contains("spec")) {
    check.problem = "has no spec";
    return check;
  }
  std::string spec_id;
  try {
    spec_id = resolve_run_spec(record["spec"], {}).run_id();
  } catch (const std::exception& e) {
    check.problem = std::string("holds a spec that does not resolve: ") + e.what();
    return check;
  }
  if (spec_id != run_id) {
    check.problem = "holds a spec whose id is " + spec_id + ", not its run id " + run_id + " (edited or damaged)";
    return check;
  }
  check.state = status == "failed" ? RecordState::failed : RecordState::done;
  check.status = status;
  check.record = std::move(record);
  return check;
}

fs::path set_aside_corrupt_record(const fs::path& dir, const std::string& run_id) {
  const fs::path from = dir / (run_id + ".json");
  const fs::path to = dir / (run_id + ".json.corrupt");
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) fail("cannot move the untrusted record ", from.string(), " aside to ", to.string(), ": ", ec.message());
  return to;
}

void write_failed_record(const fs::path& dir, const PlannedRun& run, const std::string& error) {
  nlohmann::json record;
  record["schema_version"] = kRunRecordSchemaVersion;
  record["run_id"] = run.run_id;
  record["spec"] = run.spec.to_json();
  record["status"] = "failed";
  record["error"] = error;
  record["recorded_by"] = "ptbench sweep (the run's process ended without a record)";
  record["finished_at"] = iso_time_now();
  write_json_atomic(dir / (run.run_id + ".json"), record);
}

namespace {

// Temporary files a killed run may leave next to its record (common/files.h write_file_atomic:
// `<name>.tmp.<pid>.<n>`); the run is about to execute again, so they are garbage.
void remove_stale_temporaries(const fs::path& dir, const std::set<std::string>& run_ids) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const auto dot = name.find('.');
    if (dot == std::string::npos || name.find(".tmp.") == std::string::npos) continue;
    if (run_ids.count(name.substr(0, dot))) fs::remove(entry.path(), ec);
  }
}

}  // namespace

int run_sweep(const Experiment& experiment, const SweepOptions& options, std::ostream& out) {
  ExecutorOptions executor_options = options.executor;
  executor_options.out_dir = options.out_dir;
  executor_options.sweep_name = experiment.name;
  executor_options.validate();

  std::vector<RecordCheck> checks;
  std::size_t done = 0, failed = 0, corrupt = 0, missing = 0;
  for (const PlannedRun& run : experiment.runs) {
    checks.push_back(check_record(options.out_dir, run.run_id));
    switch (checks.back().state) {
      case RecordState::done: ++done; break;
      case RecordState::failed: ++failed; break;
      case RecordState::corrupt: ++corrupt; break;
      case RecordState::missing: ++missing; break;
    }
  }
  const std::size_t to_run = missing + corrupt + (options.retry_failed ? failed : 0);

  out << "experiment " << experiment.name << ": " << experiment.runs.size() << " runs in " << options.out_dir.string()
      << " (" << done << " done, " << failed << " failed, " << corrupt << " corrupt, " << missing << " missing)\n";
  for (const std::string& note : experiment.notes) out << "  note: " << note << "\n";

  if (options.dry_run) {
    const int width = static_cast<int>(std::to_string(experiment.runs.size()).size());
    for (std::size_t i = 0; i < experiment.runs.size(); ++i) {
      const PlannedRun& run = experiment.runs[i];
      const RecordCheck& check = checks[i];
      std::string state = to_string(check.state);
      if (check.state == RecordState::done && check.status != "ok") state += " (" + check.status + ")";
      out << "  " << std::setw(width) << run.index << "  " << run.run_id << "  " << std::left << std::setw(17) << state
          << std::right << "  " << run.label;
      if (check.state == RecordState::corrupt) out << "  [record " << check.problem << "]";
      out << "\n";
    }
    out << "`ptbench sweep` would run " << to_run << " of them"
        << (failed && !options.retry_failed ? " (failed runs are kept; --retry-failed runs them again)" : "") << "\n";
    return 0;
  }

  std::vector<PlannedRun> todo;
  std::set<std::string> todo_ids;
  for (std::size_t i = 0; i < experiment.runs.size(); ++i) {
    const RecordCheck& check = checks[i];
    const PlannedRun& run = experiment.runs[i];
    if (check.state == RecordState::corrupt) {
      const fs::path aside = set_aside_corrupt_record(options.out_dir, run.run_id);
      out << "  record " << (options.out_dir / (run.run_id + ".json")).string() << " is not trusted: it " << check.problem
          << "; moved to " << aside.filename().string() << ", running #" << run.index << " again\n";
    }
    if (check.state == RecordState::missing || check.state == RecordState::corrupt ||
        (check.state == RecordState::failed && options.retry_failed)) {
      todo.push_back(run);
      todo_ids.insert(run.run_id);
    }
  }
  if (todo.empty()) {
    out << "nothing to run\n";
    return failed > 0 ? 1 : 0;
  }
  fs::create_directories(options.out_dir);
  remove_stale_temporaries(options.out_dir, todo_ids);
  out << "running " << todo.size() << " with the " << executor_options.kind << " executor (";
  if (executor_options.kind == "local") out << executor_options.jobs << " at once, ";
  out << threads_per_run(executor_options) << " threads each)\n";
  out.flush();

  Stopwatch wall;
  int interrupted_by = 0;
  {
    StopSignals signals;
    std::unique_ptr<Executor> executor = make_executor(executor_options);
    SweepProgress progress(experiment.runs.size(), done, options.retry_failed ? 0 : failed, options.progress);
    executor->execute(todo, progress);
    interrupted_by = stop_signal();
  }

  std::size_t final_done = 0, final_failed = 0, final_missing = 0;
  for (const PlannedRun& run : experiment.runs) {
    switch (check_record(options.out_dir, run.run_id).state) {
      case RecordState::done: ++final_done; break;
      case RecordState::failed: ++final_failed; break;
      default: ++final_missing; break;
    }
  }
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.1f", wall.elapsed_ms() / 1000.0);
  out << "experiment " << experiment.name << ": " << final_done << " done, " << final_failed << " failed, " << final_missing
      << " missing of " << experiment.runs.size() << " (wall " << seconds << " s)";
  if (interrupted_by) out << "; interrupted: `ptbench sweep` again runs what is missing";
  out << "\n";
  if (interrupted_by) return 128 + interrupted_by;
  return final_failed > 0 || final_missing > 0 ? 1 : 0;
}

}  // namespace ptbench
