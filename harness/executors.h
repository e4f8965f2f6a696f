// Executors (DESIGN.md section 3): how a sweep's runs execute.
//   inline  one after another in this process (train_run);
//   local   up to --jobs child processes (`ptbench train`, Boost.Process), the threads divided
//           among them; each child runs in its own process group so its peak memory is its own
//           and an interrupted sweep can end it;
//   slurm   one job array per sweep through sbatch, followed with squeue (and sacct when the
//           cluster keeps accounting); records land in the shared output folder.
// Every executor reports through SweepProgress and returns early when a stop was requested
// (SIGINT/SIGTERM): running children are ended (Slurm: the job is cancelled); a run ended that
// way leaves no record and runs again on resume.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/experiment.h"

namespace ptbench {

struct SlurmOptions {
  std::string partition;             // --partition (empty = the cluster's default partition)
  std::string time;                  // --time limit per run, Slurm syntax ("30", "1:00:00"); empty = partition default
  int cpus_per_task = 1;             // --cpus-per-task; also each run's train.threads unless its spec fixes them
  std::string gres;                  // --gres ("gpu:1"); empty = none
  std::vector<std::string> extra;    // further sbatch options written as #SBATCH lines ("--account=nlp")
  double poll_seconds = 2.0;         // how often squeue is asked while the job runs
};

struct ExecutorOptions {
  std::string kind = "local";        // inline | local | slurm
  int jobs = 1;                      // local: child processes at once
  int threads = 0;                   // local and inline: intra-op threads in all (0 = every core), divided
                                     // among the concurrent runs; a spec with train.threads > 0 keeps its own
  std::filesystem::path out_dir;     // the records folder (absolute for Slurm, whose tasks run elsewhere)
  std::filesystem::path ptbench;     // the binary children run (empty = this executable, /proc/self/exe)
  std::string sweep_name = "sweep";  // experiment name: Slurm job name, messages
  SlurmOptions slurm;
  void validate() const;
};

// How a run ended, as an executor saw it.
struct RunResult {
  std::string status;        // ok | failed | diverged | degenerate (from the record) | interrupted | lost
  double seconds = 0;        // wall time seen by the executor
  std::string message;       // the error, or why there is no record
  nlohmann::json metrics;    // the record's final metrics when there is one
  bool has_record() const { return status != "interrupted" && status != "lost"; }
};

enum class ProgressStyle {
  automatic,  // live on a terminal (stderr is a TTY and TERM is not dumb), plain otherwise
  live,       // one status line redrawn in place, finished runs printed above it
  plain,      // one line per finished run (CI logs)
};

// The sweep's progress on stderr: done / running / failed / remaining and an ETA from the
// throughput of this session.
class SweepProgress {
 public:
  // `total` runs in the sweep, of which `done` and `failed` already have records.
  SweepProgress(std::size_t total, std::size_t done, std::size_t failed, ProgressStyle style);
  ~SweepProgress();
  void started(const PlannedRun& run);
  void finished(const PlannedRun& run, const RunResult& result);
  void note(const std::string& line);  // a message (above the live line)
  void refresh();                      // redraws the live line at most a few times per second
  std::size_t running() const { return running_; }
  bool live() const { return live_; }

 private:
  std::string status_line() const;
  void draw(bool force);
  void clear_line();

  std::size_t total_, done_, failed_, interrupted_ = 0, running_ = 0, finished_here_ = 0;
  bool live_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs `runs` (none has a trusted record) and reports each through `progress`; returns when
  // every run ended or a stop was requested.
  virtual void execute(const std::vector<PlannedRun>& runs, SweepProgress& progress) = 0;
};

std::unique_ptr<Executor> make_executor(const ExecutorOptions& options);

// The threads each run gets: `options.threads` (0 = every core) divided among the runs that
// execute at once (local: jobs; inline: 1), at least 1; Slurm: cpus_per_task.
int threads_per_run(const ExecutorOptions& options);

// SIGINT and SIGTERM handling while a sweep runs: the first signal asks the executors to stop
// (stop_requested()); a second one ends the process at once.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
};
bool stop_requested();
int stop_signal();  // the signal that asked to stop, 0 if none

}  // namespace ptbench
