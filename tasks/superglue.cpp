#include "tasks/superglue.h"

#include <algorithm>
#include <iostream>

#include "common/error.h"
#include "tasks/data/superglue.h"
#include "tasks/multiple_choice.h"
#include "tasks/pair_classification.h"

namespace ptbench {

namespace superglue_text {

std::string copa_context(const std::string& premise, bool cause) { return premise + (cause ? " because" : " so"); }

std::string multirc_question_answer(const std::string& question, const std::string& answer) {
  return question + " " + answer;
}

namespace {
std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}
}  // namespace

std::string record_passage(const std::string& passage) { return replace_all(passage, "@highlight\n", "- "); }

std::string record_query(const std::string& query, const std::string& entity) {
  return replace_all(query, "@placeholder", entity);
}

std::string wsc_mark_word(const std::string& text, std::int64_t index) {
  std::vector<std::string> words;
  std::string word;
  for (const char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  if (index < 0 || index >= static_cast<std::int64_t>(words.size())) {
    fail("WSC: span2_index ", index, " lies outside the ", words.size(), " words of \"", text, "\"");
  }
  std::string marked;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i) marked += ' ';
    marked += static_cast<std::int64_t>(i) == index ? "*" + words[i] + "*" : words[i];
  }
  return marked;
}

}  // namespace superglue_text

namespace {

using data::SuperGlueTask;

PairExample make_row(std::string text_a, std::optional<std::string> text_b, std::int64_t label) {
  PairExample row;
  row.text_a = std::move(text_a);
  row.text_b = std::move(text_b);
  row.label = label;
  return row;
}

std::int64_t label_id(const std::optional<bool>& label) { return label ? (*label ? 1 : 0) : -1; }
template <typename Enum>
std::int64_t label_id(const std::optional<Enum>& label) {
  return label ? static_cast<std::int64_t>(*label) : -1;
}

// Records which file a split came from.
void note_file(nlohmann::json& notes, const TaskContext& context, SuperGlueTask task, Split split) {
  notes["files"][std::string(data::split_name(split))] =
      data::superglue_split_path(context.data_dir, task, split).string();
}

// The usual shape of a SuperGLUE pair task: read the split, map each record to a row, limit.
template <typename Load, typename ToRow>
PairSplit pair_rows(const TaskContext& context, SuperGlueTask task, Split split, std::int64_t limit,
                    nlohmann::json& notes, Load&& load, ToRow&& to_row) {
  PairSplit rows;
  for (const auto& example : load(context.data_dir, split)) rows.examples.push_back(to_row(example));
  task_util::limit(rows.examples, limit);
  note_file(notes, context, task, split);
  return rows;
}

int resolve_template(const TaskContext& context, int default_id, const char* task) {
  const int id = context.template_id < 0 ? default_id : context.template_id;
  if (id != 0 && id != 1) fail("task ", task, ": template_id must be 0 or 1 (or -1 for the default), got ", id);
  return id;
}

}  // namespace

// BoolQ: (question, passage); False = 0, True = 1.
std::unique_ptr<Task> make_boolq_task() {
  PairTaskDefinition definition;
  definition.name = "boolq";
  definition.version = 1;
  definition.labels = {"False", "True"};
  definition.load = [](const TaskContext& context, Split split, std::int64_t limit, nlohmann::json& notes) {
    Split source = split;
    if (split == Split::train && !data::superglue_split_exists(context.data_dir, SuperGlueTask::boolq, Split::train) &&
        data::superglue_split_exists(context.data_dir, SuperGlueTask::boolq, Split::validation)) {
      source = Split::validation;
      notes["warning"] = kBoolqFallbackWarning;
      notes["train_fallback"] = "validation";
      notes["train_file_expected"] =
          data::superglue_split_path(context.data_dir, SuperGlueTask::boolq, Split::train).string();
      std::cerr << "WARNING: " << kBoolqFallbackWarning << " (expected "
                << notes["train_file_expected"].get<std::string>() << ", from "
                << data::superglue_download_url(SuperGlueTask::boolq) << ")\n";
    }
    PairSplit rows =
        pair_rows(context, SuperGlueTask::boolq, source, limit, notes, data::load_boolq,
                  [](const data::BoolqExample& e) { return make_row(e.question, e.passage, label_id(e.label)); });
    if (source != split) {
      notes["files"]["train"] = notes["files"]["validation"];
    }
    return rows;
  };
  return std::make_unique<PairClassificationTask>(definition);
}

// CB: (premise, hypothesis); entailment 0, contradiction 1, neutral 2. The reference selects on
// accuracy (its test_key) and also reports the macro F1 of the super_glue metric.
std::unique_ptr<Task> make_cb_task() {
  PairTaskDefinition definition;
  definition.name = "cb";
  definition.version = 1;
  definition.labels = {"entailment", "contradiction", "neutral"};
  definition.metrics = {PairMetric::accuracy, PairMetric::macro_f1};
  definition.primary_metric = "accuracy";
  definition.load = [](const TaskContext& context, Split split, std::int64_t limit, nlohmann::json& notes) {
    return pair_rows(context, SuperGlueTask::cb, split, limit, notes, data::load_cb,
                     [](const data::CbExample& e) { return make_row(e.premise, e.hypothesis, label_id(e.label)); });
  };
  return std::make_unique<PairClassificationTask>(definition);
}

// COPA: two (premise + joiner, choice) pairs, multiple-choice head.
std::unique_ptr<Task> make_copa_task() {
  MultipleChoiceTaskDefinition definition;
  definition.name = "copa";
  definition.version = 1;
  definition.num_choices = 2;
  definition.load = [](const TaskContext& context, Split split, std::int64_t limit, nlohmann::json& notes) {
    std::vector<ChoiceExample> examples;
    for (const data::CopaExample& e : data::load_copa(context.data_dir, split)) {
      const std::string text_a = superglue_text::copa_context(e.premise, e.question == data::CopaQuestion::cause);
      ChoiceExample example;
      example.choices = {{text_a, e.choice1}, {text_a, e.choice2}};
      example.label = e.label ? *e.label : -1;
      examples.push_back(std::move(example));
    }
    task_util::limit(examples, limit);
    note_file(notes, context, SuperGlueTask::copa, split);
    return examples;
  };
  return std::make_unique<MultipleChoiceTask>(definition);
}

// MultiRC: one row per answer option, (paragraph, "question answer"); the limit counts options.
std::unique_ptr<Task> make_multirc_task() {
  PairTaskDefinition definition;
  definition.name = "multirc";
  definition.version = 1;
  definition.labels = {"False", "True"};
  definition.metrics = {PairMetric::multirc};
  definition.primary_metric = "f1a";
  definition.load = [](const TaskContext& context, Split split, std::int64_t limit, nlohmann::json& notes) {
    return pair_rows(
        context, SuperGlueTask::multirc, split, limit, notes, data::load_multirc, [](const data::MultircExample& e) {
          PairExample row =
              make_row(e.paragraph, superglue_text::multirc_question_answer(e.question, e.answer), label_id(e.label));
          row.group = e.paragraph_idx;
          row.subgroup = e.question_idx;
          return row;
        });
  };
  return std::make_unique<PairClassificationTask>(definition);
}

// ReCoRD: one row per (query, candidate entity), label 1 when the entity is a gold answer text;
// the limit counts queries. Queries are keyed by (passage idx, query idx): the reference keys
// them by the query idx alone, which is unique in the official files.
std::unique_ptr<Task> make_record_task() {
  PairTaskDefinition definition;
  definition.name = "record";
  definition.version = 1;
  definition.labels = {"0", "1"};
  definition.metrics = {PairMetric::record};
  definition.primary_metric = "f1";
  definition.load = [](const TaskContext& context, Split split, std::int64_t limit, nlohmann::json& notes) {
    PairSplit rows;
    std::int64_t queries = 0;
    for (const data::RecordPassage& passage : data::load_record(context.data_dir, split)) {
      const std::string text = superglue_text::record_passage(passage.text);
      for (const data::RecordQuery& query : passage.queries) {
        if (limit > 0 && queries >= limit) break;
        ++queries;
        CandidateQuery gold{passage.idx, query.idx, {}};
        if (query.answers) {
          for (const data::RecordSpan& answer : *query.answers) gold.answers.push_back(answer.text);
        }
        for (const std::string& entity : passage.candidates) {
          PairExample row = make_row(text, superglue_text::record_query(query.query, entity), -1);
          if (query.answers) {
            row.label = std::find(gold.answers.begin(), gold.answers.end(), entity) != gold.answers.end() ? 1 : 0;
          }
          row.group = passage.idx;
          row.subgroup = query.idx;
          row.candidate = entity;
          rows.examples.push_back(std::move(row));
        }
        rows.queries.push_back(std::move(gold));
      }
    }
    note_file(notes, context, SuperGlueTask::record, split);
    return rows;
  };
  return std::make_unique<PairClassificationTask>(definition);
}

// RTE: (premise, hypothesis); entailment 0, not_entailment 1.
std::unique_ptr<Task> make_rte_task() {
  PairTaskDefinition definition;
  definition.name = "rte";
  definition.version = 1;
  definition.labels = {"entailment", "not_entailment"};
  definition.load = [](const TaskContext& context, Split split, std::int64_t limit, nlohmann::json& notes) {
    return pair_rows(context, SuperGlueTask::rte, split, limit, notes, data::load_rte,
                     [](const data::RteExample& e) { return make_row(e.premise, e.hypothesis, label_id(e.label)); });
  };
  return std::make_unique<PairClassificationTask>(definition);
}

// WiC: template 1 = ("word: sentence1", "word: sentence2"), the P-Tuning v2 BERT script's;
// template 0 = one sequence asking about the word, its RoBERTa script's (and the code default).
std::unique_ptr<Task> make_wic_task() {
  PairTaskDefinition definition;
  definition.name = "wic";
  definition.version = 1;
  definition.labels = {"False", "True"};
  definition.load = [](const TaskContext& context, Split split, std::int64_t limit, nlohmann::json& notes) {
    // run_script/run_wic_bert.sh passes --template_id 1, run_wic_roberta.sh leaves the default 0.
    const int template_id = resolve_template(context, context.tokenizer->kind() == "wordpiece" ? 1 : 0, "wic");
    notes["template_id"] = template_id;
    notes["template"] = template_id == 1
                            ? "\"<word>: <sentence1>\" || \"<word>: <sentence2>\""
                            : "\"<sentence1> <sentence2> Does <word> have the same meaning in both sentences?\"";
    return pair_rows(
        context, SuperGlueTask::wic, split, limit, notes, data::load_wic, [template_id](const data::WicExample& e) {
          if (template_id == 1) {
            return make_row(e.word + ": " + e.sentence1, e.word + ": " + e.sentence2, label_id(e.label));
          }
          return make_row(
              e.sentence1 + " " + e.sentence2 + " Does " + e.word + " have the same meaning in both sentences?",
              std::nullopt, label_id(e.label));
        });
  };
  return std::make_unique<PairClassificationTask>(definition);
}

// WSC: template 0 = ("span2_text: text", span1_text), what both P-Tuning v2 WSC scripts ran;
// template 1 = (text with the pronoun starred at span2_index, span1_text).
std::unique_ptr<Task> make_wsc_task() {
  PairTaskDefinition definition;
  definition.name = "wsc";
  definition.version = 1;
  definition.labels = {"False", "True"};
  definition.load = [](const TaskContext& context, Split split, std::int64_t limit, nlohmann::json& notes) {
    const int template_id = resolve_template(context, 0, "wsc");
    notes["template_id"] = template_id;
    notes["template"] = template_id == 0 ? "\"<span2_text>: <text>\" || \"<span1_text>\""
                                         : "\"<text with *pronoun* at span2_index>\" || \"<span1_text>\"";
    const std::string file = data::superglue_split_path(context.data_dir, SuperGlueTask::wsc, split).string();
    return pair_rows(context, SuperGlueTask::wsc, split, limit, notes, data::load_wsc,
                     [template_id, &file](const data::WscExample& e) {
                       if (template_id == 0)
                         return make_row(e.span2_text + ": " + e.text, e.span1_text, label_id(e.label));
                       try {
                         return make_row(superglue_text::wsc_mark_word(e.text, e.span2_index), e.span1_text,
                                         label_id(e.label));
                       } catch (const Error& error) {
                         fail(file, ": idx ", e.idx, ": ", error.what());
                       }
                     });
  };
  return std::make_unique<PairClassificationTask>(definition);
}

}  // namespace ptbench
