#include <mutex>

#include "common/error.h"
#include "harness/config.h"
#include "tasks/data/superglue.h"
#include "tasks/pair_classification.h"
#include "tasks/task.h"

namespace ptbench {

namespace {

// RTE (SuperGLUE): premise/hypothesis, entailment = 0, not_entailment = 1 (HF super_glue ids).
std::unique_ptr<Task> make_rte() {
  PairTaskDefinition definition;
  definition.name = "rte";
  definition.version = 1;
  definition.labels = {"entailment", "not_entailment"};
  definition.load = [](const std::filesystem::path& data_dir, Split split, nlohmann::json& notes) {
    std::vector<PairExample> examples;
    for (const data::RteExample& e : data::load_rte(data_dir, split)) {
      examples.push_back({e.premise, e.hypothesis, e.label ? static_cast<std::int64_t>(*e.label) : -1});
    }
    notes["files"][std::string(data::split_name(split))] =
        data::superglue_split_path(data_dir, data::SuperGlueTask::rte, split).string();
    return examples;
  };
  return std::make_unique<PairClassificationTask>(definition);
}

std::vector<TaskEntry> build_registry() {
  std::vector<TaskEntry> entries = {
      {"rte", "SuperGLUE RTE: two-way textual entailment, accuracy", make_rte},
  };
  for (std::size_t i = 0; i < entries.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (entries[i].name == entries[j].name) fail("task '", entries[i].name, "' is registered twice");
  return entries;
}

}  // namespace

const std::vector<TaskEntry>& task_registry() {
  static std::once_flag once;
  static std::vector<TaskEntry> entries;
  std::call_once(once, [] { entries = build_registry(); });
  return entries;
}

std::unique_ptr<Task> make_task(const std::string& name) {
  std::vector<std::string> known;
  for (const TaskEntry& entry : task_registry()) {
    if (entry.name == name) return entry.make();
    known.push_back(entry.name);
  }
  fail("unknown task '", name, "'", suggestion_suffix(name, known), " (known: ", join(known, ", "), ")");
}

}  // namespace ptbench
