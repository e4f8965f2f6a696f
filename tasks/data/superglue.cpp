#include "tasks/data/superglue.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>
#include <system_error>

#include "common/error.h"
#include "common/files.h"
#include "tasks/data/json_fields.h"

namespace ptbench::data {

using detail::JsonFields;

const std::vector<SuperGlueTask>& superglue_tasks() {
  static const std::vector<SuperGlueTask> tasks = {SuperGlueTask::boolq,   SuperGlueTask::cb,     SuperGlueTask::copa,
                                                   SuperGlueTask::multirc, SuperGlueTask::record, SuperGlueTask::rte,
                                                   SuperGlueTask::wic,     SuperGlueTask::wsc};
  return tasks;
}

std::string_view superglue_task_name(SuperGlueTask task) {
  switch (task) {
    case SuperGlueTask::boolq:
      return "BoolQ";
    case SuperGlueTask::cb:
      return "CB";
    case SuperGlueTask::copa:
      return "COPA";
    case SuperGlueTask::multirc:
      return "MultiRC";
    case SuperGlueTask::record:
      return "ReCoRD";
    case SuperGlueTask::rte:
      return "RTE";
    case SuperGlueTask::wic:
      return "WiC";
    case SuperGlueTask::wsc:
      return "WSC";
  }
  return "?";
}

namespace {
std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace

SuperGlueTask parse_superglue_task(std::string_view name) {
  std::string known;
  for (SuperGlueTask task : superglue_tasks()) {
    if (lower(superglue_task_name(task)) == lower(name)) return task;
    known += (known.empty() ? "" : ", ") + std::string(superglue_task_name(task));
  }
  fail("unknown SuperGLUE task '", name, "' (known: ", known, ")");
}

std::string superglue_download_url(SuperGlueTask task) {
  return "https://dl.fbaipublicfiles.com/glue/superglue/data/v2/" + std::string(superglue_task_name(task)) + ".zip";
}

fs::path superglue_split_path(const fs::path& data_root, SuperGlueTask task, Split split) {
  // The release names the validation file val.jsonl.
  const char* file = split == Split::train ? "train.jsonl" : split == Split::validation ? "val.jsonl" : "test.jsonl";
  return data_root / "superglue" / std::string(superglue_task_name(task)) / file;
}

bool superglue_split_exists(const fs::path& data_root, SuperGlueTask task, Split split) {
  std::error_code ec;
  return fs::is_regular_file(superglue_split_path(data_root, task, split), ec);
}

void require_superglue_split(const fs::path& data_root, SuperGlueTask task, Split split) {
  const std::string name(superglue_task_name(task));
  require_data_path(
      superglue_split_path(data_root, task, split),
      {"SuperGLUE " + name + " " + std::string(split_name(split)) + " split", superglue_download_url(task),
       "unzip it so that <data-dir>/superglue/" + name + "/{train,val,test}.jsonl exist"});
}

std::string_view cb_label_name(CbLabel label) {
  switch (label) {
    case CbLabel::entailment:
      return "entailment";
    case CbLabel::contradiction:
      return "contradiction";
    case CbLabel::neutral:
      return "neutral";
  }
  return "?";
}

std::string_view copa_question_name(CopaQuestion question) {
  return question == CopaQuestion::cause ? "cause" : "effect";
}

std::string_view rte_label_name(RteLabel label) {
  return label == RteLabel::entailment ? "entailment" : "not_entailment";
}

std::size_t record_query_count(const std::vector<RecordPassage>& passages) {
  std::size_t count = 0;
  for (const auto& passage : passages) count += passage.queries.size();
  return count;
}

namespace {

std::string where(const fs::path& file, std::int64_t line) { return file.string() + ":" + std::to_string(line); }

// Reads the label through `parse` when present; a missing label is an Error only when required.
template <typename T, typename Parse>
std::optional<T> optional_label(const JsonFields& record, bool required, Parse&& parse) {
  if (!record.has("label")) {
    if (required) record.problem("label", "missing (only test files may omit labels)");
    return std::nullopt;
  }
  return parse();
}

// A string label looked up in `names`, whose position is the enum value.
template <typename Enum, std::size_t N>
Enum named_label(const JsonFields& record, const std::array<std::string_view, N>& names) {
  const std::string value = record.string("label");
  for (std::size_t i = 0; i < N; ++i) {
    if (value == names[i]) return static_cast<Enum>(i);
  }
  std::string known;
  for (auto name : names) known += (known.empty() ? "" : ", ") + std::string(name);
  record.problem("label", "'" + value + "' is not in the label set (" + known + ")");
}

// 0 or 1 as a JSON integer (COPA, MultiRC).
int binary_int_label(const JsonFields& record, std::string_view field) {
  const std::int64_t value = record.integer(field);
  if (value != 0 && value != 1) record.problem(field, std::to_string(value) + " is not in the label set (0, 1)");
  return static_cast<int>(value);
}

// A [start, end) or inclusive code-point span converted to bytes; out of range is an Error.
std::pair<std::size_t, std::size_t> byte_span(const JsonFields& record, std::string_view field, std::string_view text,
                                              std::int64_t start, std::int64_t end_exclusive) {
  const auto begin = utf8_byte_offset(text, start);
  const auto end = utf8_byte_offset(text, end_exclusive);
  if (!begin || !end || end_exclusive < start) {
    record.problem(field, "span [" + std::to_string(start) + ", " + std::to_string(end_exclusive) +
                              ") lies outside the text of " + std::to_string(utf8_length(text)) + " characters");
  }
  return {*begin, *end};
}

template <typename Example, typename Parse>
std::vector<Example> read_jsonl(const fs::path& file, Parse&& parse) {
  std::vector<Example> examples;
  for_each_jsonl(file, [&](const nlohmann::json& value, std::int64_t line) {
    examples.push_back(parse(JsonFields(value, where(file, line))));
  });
  return examples;
}

}  // namespace

std::vector<BoolqExample> read_boolq_file(const fs::path& file, bool labels_required) {
  return read_jsonl<BoolqExample>(file, [&](const JsonFields& r) {
    BoolqExample e;
    e.idx = r.integer("idx");
    e.question = r.string("question");
    e.passage = r.string("passage");
    e.label = optional_label<bool>(r, labels_required, [&] { return r.boolean("label"); });
    return e;
  });
}

std::vector<CbExample> read_cb_file(const fs::path& file, bool labels_required) {
  static constexpr std::array<std::string_view, 3> kNames = {"entailment", "contradiction", "neutral"};
  return read_jsonl<CbExample>(file, [&](const JsonFields& r) {
    CbExample e;
    e.idx = r.integer("idx");
    e.premise = r.string("premise");
    e.hypothesis = r.string("hypothesis");
    e.label = optional_label<CbLabel>(r, labels_required, [&] { return named_label<CbLabel>(r, kNames); });
    return e;
  });
}

std::vector<CopaExample> read_copa_file(const fs::path& file, bool labels_required) {
  static constexpr std::array<std::string_view, 2> kQuestions = {"cause", "effect"};
  return read_jsonl<CopaExample>(file, [&](const JsonFields& r) {
    CopaExample e;
    e.idx = r.integer("idx");
    e.premise = r.string("premise");
    e.choice1 = r.string("choice1");
    e.choice2 = r.string("choice2");
    const std::string question = r.string("question");
    if (question == kQuestions[0]) {
      e.question = CopaQuestion::cause;
    } else if (question == kQuestions[1]) {
      e.question = CopaQuestion::effect;
    } else {
      r.problem("question", "'" + question + "' is neither cause nor effect");
    }
    e.label = optional_label<int>(r, labels_required, [&] { return binary_int_label(r, "label"); });
    return e;
  });
}

std::vector<MultircExample> read_multirc_file(const fs::path& file, bool labels_required) {
  std::vector<MultircExample> examples;
  for_each_jsonl(file, [&](const nlohmann::json& value, std::int64_t line) {
    const JsonFields record(value, where(file, line));
    const std::int64_t paragraph_idx = record.integer("idx");
    const JsonFields passage = record.object("passage");
    const std::string paragraph = passage.string("text");
    passage.for_each_object("questions", [&](const JsonFields& question, std::size_t) {
      const std::int64_t question_idx = question.integer("idx");
      const std::string question_text = question.string("question");
      question.for_each_object("answers", [&](const JsonFields& answer, std::size_t) {
        MultircExample e;
        e.paragraph_idx = paragraph_idx;
        e.question_idx = question_idx;
        e.answer_idx = answer.integer("idx");
        e.paragraph = paragraph;
        e.question = question_text;
        e.answer = answer.string("text");
        e.label = optional_label<bool>(answer, labels_required, [&] { return binary_int_label(answer, "label") == 1; });
        examples.push_back(std::move(e));
      });
    });
  });
  return examples;
}

std::vector<RecordPassage> read_record_file(const fs::path& file, bool labels_required) {
  return read_jsonl<RecordPassage>(file, [&](const JsonFields& r) {
    RecordPassage p;
    p.idx = r.integer("idx");
    if (r.has("source")) p.source = r.string("source");
    const JsonFields passage = r.object("passage");
    p.text = passage.string("text");
    // ReCoRD spans are inclusive: text[start .. end] (the HF builder slices [start, end + 1)).
    auto read_span = [&](const JsonFields& span, bool take_text) {
      RecordSpan s;
      s.start = span.integer("start");
      s.end = span.integer("end");
      std::tie(s.byte_begin, s.byte_end) = byte_span(span, "end", p.text, s.start, s.end + 1);
      s.text = take_text ? span.string("text") : p.text.substr(s.byte_begin, s.byte_end - s.byte_begin);
      return s;
    };
    passage.for_each_object(
        "entities", [&](const JsonFields& entity, std::size_t) { p.entities.push_back(read_span(entity, false)); });
    std::set<std::string> unique;
    for (const auto& entity : p.entities) unique.insert(entity.text);
    p.candidates.assign(unique.begin(), unique.end());
    r.for_each_object("qas", [&](const JsonFields& qa, std::size_t) {
      RecordQuery q;
      q.idx = qa.integer("idx");
      q.query = qa.string("query");
      if (q.query.find("@placeholder") == std::string::npos) qa.problem("query", "has no @placeholder");
      if (qa.has("answers")) {
        q.answers.emplace();
        qa.for_each_object(
            "answers", [&](const JsonFields& answer, std::size_t) { q.answers->push_back(read_span(answer, true)); });
      } else if (labels_required) {
        qa.problem("answers", "missing (only test files may omit answers)");
      }
      p.queries.push_back(std::move(q));
    });
    return p;
  });
}

std::vector<RteExample> read_rte_file(const fs::path& file, bool labels_required) {
  static constexpr std::array<std::string_view, 2> kNames = {"entailment", "not_entailment"};
  return read_jsonl<RteExample>(file, [&](const JsonFields& r) {
    RteExample e;
    e.idx = r.integer("idx");
    e.premise = r.string("premise");
    e.hypothesis = r.string("hypothesis");
    e.label = optional_label<RteLabel>(r, labels_required, [&] { return named_label<RteLabel>(r, kNames); });
    return e;
  });
}

std::vector<WicExample> read_wic_file(const fs::path& file, bool labels_required) {
  return read_jsonl<WicExample>(file, [&](const JsonFields& r) {
    WicExample e;
    e.idx = r.integer("idx");
    e.word = r.string("word");
    e.sentence1 = r.string("sentence1");
    e.sentence2 = r.string("sentence2");
    e.start1 = r.integer("start1");
    e.end1 = r.integer("end1");
    e.start2 = r.integer("start2");
    e.end2 = r.integer("end2");
    std::tie(e.byte_start1, e.byte_end1) = byte_span(r, "end1", e.sentence1, e.start1, e.end1);
    std::tie(e.byte_start2, e.byte_end2) = byte_span(r, "end2", e.sentence2, e.start2, e.end2);
    e.label = optional_label<bool>(r, labels_required, [&] { return r.boolean("label"); });
    return e;
  });
}

std::vector<WscExample> read_wsc_file(const fs::path& file, bool labels_required) {
  return read_jsonl<WscExample>(file, [&](const JsonFields& r) {
    WscExample e;
    e.idx = r.integer("idx");
    e.text = r.string("text");
    const JsonFields target = r.object("target");
    e.span1_index = target.integer("span1_index");
    e.span1_text = target.string("span1_text");
    e.span2_index = target.integer("span2_index");
    e.span2_text = target.string("span2_text");
    e.label = optional_label<bool>(r, labels_required, [&] { return r.boolean("label"); });
    return e;
  });
}

namespace {
template <typename Read>
auto load_split(const fs::path& data_root, SuperGlueTask task, Split split, Read&& read) {
  require_superglue_split(data_root, task, split);
  return read(superglue_split_path(data_root, task, split), split != Split::test);
}
}  // namespace

std::vector<BoolqExample> load_boolq(const fs::path& data_root, Split split) {
  return load_split(data_root, SuperGlueTask::boolq, split, read_boolq_file);
}
std::vector<CbExample> load_cb(const fs::path& data_root, Split split) {
  return load_split(data_root, SuperGlueTask::cb, split, read_cb_file);
}
std::vector<CopaExample> load_copa(const fs::path& data_root, Split split) {
  return load_split(data_root, SuperGlueTask::copa, split, read_copa_file);
}
std::vector<MultircExample> load_multirc(const fs::path& data_root, Split split) {
  return load_split(data_root, SuperGlueTask::multirc, split, read_multirc_file);
}
std::vector<RecordPassage> load_record(const fs::path& data_root, Split split) {
  return load_split(data_root, SuperGlueTask::record, split, read_record_file);
}
std::vector<RteExample> load_rte(const fs::path& data_root, Split split) {
  return load_split(data_root, SuperGlueTask::rte, split, read_rte_file);
}
std::vector<WicExample> load_wic(const fs::path& data_root, Split split) {
  return load_split(data_root, SuperGlueTask::wic, split, read_wic_file);
}
std::vector<WscExample> load_wsc(const fs::path& data_root, Split split) {
  return load_split(data_root, SuperGlueTask::wsc, split, read_wsc_file);
}

}  // namespace ptbench::data
