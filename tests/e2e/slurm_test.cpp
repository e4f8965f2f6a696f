// The Slurm executor against a real single-node Slurm on 127.0.0.1 (Debian slurm-wlm and
// munge): the test starts its own munged (own key and socket), slurmctld and slurmd as root from
// a configuration in a temporary folder, runs a 4-run sweep with --executor slurm, and checks that
// the records equal those of --executor inline (metrics bit-identical). It is skipped, saying
// why, when not root or when the Slurm and munge programs are not installed (`make setup`
// installs them).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "harness/run_spec.h"
#include "tests/test_support.h"

namespace ptbench {
namespace {

namespace fs = std::filesystem;
using testing::golden_dir;
using testing::ptbench_binary;
using testing::temp_dir;
using testing::run_shell;
using testing::CommandResult;

fs::path find_program(const std::string& name) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/usr/bin:/sbin:/bin";
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto colon = path.find(':', start);
    const fs::path candidate = fs::path(path.substr(start, colon - start)) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return {};
}

bool port_is_free(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return free;
}

// Running and not a zombie (a daemon's parent may never reap it in a container).
bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return false;
  const auto close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z';
}

std::string read_pid(const fs::path& file) {
  std::ifstream in(file);
  std::string pid;
  in >> pid;
  return pid;
}

// munged, slurmctld and slurmd of this test; stopped in the destructor whatever happened.
class SlurmCluster {
 public:
  explicit SlurmCluster(fs::path dir) : dir_(std::move(dir)) {}

  ~SlurmCluster() {
    if (started_slurm_) run_shell("'" + scancel_.string() + "' --quiet --user=root");
    for (const char* pid_file : {"slurmd.pid", "slurmctld.pid", "munged.pid"}) {
      const std::string pid = read_pid(dir_ / pid_file);
      if (pid.empty()) continue;
      const pid_t id = static_cast<pid_t>(std::stol(pid));
      ::kill(id, SIGTERM);
      for (int i = 0; i < 100 && alive(id); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (alive(id)) ::kill(id, SIGKILL);
    }
  }

  // Starts the daemons; returns "" or what went wrong (with the daemons' logs).
  std::string start() {
    for (const char* name : {"munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo"}) {
      if (find_program(name).empty()) return std::string("missing program ") + name;
    }
    scancel_ = find_program("scancel");
    ::chmod(dir_.c_str(), 0755);  // munged wants its socket's folder reachable
    fs::create_directories(dir_ / "state");
    fs::create_directories(dir_ / "spool");

    // munged with its own key and socket, so nothing here touches a system-wide munge.
    {
      std::mt19937_64 random(std::random_device{}());
      std::ofstream key(dir_ / "munge.key", std::ios::binary);
      for (int i = 0; i < 128; ++i) {
        const std::uint64_t word = random();
        key.write(reinterpret_cast<const char*>(&word), sizeof word);
      }
    }
    ::chmod((dir_ / "munge.key").c_str(), 0600);
    const fs::path socket = dir_ / "munge.sock";
    CommandResult munged = run_shell("'" + find_program("munged").string() + "' --force --socket='" + socket.string() +
                                     "' --key-file='" + (dir_ / "munge.key").string() + "' --log-file='" +
                                     (dir_ / "munged.log").string() + "' --pid-file='" + (dir_ / "munged.pid").string() +
                                     "' --seed-file='" + (dir_ / "munged.seed").string() + "'");
    if (munged.exit_code != 0) return "munged failed: " + munged.output;

    int port = 20000 + static_cast<int>(::getpid() % 20000);
    while (!(port_is_free(port) && port_is_free(port + 1))) port += 2;
    const fs::path conf = dir_ / "slurm.conf";
    std::ofstream(conf) << "ClusterName=ptbenchtest\n"
                        << "SlurmctldHost=localhost(127.0.0.1)\n"
                        << "SlurmctldPort=" << port << "\n"
                        << "SlurmdPort=" << port + 1 << "\n"
                        << "AuthType=auth/munge\nCredType=cred/munge\n"
                        << "AuthInfo=socket=" << socket.string() << "\n"
                        << "SlurmUser=root\nSlurmdUser=root\n"
                        << "StateSaveLocation=" << (dir_ / "state").string() << "\n"
                        << "SlurmdSpoolDir=" << (dir_ / "spool").string() << "\n"
                        << "SlurmctldPidFile=" << (dir_ / "slurmctld.pid").string() << "\n"
                        << "SlurmdPidFile=" << (dir_ / "slurmd.pid").string() << "\n"
                        << "SlurmctldLogFile=" << (dir_ / "slurmctld.log").string() << "\n"
                        << "SlurmdLogFile=" << (dir_ / "slurmd.log").string() << "\n"
                        << "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n"
                        << "SelectType=select/cons_tres\nSelectTypeParameters=CR_CPU\n"
                        << "SchedulerType=sched/builtin\nReturnToService=2\nMpiDefault=none\n"
                        << "JobAcctGatherType=jobacct_gather/none\nAccountingStorageType=accounting_storage/none\n"
                        << "JobCompType=jobcomp/none\nInactiveLimit=0\nSlurmctldTimeout=30\nSlurmdTimeout=30\n"
                        << "NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN\n"
                        << "PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP\n";
    ::setenv("SLURM_CONF", conf.c_str(), 1);  // sbatch, squeue, … and the sweep we start read it

    CommandResult controller = run_shell("'" + find_program("slurmctld").string() + "' -c -f '" + conf.string() + "'");
    if (controller.exit_code != 0) return "slurmctld failed: " + controller.output + logs();
    started_slurm_ = true;
    CommandResult node = run_shell("'" + find_program("slurmd").string() + "' -f '" + conf.string() + "' -N localhost");
    if (node.exit_code != 0) return "slurmd failed: " + node.output + logs();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
    while (std::chrono::steady_clock::now() < deadline) {
      const CommandResult state = run_shell("'" + find_program("sinfo").string() + "' -h -o %T");
      if (state.exit_code == 0 && state.output.find("idle") != std::string::npos) return "";
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return "the node never became idle" + logs();
  }

  std::string logs() const {
    std::string text;
    for (const char* log : {"munged.log", "slurmctld.log", "slurmd.log"}) {
      std::error_code ec;
      if (fs::exists(dir_ / log, ec)) text += std::string("\n--- ") + log + "\n" + read_text_file(dir_ / log);
    }
    return text;
  }

 private:
  fs::path dir_;
  fs::path scancel_;
  bool started_slurm_ = false;
};

std::vector<fs::path> records_in(const fs::path& dir) {
  std::vector<fs::path> records;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".json") records.push_back(entry.path());
  std::sort(records.begin(), records.end());
  return records;
}

TEST(SweepSlurm, JobArrayGivesTheInlineRecords) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "skipped: this test starts slurmctld and slurmd as root on 127.0.0.1; run the suite as root (CI does)";
  }
  for (const char* name : {"munged", "slurmctld", "slurmd", "sbatch", "squeue"}) {
    if (find_program(name).empty()) {
      GTEST_SKIP() << "skipped: '" << name << "' is not installed; `make setup` (as root) installs slurm-wlm and munge";
    }
  }
  const fs::path dir = temp_dir("slurm");
  SlurmCluster cluster(dir / "cluster");
  fs::create_directories(dir / "cluster");
  const std::string problem = cluster.start();
  ASSERT_EQ(problem, "") << "could not start a single-node Slurm";

  const fs::path file = dir / "slurm.json";
  std::ofstream(file) << R"({
    "name": "slurm-e2e",
    "base": {"backbone": ")" << (golden_dir() / "models" / "bert_seqcls").string() << R"(", "task": "rte",
             "train": {"epochs": 1, "batch_size": 8, "max_train_examples": 16, "max_eval_examples": 16,
                       "max_seq_length": 64}},
    "axes": {"method": ["full", "prompt"]},
    "overrides": [{"when": {"method": "prompt"}, "patch": {"method": {"length": 4}, "train": {"lr": 0.001}}}],
    "seeds": [1, 2]})";
  const fs::path slurm_out = dir / "slurm-runs";
  const std::string binary = "'" + ptbench_binary().string() + "'";
  const CommandResult slurm = run_shell(binary + " sweep " + file.string() + " --out " + slurm_out.string() +
                                        " --executor slurm --cpus-per-task 1 --partition debug --time 10 --poll 0.5"
                                        " --progress plain");
  ASSERT_EQ(slurm.exit_code, 0) << slurm.output << cluster.logs();
  EXPECT_NE(slurm.output.find("submitted Slurm job"), std::string::npos) << slurm.output;

  // The job array script: one task per run, the options passed through.
  std::vector<fs::path> scripts;
  for (const auto& entry : fs::directory_iterator(slurm_out / "slurm")) scripts.push_back(entry.path() / "job.sh");
  ASSERT_EQ(scripts.size(), 1u);
  const std::string script = read_text_file(scripts[0]);
  for (const char* line : {"#SBATCH --array=0-3", "#SBATCH --cpus-per-task=1", "#SBATCH --partition=debug",
                           "#SBATCH --time=10"}) {
    EXPECT_NE(script.find(line), std::string::npos) << line << " not in\n" << script;
  }

  const fs::path inline_out = dir / "inline-runs";
  const CommandResult inline_run = run_shell(binary + " sweep " + file.string() + " --out " + inline_out.string() +
                                             " --executor inline --threads 1 --progress plain");
  ASSERT_EQ(inline_run.exit_code, 0) << inline_run.output;

  const std::vector<fs::path> slurm_records = records_in(slurm_out);
  const std::vector<fs::path> inline_records = records_in(inline_out);
  ASSERT_EQ(slurm_records.size(), 4u) << slurm.output;
  ASSERT_EQ(inline_records.size(), 4u) << inline_run.output;
  for (std::size_t i = 0; i < 4; ++i) {
    ASSERT_EQ(slurm_records[i].filename(), inline_records[i].filename());
    const nlohmann::json from_slurm = read_json_file(slurm_records[i]);
    const nlohmann::json from_inline = read_json_file(inline_records[i]);
    EXPECT_EQ(from_slurm["status"], from_inline["status"]) << from_slurm.value("error", "");
    EXPECT_NE(from_slurm["status"], "failed") << from_slurm.value("error", "");
    EXPECT_EQ(resolve_run_spec(from_slurm["spec"], {}).run_id(), slurm_records[i].stem().string());
    EXPECT_EQ(from_slurm["metrics"], from_inline["metrics"]) << slurm_records[i].filename();
    EXPECT_EQ(from_slurm["epochs"], from_inline["epochs"]) << slurm_records[i].filename();
    EXPECT_EQ(from_slurm["environment"]["threads"], 1);
    EXPECT_EQ(from_inline["environment"]["threads"], 1);
  }

  // Resuming finds everything done and submits nothing.
  const CommandResult again = run_shell(binary + " sweep " + file.string() + " --out " + slurm_out.string() +
                                        " --executor slurm --progress plain");
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("nothing to run"), std::string::npos) << again.output;
}

}  // namespace
}  // namespace ptbench
