// Experiment files (harness/experiment.h) expand into the runs the schema promises
// (experiments/README.md), layered by JSON merge-patch; records are trusted only after the
// integrity check (harness/sweep.h).
#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/files.h"
#include "harness/experiment.h"
#include "harness/sweep.h"
#include "tests/test_support.h"

namespace ptbench {
namespace {

namespace fs = std::filesystem;
using ordered_json = nlohmann::ordered_json;

ordered_json document(const std::string& text) { return ordered_json::parse(text); }

Experiment expand(const std::string& text, const std::vector<nlohmann::json>& patches = {}) {
  return expand_experiment(document(text), "test.json", patches);
}

std::string error_of(const std::string& text) {
  try {
    expand(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

const char* const kBase = R"("base": {"geometry": "bert-tiny", "task": "rte", "train": {"epochs": 2, "lr": 0.5}})";

TEST(Experiment, GridTimesSeedsInAxisOrderWithSeedsInnermost) {
  const Experiment e = expand(std::string("{") + kBase + R"(,
    "axes": {"method": ["full", "prompt"], "lr": [0.001, 0.01]}, "seeds": [1, 2]})");
  ASSERT_EQ(e.runs.size(), 8u);
  EXPECT_EQ(e.runs[0].label, "method=full lr=0.001 seed=1");
  EXPECT_EQ(e.runs[1].label, "method=full lr=0.001 seed=2");
  EXPECT_EQ(e.runs[2].label, "method=full lr=0.01 seed=1");
  EXPECT_EQ(e.runs[7].label, "method=prompt lr=0.01 seed=2");
  EXPECT_EQ(e.runs[7].spec.method, "prompt");
  EXPECT_DOUBLE_EQ(e.runs[7].spec.train.lr, 0.01);
  EXPECT_EQ(e.runs[7].spec.train.seed, 2);
  EXPECT_EQ(e.runs[7].spec.train.epochs, 2);  // the base's other train keys survive (no shallow merge)
  for (std::size_t i = 0; i < e.runs.size(); ++i) {
    EXPECT_EQ(e.runs[i].index, i);
    EXPECT_EQ(e.runs[i].run_id, e.runs[i].spec.run_id());
  }
  std::set<std::string> ids;
  for (const PlannedRun& run : e.runs) ids.insert(run.run_id);
  EXPECT_EQ(ids.size(), 8u);
}

TEST(Experiment, OverridesAreMergePatchesMatchedByAxisOrSpecKey) {
  const Experiment e = expand(std::string("{") + kBase + R"(,
    "axes": {"method": ["full", "prompt", "prefix"]},
    "overrides": [
      {"when": {"method": "prompt"}, "patch": {"method": {"length": 7}}},
      {"when": {"method": ["prompt", "prefix"]}, "patch": {"train": {"lr": 0.01}}},
      {"when": {"method.name": "prefix", "train.batch_size": 16}, "patch": {"method": {"length": 3, "projection": true}}},
      {"when": {"method": "prefix"}, "patch": {"method": {"projection": null}}}
    ]})");
  ASSERT_EQ(e.runs.size(), 3u);
  EXPECT_DOUBLE_EQ(e.runs[0].spec.train.lr, 0.5);
  EXPECT_EQ(e.runs[1].spec.method_options["length"], 7);
  EXPECT_DOUBLE_EQ(e.runs[1].spec.train.lr, 0.01);
  EXPECT_EQ(e.runs[1].spec.train.epochs, 2);
  // batch_size 16 is the default: `when` sees defaults. null deletes the key: back to its default.
  EXPECT_EQ(e.runs[2].spec.method_options["length"], 3);
  EXPECT_EQ(e.runs[2].spec.method_options["projection"], false);
}

TEST(Experiment, ExplicitCellsPatchAxesAndLabels) {
  const Experiment e = expand(std::string("{") + kBase + R"(,
    "axes": {
      "method": ["prompt"],
      "size": {"values": [{"method": {"length": 5}}, {"method": {"length": 20}}], "labels": ["short", "long"]},
      "rate": {"key": "train.lr", "values": [0.1]}
    },
    "cells": [
      {"method": "prompt", "size": "long", "rate": 0.1},
      {"method": "prompt", "size": {"method": {"length": 9}}, "train.warmup_ratio": 0.1}
    ]})");
  ASSERT_EQ(e.runs.size(), 2u);
  EXPECT_EQ(e.runs[0].label, "method=prompt size=long rate=0.1");
  EXPECT_EQ(e.runs[0].spec.method_options["length"], 20);
  EXPECT_DOUBLE_EQ(e.runs[0].spec.train.lr, 0.1);
  EXPECT_EQ(e.runs[1].spec.method_options["length"], 9);
  EXPECT_DOUBLE_EQ(e.runs[1].spec.train.warmup_ratio, 0.1);
  EXPECT_DOUBLE_EQ(e.runs[1].spec.train.lr, 0.5);
}

TEST(Experiment, GridAndCellsTogetherAndCommandLinePatchesLast) {
  const Experiment e = expand(std::string("{") + kBase + R"(,
    "axes": {"method": ["full", "prompt"], "lr": [0.1, 0.2]},
    "grid": ["lr"],
    "cells": [{"method": "prompt", "lr": 0.3}]})",
                              {nlohmann::json{{"train", {{"epochs", 1}}}}});
  ASSERT_EQ(e.runs.size(), 3u);
  EXPECT_EQ(e.runs[0].label, "lr=0.1");
  EXPECT_EQ(e.runs[2].label, "method=prompt lr=0.3");
  for (const PlannedRun& run : e.runs) EXPECT_EQ(run.spec.train.epochs, 1);
}

TEST(Experiment, IdenticalCellsBecomeOneRun) {
  const Experiment e = expand(std::string("{") + kBase + R"(, "axes": {"lr": [0.5, 0.5, 0.25]}})");
  ASSERT_EQ(e.runs.size(), 2u);
  ASSERT_EQ(e.notes.size(), 1u);
  EXPECT_NE(e.notes[0].find("same run as #0"), std::string::npos) << e.notes[0];
}

TEST(Experiment, NoAxesIsTheBaseOnce) {
  const Experiment e = expand(std::string("{") + kBase + "}");
  ASSERT_EQ(e.runs.size(), 1u);
  EXPECT_EQ(e.runs[0].label, "base");
}

TEST(Experiment, ErrorsNameTheProblem) {
  EXPECT_NE(error_of(R"({"base": {}, "axis": {}})").find("unknown key 'axis' (did you mean 'axes'?)"), std::string::npos)
      << error_of(R"({"base": {}, "axis": {}})");
  EXPECT_NE(error_of(std::string("{") + kBase + R"(, "axes": {"method": ["full"], "lr": [1]}, "grid": ["method"]})")
                .find("axis 'lr' is used neither"),
            std::string::npos);
  EXPECT_NE(error_of(std::string("{") + kBase + R"(, "axes": {"speed": [1, 2]}})").find("'speed' is not a spec key"),
            std::string::npos);
  EXPECT_NE(error_of(std::string("{") + kBase + R"(, "axes": {"lr": [1]}, "grid": ["rl"]})").find("did you mean 'lr'"),
            std::string::npos);
  EXPECT_NE(error_of(std::string("{") + kBase + R"(, "seeds": [1.5]})").find("\"seeds\" must hold integers"),
            std::string::npos);
  EXPECT_NE(error_of(std::string("{") + kBase + R"(, "axes": {"seed": [1]}, "seeds": [1]})").find("not both"),
            std::string::npos);
  const std::string bad_key = error_of(std::string("{") + kBase + R"(, "axes": {"train.lrr": [1]}})");
  EXPECT_NE(bad_key.find("test.json: run 'train.lrr=1'"), std::string::npos) << bad_key;
  EXPECT_NE(bad_key.find("lrr"), std::string::npos) << bad_key;
  EXPECT_NE(error_of(std::string("{") + kBase + R"(, "overrides": [{"when": {"colour": 1}, "patch": {}}]})")
                .find("'colour' is neither an axis"),
            std::string::npos);
}

TEST(RunId, ExecutionOnlyKeysDoNotChangeIdentity) {
  const RunSpec plain = resolve_run_spec({{"geometry", "bert-tiny"}}, {});
  const RunSpec threaded = resolve_run_spec({{"geometry", "bert-tiny"}, {"train", {{"threads", 3}, {"log_every", 5}}}}, {});
  const RunSpec other = resolve_run_spec({{"geometry", "bert-tiny"}, {"train", {{"seed", 3}}}}, {});
  EXPECT_EQ(plain.run_id(), threaded.run_id());
  EXPECT_NE(plain.run_id(), other.run_id());
  EXPECT_EQ(threaded.to_json()["train"]["threads"], 3);  // still in the spec the record stores
}

// Records as train_run writes them, reduced to what the integrity check reads.
nlohmann::json record_for(const RunSpec& spec, const std::string& status) {
  return {{"schema_version", 1}, {"run_id", spec.run_id()}, {"spec", spec.to_json()}, {"status", status}, {"metrics", {{"accuracy", 0.5}}}};
}

TEST(RecordCheck, TrustsOnlyParsedFinalRecordsWhoseSpecMatchesTheirId) {
  const fs::path dir = testing::temp_dir("record-check");
  const RunSpec spec = resolve_run_spec({{"geometry", "bert-tiny"}}, {});
  const RunSpec other = resolve_run_spec({{"geometry", "bert-tiny"}, {"train", {{"lr", 0.1}}}}, {});
  const std::string id = spec.run_id();

  EXPECT_EQ(check_record(dir, id).state, RecordState::missing);

  write_json_atomic(dir / (id + ".json"), record_for(spec, "ok"));
  EXPECT_EQ(check_record(dir, id).state, RecordState::done);
  write_json_atomic(dir / (id + ".json"), record_for(spec, "degenerate"));
  EXPECT_EQ(check_record(dir, id).state, RecordState::done);
  write_json_atomic(dir / (id + ".json"), record_for(spec, "failed"));
  EXPECT_EQ(check_record(dir, id).state, RecordState::failed);

  write_json_atomic(dir / (id + ".json"), record_for(spec, "running"));
  EXPECT_EQ(check_record(dir, id).state, RecordState::corrupt);

  nlohmann::json edited = record_for(spec, "ok");
  edited["spec"]["train"]["lr"] = 0.1;  // the spec no longer hashes to the id
  write_json_atomic(dir / (id + ".json"), edited);
  RecordCheck check = check_record(dir, id);
  EXPECT_EQ(check.state, RecordState::corrupt);
  EXPECT_NE(check.problem.find(other.run_id()), std::string::npos) << check.problem;

  // A trusted record copied under another run's name.
  write_json_atomic(dir / (other.run_id() + ".json"), record_for(spec, "ok"));
  EXPECT_EQ(check_record(dir, other.run_id()).state, RecordState::corrupt);

  const std::string text = record_for(spec, "ok").dump(2);
  std::ofstream(dir / (id + ".json")) << text.substr(0, text.size() / 2);  // truncated
  check = check_record(dir, id);
  EXPECT_EQ(check.state, RecordState::corrupt);
  EXPECT_NE(check.problem.find("does not parse"), std::string::npos) << check.problem;

  const fs::path aside = set_aside_corrupt_record(dir, id);
  EXPECT_TRUE(fs::exists(aside));
  EXPECT_EQ(check_record(dir, id).state, RecordState::missing);
}

TEST(Experiment, ShippedExampleExpands) {
  const Experiment e = load_experiment(testing::source_dir() / "experiments" / "example.json");
  EXPECT_EQ(e.name, "example");
  EXPECT_EQ(e.runs.size(), 8u);
}

}  // namespace
}  // namespace ptbench
