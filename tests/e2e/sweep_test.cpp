// `ptbench sweep` end to end on the golden tiny BERT and the shipped RTE data: a 2 × 2 × 2-seed
// sweep with the local executor writes 8 records; killed (SIGKILL to the sweep and its children)
// and restarted it ends with exactly 8, finished ones untouched; damaged records are detected and
// re-run; a failing run is recorded and the sweep goes on; Ctrl-C stops cleanly; the same spec
// gives bit-identical metrics in a child process and inline.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
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
using testing::run_ptbench;
using testing::CommandResult;

// Starts ptbench in the background with its output in `log`; returns its pid.
pid_t spawn_ptbench(const std::vector<std::string>& arguments, const fs::path& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* out = std::fopen(log.c_str(), "w");
    if (out) {
      dup2(fileno(out), STDOUT_FILENO);
      dup2(fileno(out), STDERR_FILENO);
    }
    std::vector<std::string> args{ptbench_binary().string()};
    args.insert(args.end(), arguments.begin(), arguments.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// Every live descendant of `pid` (children in their own process groups included).
std::vector<pid_t> descendants(pid_t pid) {
  std::vector<pid_t> found;
  std::error_code ec;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream children(task.path() / "children");
    for (pid_t child; children >> child;) {
      found.push_back(child);
      for (pid_t grandchild : descendants(child)) found.push_back(grandchild);
    }
  }
  return found;
}

bool alive(pid_t pid) {
  // A zombie still answers kill(0); read its state instead.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return false;
  const auto close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z';
}

std::vector<fs::path> records_in(const fs::path& dir) {
  std::vector<fs::path> records;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".json") records.push_back(entry.path());
  std::sort(records.begin(), records.end());
  return records;
}

// The integrity rule, checked here independently of the sweep's own check.
void expect_trusted(const fs::path& record_path) {
  const nlohmann::json record = read_json_file(record_path);
  // The tiny random-weight model may predict one class only: "degenerate" is a finished run too.
  const std::string status = record["status"].get<std::string>();
  EXPECT_TRUE(status == "ok" || status == "degenerate") << record_path << ": " << status << " " << record.value("error", "");
  EXPECT_EQ(record["run_id"].get<std::string>(), record_path.stem().string());
  EXPECT_EQ(resolve_run_spec(record["spec"], {}).run_id(), record_path.stem().string());
}

std::string seqcls() { return (golden_dir() / "models" / "bert_seqcls").string(); }

// 2 methods × 2 learning rates × 2 seeds on 16 RTE examples: each run takes about a second.
fs::path write_experiment(const fs::path& dir, const std::string& extra = "") {
  const fs::path file = dir / "e2e.json";
  std::ofstream(file) << R"({
    "name": "e2e",
    "base": {"backbone": ")" << seqcls() << R"(", "task": "rte",
             "train": {"epochs": 1, "batch_size": 8, "max_train_examples": 16, "max_eval_examples": 16,
                       "max_seq_length": 64}},
    "axes": {"method": ["full", "prompt"], "lr": [0.0001, 0.001]},
    "overrides": [{"when": {"method": "prompt"}, "patch": {"method": {"length": 4}}}],
    "seeds": [1, 2])" << extra
                      << "}\n";
  return file;
}

std::string sweep(const fs::path& file, const fs::path& out, const std::string& options) {
  return "sweep " + file.string() + " --out " + out.string() + " --progress plain " + options;
}

std::map<fs::path, fs::file_time_type> mtimes(const std::vector<fs::path>& files) {
  std::map<fs::path, fs::file_time_type> times;
  for (const fs::path& f : files) times[f] = fs::last_write_time(f);
  return times;
}

TEST(SweepLocal, EightRecordsSurviveAKillAndResumeExactly) {
  const fs::path dir = temp_dir("sweep-kill");
  const fs::path out = dir / "runs";
  const fs::path file = write_experiment(dir);

  CommandResult dry = run_ptbench(sweep(file, out, "--dry-run"));
  ASSERT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_NE(dry.output.find("8 runs"), std::string::npos) << dry.output;
  EXPECT_NE(dry.output.find("would run 8"), std::string::npos) << dry.output;

  // Start the sweep, let some records land, then SIGKILL it and everything it started.
  const pid_t pid = spawn_ptbench({"sweep", file.string(), "--out", out.string(), "--executor", "local", "--jobs", "2",
                                   "--threads", "2", "--progress", "plain"},
                                  dir / "first.log");
  ASSERT_GT(pid, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (records_in(out).size() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::vector<pid_t> children = descendants(pid);
  kill(pid, SIGKILL);
  for (pid_t child : children) kill(child, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  const std::vector<fs::path> survivors = records_in(out);
  ASSERT_GE(survivors.size(), 2u) << read_text_file(dir / "first.log");
  ASSERT_LT(survivors.size(), 8u) << "the sweep finished before it could be killed; the test proves nothing";
  for (int i = 0; i < 100 && std::any_of(children.begin(), children.end(), alive); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (pid_t child : children) EXPECT_FALSE(alive(child)) << "child " << child << " outlived the killed sweep";
  const auto before = mtimes(survivors);
  std::map<fs::path, std::string> contents;
  for (const fs::path& f : survivors) contents[f] = read_text_file(f);

  CommandResult dry_after = run_ptbench(sweep(file, out, "--dry-run"));
  ASSERT_EQ(dry_after.exit_code, 0) << dry_after.output;
  EXPECT_NE(dry_after.output.find("would run " + std::to_string(8 - survivors.size())), std::string::npos)
      << dry_after.output;

  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a rewrite would show in the mtime
  CommandResult resumed = run_ptbench(sweep(file, out, "--executor local --jobs 2 --threads 2"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("running " + std::to_string(8 - survivors.size())), std::string::npos) << resumed.output;
  const std::vector<fs::path> records = records_in(out);
  ASSERT_EQ(records.size(), 8u) << resumed.output;
  for (const fs::path& record : records) {
    expect_trusted(record);
    // The executor gave each of the 2 concurrent runs 1 of the 2 threads; the record says so.
    EXPECT_EQ(read_json_file(record)["environment"]["threads"], 1) << record;
  }
  for (const fs::path& f : survivors) {
    EXPECT_EQ(fs::last_write_time(f), before.at(f)) << f << " was rewritten";
    EXPECT_EQ(read_text_file(f), contents.at(f)) << f;
  }
  for (const auto& entry : fs::directory_iterator(out)) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << "left over: " << entry.path();
  }
  CommandResult again = run_ptbench(sweep(file, out, "--executor local --jobs 2"));
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("nothing to run"), std::string::npos) << again.output;

  // Damaged records: one truncated, one whose spec was edited, one with a non-final status.
  const nlohmann::json kept = read_json_file(records[3]);
  const std::string truncated = read_text_file(records[0]);
  std::ofstream(records[0]) << truncated.substr(0, truncated.size() / 2);
  nlohmann::json edited = read_json_file(records[1]);
  edited["spec"]["train"]["lr"] = 0.5;
  std::ofstream(records[1]) << edited.dump(2);
  nlohmann::json unfinished = read_json_file(records[2]);
  unfinished["status"] = "running";
  std::ofstream(records[2]) << unfinished.dump(2);
  const auto untouched = mtimes({records.begin() + 3, records.end()});

  CommandResult dry_corrupt = run_ptbench(sweep(file, out, "--dry-run"));
  ASSERT_EQ(dry_corrupt.exit_code, 0) << dry_corrupt.output;
  EXPECT_NE(dry_corrupt.output.find("3 corrupt"), std::string::npos) << dry_corrupt.output;
  EXPECT_NE(dry_corrupt.output.find("would run 3"), std::string::npos) << dry_corrupt.output;

  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CommandResult repaired = run_ptbench(sweep(file, out, "--executor local --jobs 2 --threads 2"));
  ASSERT_EQ(repaired.exit_code, 0) << repaired.output;
  EXPECT_NE(repaired.output.find("running 3"), std::string::npos) << repaired.output;
  for (const fs::path& f : {records[0], records[1], records[2]}) {
    EXPECT_NE(repaired.output.find(f.string() + " is not trusted"), std::string::npos) << repaired.output;
    EXPECT_TRUE(fs::exists(f.string() + ".corrupt")) << f;
  }
  ASSERT_EQ(records_in(out).size(), 8u);
  for (const fs::path& record : records_in(out)) expect_trusted(record);
  for (const auto& [f, time] : untouched) EXPECT_EQ(fs::last_write_time(f), time) << f << " was rewritten";

  // Determinism: two of these runs again, inline with 1 thread, give bit-identical metrics.
  const fs::path subset = dir / "subset.json";
  std::ofstream(subset) << R"({
    "name": "subset",
    "base": {"backbone": ")" << seqcls() << R"(", "task": "rte",
             "train": {"epochs": 1, "batch_size": 8, "max_train_examples": 16, "max_eval_examples": 16,
                       "max_seq_length": 64}},
    "cells": [{"method": "full", "lr": 0.0001, "seed": 2}, {"method": "prompt", "lr": 0.001, "seed": 1}],
    "overrides": [{"when": {"method": "prompt"}, "patch": {"method": {"length": 4}}}]})";
  const fs::path inline_out = dir / "inline";
  CommandResult inline_run = run_ptbench(sweep(subset, inline_out, "--executor inline --threads 1"));
  ASSERT_EQ(inline_run.exit_code, 0) << inline_run.output;
  const std::vector<fs::path> inline_records = records_in(inline_out);
  ASSERT_EQ(inline_records.size(), 2u);
  for (const fs::path& record : inline_records) {
    const nlohmann::json here = read_json_file(record);
    const nlohmann::json there = read_json_file(out / record.filename());
    EXPECT_EQ(here["metrics"], there["metrics"]) << record.filename();
    EXPECT_EQ(here["epochs"], there["epochs"]) << record.filename();
    EXPECT_EQ(here["environment"]["threads"], 1);
  }
  (void)kept;
}

TEST(SweepLocal, AFailingRunIsRecordedAndTheSweepGoesOn) {
  const fs::path dir = temp_dir("sweep-fail");
  const fs::path file = dir / "fail.json";
  std::ofstream(file) << R"({
    "name": "fail",
    "base": {"task": "rte", "train": {"epochs": 1, "batch_size": 8, "max_train_examples": 8, "max_eval_examples": 8}},
    "axes": {"backbone": ["/nonexistent/model", ")" << seqcls() << R"("]}})";
  const fs::path out = dir / "runs";
  CommandResult result = run_ptbench(sweep(file, out, "--executor local --jobs 1 --threads 1"));
  EXPECT_EQ(result.exit_code, 1) << result.output;
  const std::vector<fs::path> records = records_in(out);
  ASSERT_EQ(records.size(), 2u) << result.output;
  int failed = 0;
  for (const fs::path& record : records) {
    const nlohmann::json json = read_json_file(record);
    if (json["status"] == "failed") {
      ++failed;
      EXPECT_NE(json["error"].get<std::string>().find("/nonexistent/model"), std::string::npos) << json["error"];
    } else {
      expect_trusted(record);
    }
  }
  EXPECT_EQ(failed, 1);
  EXPECT_NE(result.output.find("1 done, 1 failed, 0 missing"), std::string::npos) << result.output;

  // Kept, not re-run: the dry run lists it as failed.
  CommandResult dry = run_ptbench(sweep(file, out, "--dry-run"));
  EXPECT_NE(dry.output.find("failed"), std::string::npos) << dry.output;
  EXPECT_NE(dry.output.find("would run 0"), std::string::npos) << dry.output;
}

TEST(SweepLocal, InterruptEndsChildrenAndKeepsFinishedRecords) {
  const fs::path dir = temp_dir("sweep-interrupt");
  const fs::path out = dir / "runs";
  const fs::path file = write_experiment(dir);
  const pid_t pid = spawn_ptbench({"sweep", file.string(), "--out", out.string(), "--executor", "local", "--jobs", "2",
                                   "--threads", "2", "--progress", "plain"},
                                  dir / "sweep.log");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (records_in(out).empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::vector<pid_t> children;
  while (children.empty() && std::chrono::steady_clock::now() < deadline) {
    children = descendants(pid);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  const std::string log = read_text_file(dir / "sweep.log");
  ASSERT_TRUE(WIFEXITED(status)) << log;
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGINT) << log;
  EXPECT_NE(log.find("interrupted"), std::string::npos) << log;
  for (pid_t child : children) EXPECT_FALSE(alive(child)) << "child " << child << " still runs";
  const std::vector<fs::path> records = records_in(out);
  ASSERT_FALSE(records.empty()) << log;
  EXPECT_LT(records.size(), 8u) << log;
  for (const fs::path& record : records) expect_trusted(record);
}

}  // namespace
}  // namespace ptbench
