#include "tasks/ner.h"

#include "tasks/data/conll.h"
#include "tasks/tagging.h"

namespace ptbench {

namespace {

using LoadSentences = std::vector<data::TaggedSentence> (*)(const std::filesystem::path&, Split);
using SplitPath = std::filesystem::path (*)(const std::filesystem::path&, Split);

std::unique_ptr<Task> make_ner_task(const std::string& name, LoadSentences load, SplitPath path) {
  TaggingTaskDefinition definition;
  definition.name = name;
  definition.version = 1;
  definition.primary_metric = "f1";
  definition.load = [load, path](const TaskContext& context, Split split, nlohmann::json& notes) {
    std::vector<TaggedExample> examples;
    for (data::TaggedSentence& sentence : load(context.data_dir, split)) {
      examples.push_back({std::move(sentence.words), std::move(sentence.tags), {}});
    }
    notes["files"][std::string(data::split_name(split))] = path(context.data_dir, split).string();
    return examples;
  };
  definition.metrics = ner_metrics;
  return std::make_unique<TokenTaggingTask>(definition);
}

}  // namespace

std::unique_ptr<Task> make_conll03_task() {
  return make_ner_task("conll03", data::load_conll2003, data::conll2003_split_path);
}

std::unique_ptr<Task> make_conll04_task() {
  return make_ner_task("conll04", data::load_conll04, data::conll04_split_path);
}

std::unique_ptr<Task> make_ontonotes_task() {
  return make_ner_task("ontonotes", data::load_ontonotes_ner, data::ontonotes_split_dir);
}

}  // namespace ptbench
