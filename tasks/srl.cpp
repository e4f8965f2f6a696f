#include "tasks/srl.h"

#include "common/error.h"
#include "tasks/data/conll.h"
#include "tasks/data/srl.h"
#include "tasks/metrics/srl.h"
#include "tasks/tagging.h"

namespace ptbench {

namespace {

namespace fs = std::filesystem;

TaggedExample to_tagged(data::SrlExample&& e) {
  TaggedExample example;
  // P-Tuning v2: words + ["[SEP]", words[predicate_index]]; only the sentence words carry labels.
  example.suffix = {std::string(data::kPtuningV2PredicateSeparator),
                    e.words.at(static_cast<std::size_t>(e.predicate_index))};
  example.words = std::move(e.words);
  example.tags = std::move(e.tags);
  return example;
}

nlohmann::json counts_json(const metrics::SrlCounts& c) {
  return {{"precision", c.precision()}, {"recall", c.recall()}, {"f1", c.f1()},
          {"correct", c.correct},       {"excess", c.excess},   {"missed", c.missed}};
}

// The CoNLL-2012 files: the one-line format P-Tuning v2 reads when present, else the official
// gold_conll folders (what the CoNLL-2012 scripts write).
std::vector<data::SrlExample> load_conll2012(const fs::path& root, Split split, nlohmann::json& notes) {
  const fs::path one_line = data::srl_bio_split_path(root, data::SrlCorpus::conll2012, split);
  const fs::path gold_conll = data::ontonotes_split_dir(root, split);
  std::error_code ec;
  const std::string name(data::split_name(split));
  if (fs::exists(one_line, ec) || !fs::is_directory(gold_conll, ec)) {
    notes["files"][name] = one_line.string();
    notes["format"][name] = "one line per predicate (He et al. 2017)";
    try {
      return data::load_srl_bio(root, data::SrlCorpus::conll2012, split);
    } catch (const Error& error) {
      fail(error.what(), " (or put the CoNLL-2012 *gold_conll files under ", gold_conll.string(), ")");
    }
  }
  notes["files"][name] = gold_conll.string();
  notes["format"][name] = "CoNLL-2012 gold_conll";
  return data::read_conll2012_srl(gold_conll);
}

std::unique_ptr<Task> make_srl_task(const std::string& name, data::SrlCorpus corpus) {
  TaggingTaskDefinition definition;
  definition.name = name;
  definition.version = 1;
  definition.primary_metric = "f1";
  definition.load = [corpus](const TaskContext& context, Split split, nlohmann::json& notes) {
    std::vector<data::SrlExample> loaded;
    if (corpus == data::SrlCorpus::conll2012) {
      loaded = load_conll2012(context.data_dir, split, notes);
    } else {
      loaded = data::load_srl_bio(context.data_dir, corpus, split);
      notes["files"][std::string(data::split_name(split))] =
          data::srl_bio_split_path(context.data_dir, corpus, split).string();
    }
    std::vector<TaggedExample> examples;
    examples.reserve(loaded.size());
    for (data::SrlExample& e : loaded) examples.push_back(to_tagged(std::move(e)));
    notes["input"] = "words [SEP] predicate (P-Tuning v2 tasks/srl/dataset.py)";
    return examples;
  };
  definition.metrics = srl_metrics;
  return std::make_unique<TokenTaggingTask>(definition);
}

}  // namespace

nlohmann::json srl_metrics(const metrics::TagSequences& gold, const metrics::TagSequences& predicted) {
  const metrics::SeqevalReport conll = metrics::seqeval_report(gold, predicted);
  const metrics::SrlEvalResult official = metrics::srl_eval(gold, predicted);
  nlohmann::json m = nlohmann::json::object();
  m["precision"] = conll.micro.precision;
  m["recall"] = conll.micro.recall;
  m["f1"] = conll.micro.f1;
  m["accuracy"] = conll.accuracy;
  m["srl_eval_f1"] = official.overall.f1();
  nlohmann::json srl_eval = counts_json(official.overall);
  srl_eval["propositions"] = official.propositions;
  srl_eval["perfect_propositions"] = official.perfect_propositions;
  nlohmann::json per_type = nlohmann::json::object();
  for (const auto& [type, counts] : official.per_type) per_type[type] = counts_json(counts);
  srl_eval["per_type"] = per_type;
  nlohmann::json excluded = nlohmann::json::object();
  for (const auto& [type, counts] : official.excluded) excluded[type] = counts_json(counts);
  srl_eval["excluded"] = excluded;
  m["srl_eval"] = srl_eval;
  return m;
}

std::unique_ptr<Task> make_conll05_task() { return make_srl_task("conll05", data::SrlCorpus::conll2005); }
std::unique_ptr<Task> make_conll12_task() { return make_srl_task("conll12", data::SrlCorpus::conll2012); }

}  // namespace ptbench
