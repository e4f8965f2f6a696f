// The ptbench CLI end to end on the golden tiny BERT and the shipped RTE data: a run writes one
// complete record, repeats are deterministic, and every bad input a user can cause ends with a
// one-line error naming the problem and a non-zero exit.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "tests/test_support.h"

namespace ptbench {
namespace {

namespace fs = std::filesystem;
using testing::golden_dir;
using testing::ptbench_binary;
using testing::temp_dir;
using testing::run_ptbench;
using testing::CommandResult;

std::string seqcls() { return (golden_dir() / "models" / "bert_seqcls").string(); }

std::string train_arguments(const fs::path& out) {
  return "train --backbone " + seqcls() +
         " --task rte --method full --epochs 1 --max-train-examples 64 --max-eval-examples 64 --out " + out.string();
}

std::vector<fs::path> records_in(const fs::path& dir) {
  std::vector<fs::path> records;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".json") records.push_back(entry.path());
  return records;
}

TEST(CliTrain, WritesOneCompleteRecordAndRepeatsExactly) {
  const fs::path out = temp_dir("train");
  CommandResult first = run_ptbench(train_arguments(out));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  std::vector<fs::path> records = records_in(out);
  ASSERT_EQ(records.size(), 1u);
  const nlohmann::json record = read_json_file(records[0]);
  for (const char* key : {"schema_version", "run_id", "spec", "environment", "epochs", "selected_epoch", "metrics",
                          "costs", "parameters", "status", "started_at", "finished_at", "task", "method"}) {
    EXPECT_TRUE(record.contains(key)) << "record lacks " << key;
  }
  EXPECT_EQ(record["run_id"].get<std::string>() + ".json", records[0].filename().string());
  EXPECT_EQ(record["spec"]["method"]["name"], "full");
  EXPECT_EQ(record["spec"]["train"]["max_train_examples"], 64);
  EXPECT_TRUE(record["metrics"].contains("accuracy"));
  EXPECT_GT(record["costs"]["step_time"]["median_ms"].get<double>(), 0.0);
  EXPECT_GT(record["costs"]["train_examples_per_s"].get<double>(), 0.0);
  EXPECT_GT(record["costs"]["peak_rss_mb"].get<double>(), 0.0);
  EXPECT_GT(record["costs"]["train_flops_forward"].get<double>(), 0.0);
  EXPECT_EQ(record["parameters"]["trainable"], record["parameters"]["total"]);  // full fine-tuning
  EXPECT_TRUE(record["environment"].contains("libtorch_version"));
  EXPECT_TRUE(record["environment"].contains("blas"));
  EXPECT_EQ(record["epochs"].size(), 1u);
  EXPECT_TRUE(fs::exists(out / (record["run_id"].get<std::string>() + ".trainable.safetensors")));

  // Same spec, fresh process: bit-identical metrics and losses (deterministic on CPU).
  const fs::path again = temp_dir("train-again");
  CommandResult second = run_ptbench(train_arguments(again));
  ASSERT_EQ(second.exit_code, 0) << second.output;
  const nlohmann::json repeat = read_json_file(again / records[0].filename());
  EXPECT_EQ(repeat["metrics"], record["metrics"]);
  EXPECT_EQ(repeat["epochs"], record["epochs"]);

  // The saved trainable state re-evaluates to the same metrics.
  CommandResult evaluated = run_ptbench("eval --run " + records[0].string());
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.output;
  const auto brace = evaluated.output.find('{');
  ASSERT_NE(brace, std::string::npos) << evaluated.output;
  EXPECT_EQ(nlohmann::json::parse(evaluated.output.substr(brace))["metrics"], record["metrics"]);
}

// One line, "ptbench: error: …", naming what is wrong; exit status 2.
void expect_user_error(const CommandResult& result, const std::vector<std::string>& mentions) {
  EXPECT_NE(result.exit_code, 0) << result.output;
  const auto start = result.output.find("ptbench: error: ");
  ASSERT_NE(start, std::string::npos) << result.output;
  const std::string line = result.output.substr(start, result.output.find('\n', start) - start);
  for (const std::string& mention : mentions) EXPECT_NE(line.find(mention), std::string::npos) << line;
}

TEST(CliErrors, MissingBackboneFolder) {
  const fs::path out = temp_dir("missing-backbone");
  CommandResult result = run_ptbench("train --backbone /nonexistent/model --task rte --out " + out.string());
  expect_user_error(result, {"/nonexistent/model", "does not exist"});
}

TEST(CliErrors, TruncatedSafetensors) {
  const fs::path model = temp_dir("truncated");
  fs::copy_file(golden_dir() / "models" / "bert_seqcls" / "config.json", model / "config.json");
  const std::string bytes = read_text_file(golden_dir() / "models" / "bert_seqcls" / "model.safetensors");
  std::ofstream(model / "model.safetensors", std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  CommandResult result = run_ptbench("train --backbone " + model.string() + " --task rte --out " + (model / "out").string());
  expect_user_error(result, {"model.safetensors", "truncated"});
}

TEST(CliErrors, UnknownSetKeyNamesNearest) {
  CommandResult result = run_ptbench("train --backbone " + seqcls() + " --task rte --set train.learning_rat=1e-3");
  expect_user_error(result, {"unknown key 'train.learning_rat'"});
  CommandResult typo = run_ptbench("train --backbone " + seqcls() + " --task rte --set train.epoch=2");
  expect_user_error(typo, {"'train.epoch'", "did you mean 'epochs'"});
}

TEST(CliErrors, UnknownTaskAndMethod) {
  expect_user_error(run_ptbench("train --backbone " + seqcls() + " --task rtee"), {"unknown task 'rtee'", "did you mean 'rte'"});
  expect_user_error(run_ptbench("train --backbone " + seqcls() + " --task rte --method fulll"),
                    {"unknown method 'fulll'", "known:"});
}

TEST(CliErrors, MalformedRteLineNamesFileAndLine) {
  const fs::path out = temp_dir("malformed");
  const fs::path data = testing::fixtures_dir() / "malformed";
  CommandResult result = run_ptbench("train --backbone " + seqcls() + " --task rte --data-dir " + data.string() +
                                     " --out " + out.string());
  expect_user_error(result, {"RTE/train.jsonl:3"});
}

TEST(CliErrors, UnknownOptionAndMissingSubcommand) {
  CommandResult unknown = run_ptbench("train --no-such-flag");
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.output.find("no-such-flag"), std::string::npos) << unknown.output;
  EXPECT_NE(run_ptbench("").exit_code, 0);
}

TEST(CliInfo, ListsRegistriesAndEnvironment) {
  CommandResult result = run_ptbench("info");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const nlohmann::json info = nlohmann::json::parse(result.output);
  EXPECT_FALSE(info["methods"].empty());
  EXPECT_FALSE(info["tasks"].empty());
  EXPECT_TRUE(info["environment"].contains("blas"));
  EXPECT_TRUE(info["backbones"]["geometries"].is_array());
}

TEST(CliBench, TinyGeometryReportsFigures) {
  CommandResult result = run_ptbench("bench --geometry bert-tiny --method full --batch 2 --seq 16 --steps 2 --warmup 1 --gemm 64");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const nlohmann::json figures = nlohmann::json::parse(result.output);
  for (const char* key : {"step_ms_median", "infer_ms_median", "achieved_gflops", "gemm_gflops", "peak_rss_mb"}) {
    ASSERT_TRUE(figures.contains(key)) << key;
    EXPECT_GT(figures[key].get<double>(), 0.0) << key;
  }
}

}  // namespace
}  // namespace ptbench
