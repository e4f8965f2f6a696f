#include "tasks/text2text.h"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <set>
#include <utility>

#include "common/error.h"
#include "tasks/metrics/classification.h"
#include "tasks/metrics/squad.h"
#include "tasks/metrics/superglue.h"
#include "tasks/superglue.h"

namespace ptbench {

using data::SuperGlueTask;

std::string_view to_string(TextToTextConvention convention) {
  return convention == TextToTextConvention::smop ? "smop" : "t5";
}

namespace {

// SMoP's src/superglue_loader.py get_superglue() knows boolq, cb, copa, multirc, rte_superglue
// and wic; it has no text-to-text ReCoRD or WSC.
bool smop_has(SuperGlueTask task) { return task != SuperGlueTask::record && task != SuperGlueTask::wsc; }

std::string task_key(SuperGlueTask task) {
  switch (task) {
    case SuperGlueTask::boolq:
      return "boolq";
    case SuperGlueTask::cb:
      return "cb";
    case SuperGlueTask::copa:
      return "copa";
    case SuperGlueTask::multirc:
      return "multirc";
    case SuperGlueTask::record:
      return "record";
    case SuperGlueTask::rte:
      return "rte";
    case SuperGlueTask::wic:
      return "wic";
    case SuperGlueTask::wsc:
      return "wsc";
  }
  return "?";
}

std::string replace_all(const std::string& text, std::string_view from, std::string_view to) {
  std::string out;
  std::size_t start = 0;
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, start)) {
    out.append(text, start, at - start);
    out.append(to);
    start = at + from.size();
  }
  out.append(text, start, std::string::npos);
  return out;
}

// RE2's \s (TensorFlow's regex_replace): [\t\n\f\r ].
bool re2_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }
// Python's str.split() white space (ASCII part).
bool python_space(char c) { return re2_space(c) || c == '\v'; }

std::vector<std::string> python_split(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (const char c : text) {
    if (python_space(c)) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

std::string strip_ascii_space(std::string_view text) {
  std::size_t begin = 0, end = text.size();
  while (begin < end && python_space(text[begin])) ++begin;
  while (end > begin && python_space(text[end - 1])) --end;
  return std::string(text.substr(begin, end - begin));
}

const char* label_name(bool value) { return value ? "True" : "False"; }

template <typename Optional>
const auto& require_label(const Optional& label, const char* task) {
  if (!label) fail("text-to-text ", task, ": an example has no label (only train and validation files are formatted)");
  return *label;
}

// TFDS super_glue _fix_wst (the wsc.fixed config T5 reads): a span text that is not a
// substring of the text gets the case of the word at its index on its first letter, loses
// trailing dots and has newlines replaced by spaces. ASCII case only.
void fix_wsc_span(const std::string& text, std::string& span_text, std::int64_t index, std::int64_t& span2_index) {
  if (span_text.empty() || text.find(span_text) != std::string::npos) return;
  if (span_text == "Kamenev and Zinoviev" || span_text == "Kamenev, Zinoviev, and Stalin") return;
  if (span_text.find("theyscold") != std::string::npos) span2_index = 10;
  const std::vector<std::string> words = python_split(text);
  if (index < 0 || index >= static_cast<std::int64_t>(words.size())) return;  // TFDS would raise; we leave it
  const unsigned char first = static_cast<unsigned char>(words[index][0]);
  span_text[0] = static_cast<char>(std::islower(first) ? std::tolower(static_cast<unsigned char>(span_text[0]))
                                                       : std::toupper(static_cast<unsigned char>(span_text[0])));
  while (!span_text.empty() && span_text.back() == '.') span_text.pop_back();
  span_text = replace_all(span_text, "\n", " ");
}

// T5 wsc() _mark_span: the regex ^((?:\S+\s){N})(W) → \1<mark> \2 <mark>, W taken literally.
bool mark_wsc_span(std::string& text, const std::string& span_text, std::int64_t index, const char* mark) {
  if (index < 0 || span_text.empty()) return false;
  std::size_t at = 0;
  for (std::int64_t word = 0; word < index; ++word) {
    const std::size_t start = at;
    while (at < text.size() && !re2_space(text[at])) ++at;
    if (at == start || at >= text.size()) return false;  // \S+ then exactly one \s
    ++at;
  }
  if (text.compare(at, span_text.size(), span_text) != 0) return false;
  text = text.substr(0, at) + mark + " " + span_text + " " + mark + text.substr(at + span_text.size());
  return true;
}

}  // namespace

TextToTextConvention resolve_text2text_convention(SuperGlueTask task, int template_id) {
  switch (template_id) {
    case -1:
      return smop_has(task) ? TextToTextConvention::smop : TextToTextConvention::t5;
    case 0:
      if (!smop_has(task)) {
        fail("task ", task_key(task), ": template_id 0 asks for the SMoP text-to-text format, but the SMoP code ",
             "has none for ", task_key(task), "; use template_id 1 (T5's format) or -1 (the default)");
      }
      return TextToTextConvention::smop;
    case 1:
      return TextToTextConvention::t5;
    default:
      break;
  }
  fail("task ", task_key(task), ": template_id for the text-to-text format must be -1 (default), 0 (SMoP) or 1 (T5), got ",
       template_id);
}

int text2text_version(SuperGlueTask task) {
  // Every text-to-text format is at its first version.
  (void)task;
  return 1;
}

std::vector<std::string> text2text_labels(SuperGlueTask task, TextToTextConvention convention) {
  (void)convention;  // both conventions use the TFDS / HF super_glue label names
  switch (task) {
    case SuperGlueTask::boolq:
    case SuperGlueTask::multirc:
    case SuperGlueTask::wic:
    case SuperGlueTask::wsc:
      return {"False", "True"};
    case SuperGlueTask::cb:
      return {"entailment", "contradiction", "neutral"};
    case SuperGlueTask::copa:
      return {"choice1", "choice2"};
    case SuperGlueTask::rte:
      return {"entailment", "not_entailment"};
    case SuperGlueTask::record:
      return {};
  }
  return {};
}

namespace text2text {

TextToTextExample format_boolq(const data::BoolqExample& e, TextToTextConvention convention) {
  // Both: SMoP's "boolq passage: **passage** question: **question**" and T5 glue() with the
  // feature names sorted (passage, question).
  (void)convention;
  TextToTextExample out;
  out.source = "boolq passage: " + e.passage + " question: " + e.question;
  const bool label = require_label(e.label, "boolq");
  out.label = label ? 1 : 0;
  out.target = label_name(label);
  return out;
}

TextToTextExample format_cb(const data::CbExample& e, TextToTextConvention convention) {
  TextToTextExample out;
  if (convention == TextToTextConvention::smop) {
    // SMoP: "cb hyopthesis: **hypothesis**. premise: **premise**" — its spelling and the dot
    // after the hypothesis are what its T5 runs were trained on.
    out.source = "cb hyopthesis: " + e.hypothesis + ". premise: " + e.premise;
  } else {
    out.source = "cb hypothesis: " + e.hypothesis + " premise: " + e.premise;
  }
  out.label = static_cast<std::int64_t>(require_label(e.label, "cb"));
  out.target = text2text_labels(SuperGlueTask::cb, convention)[out.label];
  return out;
}

TextToTextExample format_copa(const data::CopaExample& e, TextToTextConvention convention) {
  TextToTextExample out;
  // SMoP builds its strings without the "copa" prefix its own text_format names (the f-string
  // it uses starts at "choice1:"); T5 glue() prefixes the benchmark name.
  const std::string body = "choice1: " + e.choice1 + " choice2: " + e.choice2 + " premise: " + e.premise +
                           " question: " + std::string(data::copa_question_name(e.question));
  out.source = convention == TextToTextConvention::smop ? body : "copa " + body;
  out.label = require_label(e.label, "copa");
  out.target = out.label == 0 ? "choice1" : "choice2";
  return out;
}

std::string remove_multirc_markup(const std::string& text) {
  return replace_all(replace_all(replace_all(text, "<br>", " "), "<b>", ""), "</b>", "");
}

TextToTextExample format_multirc(const data::MultircExample& e, TextToTextConvention convention) {
  TextToTextExample out;
  if (convention == TextToTextConvention::smop) {
    // SMoP: f"question: {q} answer: {a}. paragraph: {p}" (no task prefix, markup kept).
    out.source = "question: " + e.question + " answer: " + e.answer + ". paragraph: " + e.paragraph;
  } else {
    // T5 glue() with feature_names (question, answer, paragraph), then the HTML markup removed.
    out.source =
        remove_multirc_markup("multirc question: " + e.question + " answer: " + e.answer + " paragraph: " + e.paragraph);
  }
  const bool label = require_label(e.label, "multirc");
  out.label = label ? 1 : 0;
  out.target = label_name(label);
  out.group = e.paragraph_idx;
  out.subgroup = e.question_idx;
  return out;
}

TextToTextExample format_rte(const data::RteExample& e, TextToTextConvention convention) {
  TextToTextExample out;
  if (convention == TextToTextConvention::smop) {
    // SMoP: "rte sentence1: **premise** sentence2: **hypothesis**" (GLUE RTE's field names,
    // as in the T5 paper's appendix example).
    out.source = "rte sentence1: " + e.premise + " sentence2: " + e.hypothesis;
  } else {
    // T5 super_glue_rte_v102: glue() with the TFDS features sorted (hypothesis, premise).
    out.source = "rte hypothesis: " + e.hypothesis + " premise: " + e.premise;
  }
  out.label = static_cast<std::int64_t>(require_label(e.label, "rte"));
  out.target = text2text_labels(SuperGlueTask::rte, convention)[out.label];
  return out;
}

TextToTextExample format_wic(const data::WicExample& e, TextToTextConvention convention) {
  // Both: feature order (sentence1, sentence2, word) — T5 glue_utils feature_names and SMoP's
  // text_format; the start/end offsets are not used by either.
  (void)convention;
  TextToTextExample out;
  out.source = "wic sentence1: " + e.sentence1 + " sentence2: " + e.sentence2 + " word: " + e.word;
  const bool label = require_label(e.label, "wic");
  out.label = label ? 1 : 0;
  out.target = label_name(label);
  return out;
}

TextToTextExample format_wsc(const data::WscExample& e, int* marked) {
  std::string span1 = e.span1_text, span2 = e.span2_text;
  std::int64_t span2_index = e.span2_index;
  fix_wsc_span(e.text, span1, e.span1_index, span2_index);
  fix_wsc_span(e.text, span2, span2_index, span2_index);
  std::string text = e.text;
  int count = mark_wsc_span(text, span1, e.span1_index, "*") ? 1 : 0;
  // T5: "Compensate for 2 added 'words' added in previous step" (whether or not it matched).
  if (e.span1_index < span2_index) span2_index += 2;
  count += mark_wsc_span(text, span2, span2_index, "#") ? 1 : 0;
  if (marked) *marked = count;
  TextToTextExample out;
  out.source = "wsc text: " + text;
  const bool label = require_label(e.label, "wsc");
  out.label = label ? 1 : 0;
  out.target = label_name(label);
  return out;
}

std::string record_passage(const std::string& passage) {
  static constexpr std::string_view marker = "\n@highlight\n";
  std::string out;
  std::size_t from = 0;
  for (std::size_t at = passage.find(marker); at != std::string::npos; at = passage.find(marker, from)) {
    out.append(passage, from, at - from);
    const char before = at > 0 ? passage[at - 1] : '\0';
    const bool ends_sentence = before == '.' || before == '?' || before == '!' || before == '"' || before == '\'';
    out += ends_sentence ? " " : ". ";
    from = at + marker.size();
  }
  out.append(passage, from, std::string::npos);
  return out;
}

std::vector<TextToTextExample> format_record(const data::RecordPassage& passage, bool one_per_answer) {
  // T5 record(): "record query: <query> entities: <e1>, <e2>, ... passage: <passage>" with
  // the TFDS entity list (unique texts, sorted = RecordPassage::candidates) and one example per
  // answer (TFDS answers: unique texts, sorted).
  std::string entities;
  for (const std::string& entity : passage.candidates) entities += (entities.empty() ? "" : ", ") + entity;
  const std::string text = record_passage(passage.text);
  auto candidates = std::make_shared<const std::vector<std::string>>(passage.candidates);
  std::vector<TextToTextExample> out;
  for (const data::RecordQuery& query : passage.queries) {
    if (!query.answers) fail("text-to-text record: query ", query.idx, " of passage ", passage.idx, " has no answers");
    std::set<std::string> unique;
    for (const data::RecordSpan& answer : *query.answers) unique.insert(answer.text);
    TextToTextExample example;
    example.source = "record query: " + query.query + " entities: " + entities + " passage: " + text;
    example.group = passage.idx;
    example.subgroup = query.idx;
    example.answers.assign(unique.begin(), unique.end());
    example.candidates = candidates;
    if (example.answers.empty()) fail("text-to-text record: query ", query.idx, " of passage ", passage.idx, " has no answers");
    if (one_per_answer) {
      for (const std::string& answer : example.answers) {
        TextToTextExample copy = example;
        copy.target = answer;
        out.push_back(std::move(copy));
      }
    } else {
      example.target = example.answers.front();
      out.push_back(std::move(example));
    }
  }
  return out;
}

std::string normalise_prediction(std::string_view text, TextToTextConvention convention) {
  return convention == TextToTextConvention::smop ? metrics::normalize_answer(text) : strip_ascii_space(text);
}

}  // namespace text2text

namespace {

// ---------------------------------------------------------------------------------------------
// The task.

class TextToTextTask : public Task {
 public:
  explicit TextToTextTask(SuperGlueTask task) : task_(task) {}

  std::string name() const override { return task_key(task_); }
  int version() const override { return text2text_version(task_); }
  HeadSpec head() const override {
    HeadSpec spec;
    spec.kind = HeadKind::seq2seq;
    spec.num_labels = static_cast<std::int64_t>(labels_.size());
    return spec;
  }
  std::string primary_metric() const override {
    // The encoder tasks' selection keys (tasks/superglue.h).
    if (task_ == SuperGlueTask::multirc) return "f1a";
    if (task_ == SuperGlueTask::record) return "f1";
    return "accuracy";
  }
  void load(const TaskContext& context) override;
  std::int64_t size(Split split) const override { return static_cast<std::int64_t>(split_data(split).examples.size()); }
  std::vector<Batch> batches(Split split, std::int64_t batch_size, std::mt19937_64* rng) const override;
  EvalOutput eval_output() const override {
    return rank_ ? EvalOutput::candidate_scores : EvalOutput::generated_ids;
  }
  GenerationRequest generation() const override;
  torch::Tensor loss(const torch::Tensor& logits, const Batch& batch) const override;
  nlohmann::json evaluate(Split split, const std::vector<Batch>& batches,
                          const std::vector<torch::Tensor>& outputs) const override;
  nlohmann::json data_notes() const override { return notes_; }

 private:
  struct Encoded {
    std::vector<TextToTextExample> examples;  // source texts dropped after encoding
    std::vector<std::vector<std::int64_t>> source_ids;
    std::vector<std::vector<std::int64_t>> target_ids;
  };
  const Encoded& split_data(Split split) const;
  std::vector<TextToTextExample> read(const TaskContext& context, Split split, std::int64_t limit);
  Encoded encode(std::vector<TextToTextExample> examples) const;

  SuperGlueTask task_;
  TaskContext context_;
  TextToTextConvention convention_ = TextToTextConvention::smop;
  bool rank_ = false;
  const tok::Tokenizer* tokenizer_ = nullptr;
  std::int64_t pad_id_ = 0;
  std::int64_t eos_id_ = 1;
  std::vector<std::string> labels_;
  std::vector<std::string> normalised_labels_;
  std::vector<std::vector<std::int64_t>> label_ids_;  // each ending with </s>
  std::int64_t longest_target_ = 0;                   // tokens, with </s>
  Encoded train_, validation_;
  nlohmann::json notes_ = nlohmann::json::object();
};

// HF T5: the decoder starts from the pad token (config.decoder_start_token_id = 0).
constexpr std::int64_t kDecoderStartTokenId = 0;

void note_file(nlohmann::json& notes, const TaskContext& context, SuperGlueTask task, Split split) {
  notes["files"][std::string(data::split_name(split))] =
      data::superglue_split_path(context.data_dir, task, split).string();
}

template <typename Example, typename Format>
std::vector<TextToTextExample> format_all(const std::vector<Example>& examples, std::int64_t limit, Format&& format) {
  std::vector<TextToTextExample> out;
  for (const Example& example : examples) {
    if (limit > 0 && static_cast<std::int64_t>(out.size()) >= limit) break;
    out.push_back(format(example));
  }
  return out;
}

std::vector<TextToTextExample> TextToTextTask::read(const TaskContext& context, Split split, std::int64_t limit) {
  const std::string key = task_key(task_);
  const TextToTextConvention convention = convention_;
  switch (task_) {
    case SuperGlueTask::boolq: {
      // As the encoder task (tasks/superglue.cpp): without train.jsonl the validation split
      // stands in for training, with a warning in stderr and in the record.
      Split source = split;
      if (split == Split::train && !data::superglue_split_exists(context.data_dir, task_, Split::train) &&
          data::superglue_split_exists(context.data_dir, task_, Split::validation)) {
        source = Split::validation;
        notes_["warning"] = kBoolqFallbackWarning;
        notes_["train_fallback"] = "validation";
        notes_["train_file_expected"] = data::superglue_split_path(context.data_dir, task_, Split::train).string();
        std::cerr << "WARNING: " << kBoolqFallbackWarning << " (expected "
                  << notes_["train_file_expected"].get<std::string>() << ", from "
                  << data::superglue_download_url(task_) << ")\n";
      }
      note_file(notes_, context, task_, source);
      if (source != split) notes_["files"]["train"] = notes_["files"]["validation"];
      return format_all(data::load_boolq(context.data_dir, source), limit,
                        [&](const data::BoolqExample& e) { return text2text::format_boolq(e, convention); });
    }
    case SuperGlueTask::cb:
      note_file(notes_, context, task_, split);
      return format_all(data::load_cb(context.data_dir, split), limit,
                        [&](const data::CbExample& e) { return text2text::format_cb(e, convention); });
    case SuperGlueTask::copa:
      note_file(notes_, context, task_, split);
      return format_all(data::load_copa(context.data_dir, split), limit,
                        [&](const data::CopaExample& e) { return text2text::format_copa(e, convention); });
    case SuperGlueTask::multirc:
      note_file(notes_, context, task_, split);
      return format_all(data::load_multirc(context.data_dir, split), limit,
                        [&](const data::MultircExample& e) { return text2text::format_multirc(e, convention); });
    case SuperGlueTask::rte:
      note_file(notes_, context, task_, split);
      return format_all(data::load_rte(context.data_dir, split), limit,
                        [&](const data::RteExample& e) { return text2text::format_rte(e, convention); });
    case SuperGlueTask::wic:
      note_file(notes_, context, task_, split);
      return format_all(data::load_wic(context.data_dir, split), limit,
                        [&](const data::WicExample& e) { return text2text::format_wic(e, convention); });
    case SuperGlueTask::wsc: {
      note_file(notes_, context, task_, split);
      std::int64_t unmarked = 0;
      auto rows = format_all(data::load_wsc(context.data_dir, split), limit, [&](const data::WscExample& e) {
        int marked = 0;
        TextToTextExample row = text2text::format_wsc(e, &marked);
        unmarked += 2 - marked;
        return row;
      });
      notes_["wsc_unmarked_spans"][std::string(data::split_name(split))] = unmarked;
      return rows;
    }
    case SuperGlueTask::record: {
      note_file(notes_, context, task_, split);
      // The limit counts queries, as the encoder task's does.
      std::vector<TextToTextExample> rows;
      std::int64_t queries = 0;
      for (data::RecordPassage& passage : data::load_record(context.data_dir, split)) {
        if (limit > 0 && queries >= limit) break;
        if (limit > 0 && queries + static_cast<std::int64_t>(passage.queries.size()) > limit) {
          passage.queries.resize(static_cast<std::size_t>(limit - queries));
        }
        queries += static_cast<std::int64_t>(passage.queries.size());
        for (TextToTextExample& row : text2text::format_record(passage, split == Split::train)) {
          rows.push_back(std::move(row));
        }
      }
      notes_[std::string(data::split_name(split)) + "_queries"] = queries;
      return rows;
    }
  }
  fail("text-to-text: unknown task ", key);
}

TextToTextTask::Encoded TextToTextTask::encode(std::vector<TextToTextExample> examples) const {
  Encoded encoded;
  for (TextToTextExample& example : examples) {
    // HF tokenizer(source, truncation=True, max_length=L): pieces cut so that </s> still fits.
    tok::Encoding source = tokenizer_->encode(example.source, std::nullopt, static_cast<std::size_t>(context_.max_seq_length),
                                              tok::Truncation::longest_first, tok::Padding::none);
    encoded.source_ids.push_back(std::move(source.input_ids));
    encoded.target_ids.push_back(tokenizer_->encode(example.target).input_ids);
    example.source.clear();
    example.source.shrink_to_fit();
  }
  encoded.examples = std::move(examples);
  return encoded;
}

void TextToTextTask::load(const TaskContext& context) {
  const std::string key = task_key(task_);
  if (!context.tokenizer) fail("task ", key, " needs a tokenizer");
  if (context.backbone_kind != BackboneKind::encoder_decoder) {
    fail("task ", key, ": the text-to-text format needs an encoder-decoder backbone (T5)");
  }
  if (context.text_scoring != "generate" && context.text_scoring != "rank") {
    fail("task ", key, ": unknown text_scoring '", context.text_scoring, "' (known: generate, rank)");
  }
  rank_ = context.text_scoring == "rank";
  if (rank_ && task_ == SuperGlueTask::record) {
    fail("task record: text_scoring \"rank\" needs one candidate list shared by every example, but ReCoRD's ",
         "candidates are each passage's entities; use text_scoring \"generate\"");
  }
  context_ = context;
  tokenizer_ = context.tokenizer;
  pad_id_ = task_util::pad_id(*tokenizer_);
  eos_id_ = tokenizer_->special_tokens().eos;
  if (eos_id_ < 0) fail("task ", key, ": the text-to-text format needs a tokenizer with an end-of-sequence token (</s>)");
  convention_ = resolve_text2text_convention(task_, context.template_id);
  labels_ = text2text_labels(task_, convention_);
  normalised_labels_.clear();
  label_ids_.clear();
  for (const std::string& label : labels_) {
    normalised_labels_.push_back(text2text::normalise_prediction(label, convention_));
    label_ids_.push_back(tokenizer_->encode(label).input_ids);
  }

  notes_ = nlohmann::json::object();
  notes_["format"] = "text_to_text";
  notes_["convention"] = std::string(to_string(convention_));
  notes_["template_id"] = convention_ == TextToTextConvention::smop ? 0 : 1;
  notes_["labels"] = labels_;
  notes_["text_scoring"] = context.text_scoring;
  train_ = encode(read(context, Split::train, context.max_train_examples));
  validation_ = encode(read(context, Split::validation, context.max_eval_examples));

  longest_target_ = 0;
  for (const auto& ids : label_ids_) longest_target_ = std::max<std::int64_t>(longest_target_, ids.size());
  if (task_ == SuperGlueTask::record) {
    // The longest candidate entity of the evaluated passages.
    std::set<const std::vector<std::string>*> seen;
    for (const TextToTextExample& example : validation_.examples) {
      if (!example.candidates || !seen.insert(example.candidates.get()).second) continue;
      for (const std::string& entity : *example.candidates) {
        longest_target_ = std::max<std::int64_t>(longest_target_, tokenizer_->encode_ids(entity).size() + 1);
      }
    }
    for (const auto& ids : validation_.target_ids) longest_target_ = std::max<std::int64_t>(longest_target_, ids.size());
  }
  std::int64_t truncated = 0;
  for (const Encoded* split : {&train_, &validation_}) {
    for (const auto& ids : split->source_ids) truncated += static_cast<std::int64_t>(ids.size()) >= context.max_seq_length;
  }
  notes_["sources_at_max_seq_length"] = truncated;
  notes_["train_examples"] = train_.examples.size();
  notes_["validation_examples"] = validation_.examples.size();
  notes_["max_new_tokens"] = generation().max_new_tokens;
}

const TextToTextTask::Encoded& TextToTextTask::split_data(Split split) const {
  switch (split) {
    case Split::train:
      return train_;
    case Split::validation:
      return validation_;
    case Split::test:
      break;
  }
  fail("task ", task_key(task_), " does not evaluate on the test split (its labels are not public)");
}

std::vector<Batch> TextToTextTask::batches(Split split, std::int64_t batch_size, std::mt19937_64* rng) const {
  const Encoded& data = split_data(split);
  std::vector<Batch> result;
  for (const std::vector<std::int64_t>& group :
       task_util::batch_groups(static_cast<std::int64_t>(data.examples.size()), batch_size, rng)) {
    const std::int64_t rows = static_cast<std::int64_t>(group.size());
    std::int64_t source_length = context_.pad_to_max_length ? context_.max_seq_length : 0;
    std::int64_t target_length = 0;
    for (const std::int64_t id : group) {
      source_length = std::max<std::int64_t>(source_length, data.source_ids[id].size());
      target_length = std::max<std::int64_t>(target_length, data.target_ids[id].size());
    }
    torch::Tensor input_ids = torch::full({rows, source_length}, pad_id_, torch::kInt64);
    torch::Tensor attention_mask = torch::zeros({rows, source_length}, torch::kInt64);
    torch::Tensor labels = torch::full({rows, target_length}, -100, torch::kInt64);
    torch::Tensor decoder_input_ids = torch::full({rows, target_length}, pad_id_, torch::kInt64);
    auto ids_a = input_ids.accessor<std::int64_t, 2>();
    auto mask_a = attention_mask.accessor<std::int64_t, 2>();
    auto labels_a = labels.accessor<std::int64_t, 2>();
    auto decoder_a = decoder_input_ids.accessor<std::int64_t, 2>();
    Batch batch;
    for (std::int64_t b = 0; b < rows; ++b) {
      const std::int64_t id = group[b];
      batch.example_ids.push_back(id);
      const auto& source = data.source_ids[id];
      const auto& target = data.target_ids[id];
      for (std::size_t t = 0; t < source.size(); ++t) {
        ids_a[b][t] = source[t];
        mask_a[b][t] = 1;
      }
      for (std::size_t t = 0; t < target.size(); ++t) labels_a[b][t] = target[t];
      // HF T5 _shift_right: decoder start token, then the labels without their last position,
      // -100 replaced by the pad id.
      if (target_length > 0) decoder_a[b][0] = kDecoderStartTokenId;
      for (std::int64_t t = 1; t < target_length; ++t) {
        const std::int64_t previous = labels_a[b][t - 1];
        decoder_a[b][t] = previous == -100 ? pad_id_ : previous;
      }
      batch.real_tokens += static_cast<std::int64_t>(source.size() + target.size());
    }
    batch.input.input_ids = input_ids;
    batch.input.attention_mask = attention_mask;
    batch.input.decoder_input_ids = decoder_input_ids;
    batch.labels = labels;
    // Both stacks' tokens: the encoder reads the source, the decoder the target.
    batch.padded_tokens = rows * (source_length + target_length);
    result.push_back(std::move(batch));
  }
  return result;
}

GenerationRequest TextToTextTask::generation() const {
  GenerationRequest request;
  // One token past the longest target with its </s> unless the user set a limit (SMoP's
  // evaluate_epoch generates max_new_tokens=10).
  request.max_new_tokens = context_.max_target_length > 0 ? context_.max_target_length : longest_target_ + 1;
  request.num_beams = context_.num_beams;
  if (rank_) request.candidates = label_ids_;
  return request;
}

torch::Tensor TextToTextTask::loss(const torch::Tensor& logits, const Batch& batch) const {
  TORCH_CHECK(logits.dim() == 3 && batch.labels.dim() == 2 && logits.size(0) == batch.labels.size(0) &&
                  logits.size(1) == batch.labels.size(1),
              "task ", task_key(task_), ": lm_logits of shape ", logits.sizes(), " do not match labels of shape ",
              batch.labels.sizes(), " (expected [B, T, V] and [B, T])");
  // Mean token cross-entropy over the real target positions (HF T5ForConditionalGeneration).
  return torch::nn::functional::cross_entropy(
      logits.reshape({-1, logits.size(-1)}), batch.labels.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
}

nlohmann::json TextToTextTask::evaluate(Split split, const std::vector<Batch>& batches,
                                        const std::vector<torch::Tensor>& outputs) const {
  const Encoded& data = split_data(split);
  const std::string key = task_key(task_);
  TORCH_CHECK(batches.size() == outputs.size(), "evaluate: ", batches.size(), " batches but ", outputs.size(),
              " outputs");
  std::vector<std::int64_t> rows, gold, predicted;  // predicted -1 = invalid string
  std::vector<std::string> texts;                   // the normalised prediction (generate) or label (rank)
  std::vector<std::string> raw;                     // ReCoRD: the decoded string
  std::int64_t invalid = 0;
  for (std::size_t b = 0; b < batches.size(); ++b) {
    const torch::Tensor output = outputs[b].detach().to(torch::kCPU);
    TORCH_CHECK(output.dim() == 2 && output.size(0) == batches[b].size(), "task ", key, ": output of batch ", b,
                " has shape ", output.sizes(), ", expected [", batches[b].size(), ", ...]");
    if (rank_) {
      TORCH_CHECK(output.size(1) == static_cast<std::int64_t>(labels_.size()), "task ", key,
                  ": candidate scores of batch ", b, " have ", output.size(1), " columns for ", labels_.size(),
                  " labels");
      const torch::Tensor best = output.to(torch::kFloat64).argmax(-1);
      for (std::int64_t i = 0; i < batches[b].size(); ++i) {
        const std::int64_t row = batches[b].example_ids[i];
        const std::int64_t choice = best[i].item<std::int64_t>();
        rows.push_back(row);
        gold.push_back(data.examples[row].label);
        predicted.push_back(choice);
        texts.push_back(labels_[choice]);
      }
      continue;
    }
    const torch::Tensor ids = output.to(torch::kInt64);
    auto ids_a = ids.accessor<std::int64_t, 2>();
    for (std::int64_t i = 0; i < batches[b].size(); ++i) {
      const std::int64_t row = batches[b].example_ids[i];
      // The generation up to its first </s> (position 0 is the decoder start token).
      std::vector<std::int64_t> generated;
      for (std::int64_t t = 1; t < ids.size(1) && ids_a[i][t] != eos_id_; ++t) generated.push_back(ids_a[i][t]);
      const std::string decoded = tokenizer_->decode(generated, /*skip_special_tokens=*/true);
      const TextToTextExample& example = data.examples[row];
      rows.push_back(row);
      gold.push_back(example.label);
      if (task_ == SuperGlueTask::record) {
        // Valid: one of the passage's entities, after SQuAD normalisation (what the metric compares).
        const std::string normalised = metrics::normalize_answer(decoded);
        bool valid = false;
        if (example.candidates) {
          for (const std::string& entity : *example.candidates) valid = valid || metrics::normalize_answer(entity) == normalised;
        }
        if (!valid) ++invalid;
        raw.push_back(strip_ascii_space(decoded));
        texts.push_back(normalised);
        predicted.push_back(-1);
        continue;
      }
      const std::string normalised = text2text::normalise_prediction(decoded, convention_);
      const auto found = std::find(normalised_labels_.begin(), normalised_labels_.end(), normalised);
      const std::int64_t choice = found == normalised_labels_.end() ? -1 : found - normalised_labels_.begin();
      if (choice < 0) ++invalid;
      predicted.push_back(choice);
      texts.push_back(normalised);
    }
  }

  nlohmann::json metrics = nlohmann::json::object();
  const std::size_t count = rows.size();
  if (task_ == SuperGlueTask::record) {
    std::vector<std::vector<std::string>> answers;
    for (const std::int64_t row : rows) answers.push_back(data.examples[row].answers);
    const metrics::RecordScores s = metrics::record_scores(raw, answers);
    metrics["f1"] = s.f1;
    metrics["exact_match"] = s.exact_match;
    metrics["queries"] = s.total;
  } else if (task_ == SuperGlueTask::multirc) {
    // F1a is the F1 of class True: an invalid string is "not True" (a miss when the gold is
    // True, nothing otherwise), so it enters as False. EM, accuracy and F1m count it as wrong.
    std::vector<metrics::MultiRcOption> as_false, as_wrong;
    for (std::size_t i = 0; i < count; ++i) {
      const TextToTextExample& e = data.examples[rows[i]];
      const int g = static_cast<int>(gold[i]);
      const int p = static_cast<int>(predicted[i]);
      as_false.push_back({e.group, e.subgroup, g, p < 0 ? 0 : p});
      as_wrong.push_back({e.group, e.subgroup, g, p < 0 ? 1 - g : p});
    }
    const metrics::MultiRcScores f1a = metrics::multirc_scores(as_false);
    const metrics::MultiRcScores s = metrics::multirc_scores(as_wrong);
    metrics["f1a"] = f1a.f1a;
    metrics["exact_match"] = s.exact_match;
    // SMoP's "f1a" (sklearn macro F1 over the option strings; an invalid string is a class).
    metrics["macro_f1"] = metrics::macro_f1(gold, predicted);
    metrics["f1m"] = s.f1m;
    metrics["accuracy"] = s.accuracy;
    metrics["answer_options"] = s.options;
    metrics["questions"] = s.questions;
  } else {
    metrics["accuracy"] = metrics::accuracy(gold, predicted);
    if (task_ == SuperGlueTask::cb) metrics["macro_f1"] = metrics::macro_f1(gold, predicted);
  }
  if (task_ != SuperGlueTask::record) {
    metrics["distinct_predictions"] = std::set<std::string>(texts.begin(), texts.end()).size();
  }
  metrics["invalid_predictions"] = invalid;
  metrics["invalid_predictions_share"] = count ? static_cast<double>(invalid) / static_cast<double>(count) : 0.0;
  return metrics;
}

// ---------------------------------------------------------------------------------------------
// Choosing the format by backbone kind.

class BackboneDispatchingTask : public Task {
 public:
  BackboneDispatchingTask(std::unique_ptr<Task> encoder, std::unique_ptr<Task> encoder_decoder)
      : encoder_(std::move(encoder)), encoder_decoder_(std::move(encoder_decoder)), chosen_(encoder_.get()) {}

  std::string name() const override { return chosen_->name(); }
  int version() const override { return chosen_->version(); }
  HeadSpec head() const override { return chosen_->head(); }
  std::string primary_metric() const override { return chosen_->primary_metric(); }
  void load(const TaskContext& context) override {
    chosen_ = context.backbone_kind == BackboneKind::encoder_decoder ? encoder_decoder_.get() : encoder_.get();
    chosen_->load(context);
  }
  std::int64_t size(Split split) const override { return chosen_->size(split); }
  std::vector<Batch> batches(Split split, std::int64_t batch_size, std::mt19937_64* rng) const override {
    return chosen_->batches(split, batch_size, rng);
  }
  EvalOutput eval_output() const override { return chosen_->eval_output(); }
  GenerationRequest generation() const override { return chosen_->generation(); }
  torch::Tensor loss(const torch::Tensor& logits, const Batch& batch) const override {
    return chosen_->loss(logits, batch);
  }
  nlohmann::json evaluate(Split split, const std::vector<Batch>& batches,
                          const std::vector<torch::Tensor>& outputs) const override {
    return chosen_->evaluate(split, batches, outputs);
  }
  nlohmann::json data_notes() const override { return chosen_->data_notes(); }
  Split selection_split() const override { return chosen_->selection_split(); }
  const Task& chosen() const { return *chosen_; }

 private:
  std::unique_ptr<Task> encoder_;
  std::unique_ptr<Task> encoder_decoder_;
  Task* chosen_;
};

}  // namespace

std::unique_ptr<Task> make_text2text_task(SuperGlueTask task) { return std::make_unique<TextToTextTask>(task); }

std::unique_ptr<Task> make_backbone_dispatching_task(std::unique_ptr<Task> encoder,
                                                     std::unique_ptr<Task> encoder_decoder) {
  TORCH_CHECK(encoder && encoder_decoder, "make_backbone_dispatching_task needs both implementations");
  return std::make_unique<BackboneDispatchingTask>(std::move(encoder), std::move(encoder_decoder));
}

const Task& loaded_implementation(const Task& task) {
  const auto* dispatching = dynamic_cast<const BackboneDispatchingTask*>(&task);
  return dispatching ? dispatching->chosen() : task;
}

}  // namespace ptbench
