#include "harness/executors.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>

#include "common/error.h"
#include "common/files.h"
#include "common/hash.h"
#include "harness/meters.h"
#include "harness/sweep.h"
#include "harness/trainer.h"

namespace ptbench {
namespace fs = std::filesystem;
namespace bp = boost::process;

// ---------------------------------------------------------------------------------------------
// Stop signals.

namespace {
std::atomic<int> stop_signal_received{0};
struct sigaction previous_int, previous_term;

void on_stop_signal(int sig) {
  if (stop_signal_received.exchange(sig) != 0) {
    // Second signal: the user wants out now. Children die with us (PR_SET_PDEATHSIG).
    ::signal(sig, SIG_DFL);
    ::raise(sig);
    return;
  }
  static const char message[] =
      "\nptbench sweep: stopping; running runs are ended, finished records kept (signal again to abort at once)\n";
  [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, message, sizeof message - 1);
}
}  // namespace

StopSignals::StopSignals() {
  stop_signal_received = 0;
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  ::sigaction(SIGINT, &action, &previous_int);
  ::sigaction(SIGTERM, &action, &previous_term);
}

StopSignals::~StopSignals() {
  ::sigaction(SIGINT, &previous_int, nullptr);
  ::sigaction(SIGTERM, &previous_term, nullptr);
}

bool stop_requested() { return stop_signal_received.load() != 0; }
int stop_signal() { return stop_signal_received.load(); }

// ---------------------------------------------------------------------------------------------
// Options.

void ExecutorOptions::validate() const {
  if (kind != "inline" && kind != "local" && kind != "slurm") {
    fail("unknown --executor '", kind, "' (known: inline, local, slurm)");
  }
  if (jobs < 1) fail("--jobs must be at least 1, got ", jobs);
  if (threads < 0) fail("--threads must not be negative (0 = every core)");
  if (slurm.cpus_per_task < 1) fail("--cpus-per-task must be at least 1, got ", slurm.cpus_per_task);
  if (!(slurm.poll_seconds > 0)) fail("--poll must be positive (seconds between squeue calls)");
}

int threads_per_run(const ExecutorOptions& options) {
  if (options.kind == "slurm") return options.slurm.cpus_per_task;
  const int total = options.threads > 0 ? options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int concurrent = options.kind == "local" ? options.jobs : 1;
  return std::max(1, total / concurrent);
}

namespace {

// The spec a run executes with: the executor's thread share unless the spec fixes its own.
RunSpec with_threads(const RunSpec& spec, int threads) {
  RunSpec copy = spec;
  if (copy.train.threads == 0) copy.train.threads = threads;
  return copy;
}

fs::path this_executable() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) fail("cannot find the ptbench executable through /proc/self/exe (", ec.message(), "); pass its path");
  return self;
}

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// The last lines of a log (at most `max_chars`), for failure messages.
std::string log_tail(const fs::path& log, std::size_t max_chars = 1500) {
  std::ifstream in(log, std::ios::binary);
  if (!in) return "(no log at " + log.string() + ")";
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  // Progress bars redraw with \r: keep what was last shown on each line.
  std::string cleaned;
  std::string line;
  for (char c : text) {
    if (c == '\r') {
      line.clear();
    } else if (c == '\n') {
      cleaned += line + "\n";
      line.clear();
    } else {
      line += c;
    }
  }
  cleaned += line;
  if (cleaned.size() > max_chars) cleaned = "..." + cleaned.substr(cleaned.size() - max_chars);
  return cleaned;
}

// The result of a run from its trusted record.
RunResult result_from_record(const RecordCheck& check, double seconds) {
  RunResult result;
  result.status = check.status;
  result.seconds = seconds;
  result.metrics = check.record.value("metrics", nlohmann::json::object());
  if (check.status == "failed") result.message = check.record.value("error", std::string("(no error message)"));
  if (check.record.contains("task") && check.record["task"].contains("primary_metric")) {
    result.metrics["__primary"] = check.record["task"]["primary_metric"];
  }
  return result;
}

bool is_stop_signal(int sig) { return sig == SIGKILL || sig == SIGTERM || sig == SIGINT || sig == SIGHUP; }

// ---------------------------------------------------------------------------------------------
// inline: train_run in this process, one run after another.

class InlineExecutor : public Executor {
 public:
  explicit InlineExecutor(ExecutorOptions options) : options_(std::move(options)) {}

  void execute(const std::vector<PlannedRun>& runs, SweepProgress& progress) override {
    const int threads = threads_per_run(options_);
    for (const PlannedRun& run : runs) {
      if (stop_requested()) return;
      progress.started(run);
      Stopwatch watch;
      RunResult result;
      try {
        train_run(with_threads(run.spec, threads), options_.out_dir);
      } catch (const std::exception& e) {
        result.message = e.what();
      }
      const RecordCheck check = check_record(options_.out_dir, run.run_id);
      if (check.state == RecordState::done || check.state == RecordState::failed) {
        result = result_from_record(check, watch.elapsed_ms() / 1000.0);
      } else {
        const std::string error = "the run ended without a trusted record (" +
                                  (result.message.empty() ? check.problem : result.message) + ")";
        write_failed_record(options_.out_dir, run, error);
        result.status = "failed";
        result.message = error;
        result.seconds = watch.elapsed_ms() / 1000.0;
      }
      progress.finished(run, result);
    }
  }

 private:
  ExecutorOptions options_;
};

// ---------------------------------------------------------------------------------------------
// local: `ptbench train` child processes.

class LocalExecutor : public Executor {
 public:
  explicit LocalExecutor(ExecutorOptions options) : options_(std::move(options)) {
    if (options_.ptbench.empty()) options_.ptbench = this_executable();
  }

  void execute(const std::vector<PlannedRun>& runs, SweepProgress& progress) override {
    const fs::path logs = options_.out_dir / "logs";
    fs::create_directories(logs);
    std::deque<const PlannedRun*> queue;
    for (const PlannedRun& run : runs) queue.push_back(&run);
    std::vector<std::unique_ptr<Child>> active;
    while (!queue.empty() || !active.empty()) {
      if (stop_requested()) {
        end_all(active, progress);
        return;
      }
      while (active.size() < static_cast<std::size_t>(options_.jobs) && !queue.empty()) {
        active.push_back(launch(*queue.front(), logs));
        progress.started(*queue.front());
        queue.pop_front();
      }
      for (auto it = active.begin(); it != active.end();) {
        std::error_code ec;
        if ((*it)->process.running(ec) && !ec) {
          ++it;
          continue;
        }
        progress.finished(*(*it)->run, conclude(**it, /*stopping=*/false));
        it = active.erase(it);
      }
      progress.refresh();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

 private:
  struct Child {
    const PlannedRun* run = nullptr;
    bp::child process;
    fs::path log;
    Stopwatch watch;
  };

  std::unique_ptr<Child> launch(const PlannedRun& run, const fs::path& logs) {
    const RunSpec spec = with_threads(run.spec, threads_per_run(options_));
    const fs::path spec_file = logs / (run.run_id + ".spec.json");
    write_json_atomic(spec_file, spec.to_json());
    auto child = std::make_unique<Child>();
    child->run = &run;
    child->log = logs / (run.run_id + ".log");
    const pid_t parent = ::getpid();
    try {
      child->process = bp::child(
          options_.ptbench.string(), "train", "--config", spec_file.string(), "--out", options_.out_dir.string(),
          "--threads", std::to_string(spec.train.threads), (bp::std_out & bp::std_err) > child->log.string(),
          bp::std_in < bp::null, bp::extend::on_exec_setup = [parent](auto&) {
            // Its own process group, so ending a run ends everything it started; and it dies with
            // the sweep, so a killed sweep leaves no orphan that writes a record later.
            ::setpgid(0, 0);
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) ::_exit(127);
          });
    } catch (const bp::process_error& e) {
      fail("cannot start ", options_.ptbench.string(), " for run ", run.run_id, ": ", e.what());
    }
    return child;
  }

  // How a finished (or ended) child went: its record decides; without one, a kill means
  // "interrupted" (no record, runs again on resume) and anything else is recorded as failed.
  RunResult conclude(Child& child, bool stopping) {
    const double seconds = child.watch.elapsed_ms() / 1000.0;
    const PlannedRun& run = *child.run;
    const RecordCheck check = check_record(options_.out_dir, run.run_id);
    if (check.state == RecordState::done || check.state == RecordState::failed) return result_from_record(check, seconds);
    const int native = child.process.native_exit_code();
    const bool signalled = WIFSIGNALED(native);
    const int sig = signalled ? WTERMSIG(native) : 0;
    RunResult result;
    result.seconds = seconds;
    if (stopping || (signalled && is_stop_signal(sig))) {
      result.status = "interrupted";
      result.message = std::string(signalled ? "killed by signal " + std::string(::strsignal(sig)) : "ended") +
                       " before writing its record; it runs again on resume";
      return result;
    }
    std::string why = WIFEXITED(native) ? "ptbench train exited with status " + std::to_string(WEXITSTATUS(native))
                                        : "ptbench train died of signal " + std::string(::strsignal(sig));
    if (check.state == RecordState::corrupt) {
      set_aside_corrupt_record(options_.out_dir, run.run_id);
      why += " leaving an untrusted record (" + check.problem + ")";
    } else {
      why += " without writing a record";
    }
    why += "; end of " + child.log.string() + ":\n" + log_tail(child.log);
    write_failed_record(options_.out_dir, run, why);
    result.status = "failed";
    result.message = why;
    return result;
  }

  // SIGTERM to every child's process group, SIGKILL to what is left after a grace period.
  void end_all(std::vector<std::unique_ptr<Child>>& active, SweepProgress& progress) {
    auto signal_group = [](const bp::child& process, int sig) {
      const pid_t pid = process.id();
      if (pid <= 0) return;
      if (::kill(-pid, sig) != 0) ::kill(pid, sig);
    };
    for (auto& child : active) {
      std::error_code ec;
      if (child->process.running(ec)) signal_group(child->process, SIGTERM);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (auto& child : active) {
      std::error_code ec;
      while (child->process.running(ec) && !ec && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (child->process.running(ec) && !ec) {
        signal_group(child->process, SIGKILL);
        child->process.wait(ec);
      }
      progress.finished(*child->run, conclude(*child, /*stopping=*/true));
    }
    active.clear();
  }

  ExecutorOptions options_;
};

// ---------------------------------------------------------------------------------------------
// slurm: one job array per sweep.

struct CommandOutput {
  int status = -1;
  std::string output;  // stdout and stderr together
};

CommandOutput run_command(const std::string& program, const std::vector<std::string>& arguments) {
  const boost::filesystem::path executable = bp::search_path(program);
  if (executable.empty()) {
    fail("the slurm executor needs '", program, "' on PATH (Slurm's client commands; Debian package slurm-client)");
  }
  bp::ipstream stream;
  bp::child process(executable, bp::args(arguments), (bp::std_out & bp::std_err) > stream, bp::std_in < bp::null);
  CommandOutput result;
  for (std::string line; std::getline(stream, line);) result.output += line + "\n";
  process.wait();
  result.status = process.exit_code();
  return result;
}

class SlurmExecutor : public Executor {
 public:
  explicit SlurmExecutor(ExecutorOptions options) : options_(std::move(options)) {
    if (options_.ptbench.empty()) options_.ptbench = this_executable();
    options_.out_dir = fs::absolute(options_.out_dir);
  }

  void execute(const std::vector<PlannedRun>& all_runs, SweepProgress& progress) override {
    follow_earlier_jobs(progress);
    if (stop_requested()) return;
    // Runs an earlier job finished while we followed it are done now.
    std::vector<const PlannedRun*> runs;
    for (const PlannedRun& run : all_runs) {
      const RecordCheck check = check_record(options_.out_dir, run.run_id);
      if (check.state == RecordState::done || check.state == RecordState::failed) {
        progress.finished(run, result_from_record(check, 0));
      } else {
        runs.push_back(&run);
      }
    }
    if (runs.empty()) return;

    std::vector<std::string> ids;
    for (const PlannedRun* run : runs) ids.push_back(run->run_id);
    const fs::path dir = options_.out_dir / "slurm" / stable_json_id(ids);
    fs::remove_all(dir / "exit");
    fs::create_directories(dir / "specs");
    fs::create_directories(dir / "logs");
    fs::create_directories(dir / "exit");
    const int threads = threads_per_run(options_);
    for (std::size_t i = 0; i < runs.size(); ++i) {
      write_json_atomic(dir / "specs" / (std::to_string(i) + ".json"), with_threads(runs[i]->spec, threads).to_json());
    }
    const fs::path script = dir / "job.sh";
    write_file_atomic(script, job_script(dir, runs.size(), threads));

    const CommandOutput submitted = run_command("sbatch", {"--parsable", script.string()});
    std::string job_id;
    std::istringstream lines(submitted.output);
    for (std::string line; std::getline(lines, line);) {
      const std::string first = line.substr(0, line.find(';'));
      if (!first.empty() && std::all_of(first.begin(), first.end(), ::isdigit)) job_id = first;
    }
    if (submitted.status != 0 || job_id.empty()) {
      fail("sbatch ", script.string(), " failed (status ", submitted.status, "): ", submitted.output);
    }
    write_json_atomic(dir / "submitted.json",
                      {{"job_id", job_id}, {"script", script.string()}, {"run_ids", ids}, {"submitted_at", iso_time_now()}});
    progress.note("submitted Slurm job " + job_id + " (" + std::to_string(runs.size()) + " array tasks): " + script.string());

    std::vector<bool> started(runs.size(), false), finished(runs.size(), false);
    std::vector<Stopwatch> watches(runs.size());
    int squeue_failures = 0;
    while (true) {
      if (stop_requested()) {
        run_command("scancel", {job_id});
        progress.note("cancelled Slurm job " + job_id + "; its unfinished runs run again on resume");
        for (std::size_t i = 0; i < runs.size(); ++i) {
          if (finished[i]) continue;
          const RecordCheck check = check_record(options_.out_dir, runs[i]->run_id);
          if (check.state == RecordState::done || check.state == RecordState::failed) {
            progress.finished(*runs[i], result_from_record(check, watches[i].elapsed_ms() / 1000.0));
          } else {
            RunResult interrupted;
            interrupted.status = "interrupted";
            interrupted.message = "Slurm job cancelled";
            progress.finished(*runs[i], interrupted);
          }
        }
        return;
      }
      bool queue_known = true;
      const std::map<std::size_t, std::string> states = queue_states(job_id, queue_known);
      squeue_failures = queue_known ? 0 : squeue_failures + 1;
      if (squeue_failures > 30) fail("squeue keeps failing for job ", job_id, "; the job may still run: `ptbench sweep` again resumes");
      for (std::size_t i = 0; i < runs.size(); ++i) {
        if (finished[i]) continue;
        const auto state = states.find(i);
        if (!started[i] && state != states.end() && state->second != "PENDING") {
          started[i] = true;
          watches[i] = Stopwatch();
          progress.started(*runs[i]);
        }
        const RecordCheck check = check_record(options_.out_dir, runs[i]->run_id);
        if (check.state == RecordState::done || check.state == RecordState::failed) {
          finished[i] = true;
          progress.finished(*runs[i], result_from_record(check, watches[i].elapsed_ms() / 1000.0));
        }
      }
      if (queue_known && states.empty()) break;  // the job left the queue
      progress.refresh();
      std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(options_.slurm.poll_seconds * 1000)));
    }

    // Tasks that ended without a trusted record: the job script wrote their exit status.
    const std::map<std::size_t, std::string> accounting = sacct_states(job_id);
    for (std::size_t i = 0; i < runs.size(); ++i) {
      if (finished[i]) continue;
      const PlannedRun& run = *runs[i];
      const fs::path exit_file = dir / "exit" / std::to_string(i);
      const fs::path log = dir / "logs" / (std::to_string(i) + ".log");
      // A shared file system may show the record a little after the task ended.
      RecordCheck check = check_record(options_.out_dir, run.run_id);
      for (int wait = 0; wait < 20 && check.state == RecordState::missing && fs::exists(exit_file); ++wait) {
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        check = check_record(options_.out_dir, run.run_id);
      }
      if (check.state == RecordState::done || check.state == RecordState::failed) {
        progress.finished(run, result_from_record(check, watches[i].elapsed_ms() / 1000.0));
        continue;
      }
      const auto slurm_state = accounting.find(i);
      const std::string state_note = slurm_state == accounting.end() ? "" : " (sacct: " + slurm_state->second + ")";
      RunResult result;
      if (!fs::exists(exit_file)) {
        // Cancelled, timed out, preempted or its node failed: killed mid-way, so it runs again.
        result.status = "lost";
        result.message = "array task " + std::to_string(i) + " of job " + job_id + " ended without a record" +
                         state_note + "; it runs again on resume; log " + log.string();
      } else {
        std::string why = "ptbench train in array task " + std::to_string(i) + " of Slurm job " + job_id +
                          " exited with status " + read_text_file(exit_file).substr(0, 8) + state_note;
        if (check.state == RecordState::corrupt) {
          set_aside_corrupt_record(options_.out_dir, run.run_id);
          why += " leaving an untrusted record (" + check.problem + ")";
        } else {
          why += " without writing a record";
        }
        why += "; end of " + log.string() + ":\n" + log_tail(log);
        write_failed_record(options_.out_dir, run, why);
        result.status = "failed";
        result.message = why;
      }
      progress.finished(run, result);
    }
  }

 private:
  // One array task per run: task i runs specs/i.json and writes its exit status to exit/i, so
  // a crash is told apart from a task Slurm killed (no exit file) without Slurm accounting.
  std::string job_script(const fs::path& dir, std::size_t tasks, int threads) const {
    std::ostringstream s;
    s << "#!/bin/bash\n"
      << "# Written by `ptbench sweep` for experiment " << options_.sweep_name << ": array task i runs specs/i.json.\n"
      << "#SBATCH --job-name=ptbench-" << options_.sweep_name << "\n"
      << "#SBATCH --array=0-" << tasks - 1 << "\n"
      << "#SBATCH --output=" << (dir / "logs").string() << "/%a.log\n"
      << "#SBATCH --chdir=" << fs::current_path().string() << "\n"
      << "#SBATCH --cpus-per-task=" << options_.slurm.cpus_per_task << "\n";
    if (!options_.slurm.partition.empty()) s << "#SBATCH --partition=" << options_.slurm.partition << "\n";
    if (!options_.slurm.time.empty()) s << "#SBATCH --time=" << options_.slurm.time << "\n";
    if (!options_.slurm.gres.empty()) s << "#SBATCH --gres=" << options_.slurm.gres << "\n";
    for (const std::string& extra : options_.slurm.extra) s << "#SBATCH " << extra << "\n";
    s << "\n"
      << "spec=" << shell_quote((dir / "specs").string()) << "/\"${SLURM_ARRAY_TASK_ID}\".json\n"
      << shell_quote(options_.ptbench.string()) << " train --config \"$spec\" --out "
      << shell_quote(options_.out_dir.string()) << " --threads " << threads << "\n"
      << "status=$?\n"
      << "echo \"$status\" > " << shell_quote((dir / "exit").string()) << "/\"${SLURM_ARRAY_TASK_ID}\"\n"
      << "exit \"$status\"\n";
    return s.str();
  }

  // Array index → state (PENDING, RUNNING, COMPLETING, …) of the job's tasks still in the
  // queue. `known` is false when squeue failed for another reason than the job being gone.
  std::map<std::size_t, std::string> queue_states(const std::string& job_id, bool& known) const {
    std::map<std::size_t, std::string> states;
    const CommandOutput result = run_command("squeue", {"-h", "-r", "-j", job_id, "-o", "%i %T"});
    known = true;
    if (result.status != 0) {
      known = result.output.find("Invalid job id") != std::string::npos;  // purged: it is gone
      return states;
    }
    std::istringstream lines(result.output);
    for (std::string line; std::getline(lines, line);) {
      const auto underscore = line.find('_');
      const auto space = line.find(' ');
      if (underscore == std::string::npos || space == std::string::npos || space < underscore) continue;
      const std::string index = line.substr(underscore + 1, space - underscore - 1);
      if (index.empty() || !std::all_of(index.begin(), index.end(), ::isdigit)) continue;
      states[std::stoul(index)] = line.substr(space + 1);
    }
    return states;
  }

  // Final states from Slurm accounting when the cluster keeps it (empty otherwise).
  std::map<std::size_t, std::string> sacct_states(const std::string& job_id) const {
    std::map<std::size_t, std::string> states;
    if (bp::search_path("sacct").empty()) return states;
    const CommandOutput result = run_command("sacct", {"-n", "-P", "-X", "-j", job_id, "-o", "JobID,State,ExitCode"});
    if (result.status != 0) return states;
    std::istringstream lines(result.output);
    for (std::string line; std::getline(lines, line);) {
      const auto underscore = line.find('_');
      const auto bar = line.find('|');
      if (underscore == std::string::npos || bar == std::string::npos || bar < underscore) continue;
      const std::string index = line.substr(underscore + 1, bar - underscore - 1);
      if (index.empty() || !std::all_of(index.begin(), index.end(), ::isdigit)) continue;
      states[std::stoul(index)] = line.substr(bar + 1);
    }
    return states;
  }

  // A sweep killed while its job ran leaves the job running; resuming follows it to its end
  // instead of submitting the same runs twice.
  void follow_earlier_jobs(SweepProgress& progress) {
    const fs::path root = options_.out_dir / "slurm";
    std::error_code ec;
    if (!fs::is_directory(root, ec)) return;
    for (const auto& entry : fs::directory_iterator(root, ec)) {
      const fs::path submitted = entry.path() / "submitted.json";
      if (!fs::exists(submitted, ec)) continue;
      std::string job_id;
      try {
        job_id = read_json_file(submitted).at("job_id").get<std::string>();
      } catch (const std::exception&) {
        continue;
      }
      bool known = true;
      if (queue_states(job_id, known).empty()) continue;
      progress.note("Slurm job " + job_id + " from an earlier sweep (" + entry.path().string() +
                    ") is still queued or running: following it to its end before submitting what is missing");
      while (!stop_requested()) {
        if (queue_states(job_id, known).empty() && known) break;
        progress.refresh();
        std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(options_.slurm.poll_seconds * 1000)));
      }
    }
  }

  ExecutorOptions options_;
};

}  // namespace

std::unique_ptr<Executor> make_executor(const ExecutorOptions& options) {
  options.validate();
  if (options.kind == "inline") return std::make_unique<InlineExecutor>(options);
  if (options.kind == "local") return std::make_unique<LocalExecutor>(options);
  return std::make_unique<SlurmExecutor>(options);
}

// ---------------------------------------------------------------------------------------------
// Progress.

namespace {
std::string format_duration(double seconds) {
  const auto total = static_cast<long long>(seconds + 0.5);
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", total / 3600, (total / 60) % 60, total % 60);
  } else {
    std::snprintf(text, sizeof text, "%lld:%02lld", total / 60, total % 60);
  }
  return text;
}

std::string metric_summary(const nlohmann::json& metrics) {
  if (!metrics.is_object()) return "";
  const std::string primary = metrics.value("__primary", std::string());
  if (!primary.empty() && metrics.contains(primary) && metrics[primary].is_number()) {
    char text[96];
    std::snprintf(text, sizeof text, " %s=%.4f", primary.c_str(), metrics[primary].get<double>());
    return text;
  }
  return "";
}
}  // namespace

SweepProgress::SweepProgress(std::size_t total, std::size_t done, std::size_t failed, ProgressStyle style)
    : total_(total), done_(done), failed_(failed), start_(std::chrono::steady_clock::now()) {
  const char* term = std::getenv("TERM");
  const bool terminal = ::isatty(STDERR_FILENO) && term && std::string(term) != "dumb";
  live_ = style == ProgressStyle::live || (style == ProgressStyle::automatic && terminal);
}

SweepProgress::~SweepProgress() {
  if (live_) {
    draw(true);
    std::fputs("\n", stderr);
  }
}

std::string SweepProgress::status_line() const {
  const std::size_t remaining = total_ - std::min(total_, done_ + failed_ + running_);
  std::string line = "[sweep] " + std::to_string(done_) + "/" + std::to_string(total_) + " done, " +
                     std::to_string(running_) + " running, " + std::to_string(failed_) + " failed, " +
                     std::to_string(remaining) + " remaining";
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (finished_here_ > 0 && remaining + running_ > 0) {
    const double per_run = elapsed / static_cast<double>(finished_here_);
    line += ", ETA " + format_duration(per_run * static_cast<double>(remaining + running_));
  } else if (remaining + running_ > 0) {
    line += ", ETA ?";
  }
  line += " (" + format_duration(elapsed) + " elapsed)";
  return line;
}

void SweepProgress::clear_line() {
  if (live_) std::fputs("\r\033[K", stderr);
}

void SweepProgress::draw(bool force) {
  if (!live_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(250)) return;
  last_draw_ = now;
  clear_line();
  std::fputs(status_line().c_str(), stderr);
  std::fflush(stderr);
}

void SweepProgress::started(const PlannedRun& run) {
  ++running_;
  if (live_) {
    draw(true);
  } else {
    std::fprintf(stderr, "[sweep] start #%zu %s %s\n", run.index, run.run_id.c_str(), run.label.c_str());
    std::fflush(stderr);
  }
}

void SweepProgress::finished(const PlannedRun& run, const RunResult& result) {
  if (running_ > 0) --running_;
  if (result.status == "failed") {
    ++failed_;
  } else if (result.has_record()) {
    ++done_;
  } else {
    ++interrupted_;
  }
  if (result.has_record()) ++finished_here_;
  std::string line = "[sweep] " + result.status + " #" + std::to_string(run.index) + " " + run.run_id + " " + run.label;
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, " (%.1f s)", result.seconds);
  line += seconds + metric_summary(result.metrics);
  if (!result.message.empty()) {
    const std::string first_line = result.message.substr(0, result.message.find('\n'));
    line += ": " + first_line;
  }
  clear_line();
  if (live_) {
    std::fprintf(stderr, "%s\n", line.c_str());
    draw(true);
  } else {
    std::fprintf(stderr, "%s | %s\n", line.c_str(), status_line().c_str());
  }
  std::fflush(stderr);
}

void SweepProgress::note(const std::string& line) {
  clear_line();
  std::fprintf(stderr, "[sweep] %s\n", line.c_str());
  draw(true);
  std::fflush(stderr);
}

void SweepProgress::refresh() { draw(false); }

}  // namespace ptbench
