// Every registered task loads its data (shipped under ../shared/data or the hand-written
// fixtures) with the real BERT uncased WordPiece vocabulary, yields batches shaped for its
// head, computes a loss, and evaluates random head outputs into its primary metric. Plus the
// task-specific promises: BoolQ's fallback note, long sentences windowed without losing a
// label, the P-Tuning v2 input texts, candidate ranking for ReCoRD.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "backbones/tokenizers/tokenizer.h"
#include "common/error.h"
#include "tasks/pair_classification.h"
#include "tasks/qa.h"
#include "tasks/srl.h"
#include "tasks/superglue.h"
#include "tasks/tagging.h"
#include "tasks/task.h"
#include "tasks/text2text.h"
#include "tests/test_support.h"

namespace ptbench {
namespace {

namespace fs = std::filesystem;

fs::path shared_data() { return testing::shared_dir() / "data"; }
fs::path fixture_data() { return testing::fixtures_dir() / "data"; }

const tok::Tokenizer& bert_uncased() {
  static const std::unique_ptr<tok::Tokenizer> tokenizer =
      tok::make_wordpiece(testing::shared_dir() / "vocab/bert-base-uncased/vocab.txt", true);
  return *tokenizer;
}

// Where each task finds data here, and the head it must name.
struct TaskExpectation {
  fs::path root;
  HeadKind head;
};
const std::map<std::string, TaskExpectation>& expectations() {
  static const std::map<std::string, TaskExpectation> table = {
      {"boolq", {shared_data(), HeadKind::sequence_classification}},
      {"cb", {shared_data(), HeadKind::sequence_classification}},
      {"copa", {shared_data(), HeadKind::multiple_choice}},
      {"multirc", {shared_data(), HeadKind::sequence_classification}},
      {"record", {fixture_data(), HeadKind::sequence_classification}},
      {"rte", {shared_data(), HeadKind::sequence_classification}},
      {"wic", {shared_data(), HeadKind::sequence_classification}},
      {"wsc", {shared_data(), HeadKind::sequence_classification}},
      {"conll03", {shared_data(), HeadKind::token_classification}},
      {"conll04", {shared_data(), HeadKind::token_classification}},
      {"ontonotes", {fixture_data(), HeadKind::token_classification}},
      {"squad", {fixture_data(), HeadKind::span_extraction}},
      {"squad_v2", {shared_data(), HeadKind::span_extraction}},
      {"conll05", {fixture_data(), HeadKind::token_classification}},
      {"conll12", {fixture_data(), HeadKind::token_classification}},
  };
  return table;
}

TaskContext context_for(const fs::path& root, std::int64_t max_length = 128, std::int64_t limit = 12) {
  TaskContext context;
  context.data_dir = root;
  context.tokenizer = &bert_uncased();
  context.max_seq_length = max_length;
  context.max_train_examples = limit;
  context.max_eval_examples = limit;
  return context;
}

// Head outputs of the shape the head would produce for a batch.
torch::Tensor random_logits(const HeadSpec& head, const Batch& batch, torch::Generator& generator) {
  const std::int64_t rows = batch.size();
  const std::int64_t length = batch.input.input_ids.size(1);
  switch (head.kind) {
    case HeadKind::sequence_classification:
      return torch::randn({rows, head.num_labels}, generator);
    case HeadKind::multiple_choice:
      return torch::randn({rows, head.num_choices}, generator);
    case HeadKind::token_classification:
      return torch::randn({rows, length, head.num_labels}, generator);
    case HeadKind::span_extraction:
      return torch::randn({rows, length, 2}, generator);
    case HeadKind::seq2seq:
      break;
  }
  ADD_FAILURE() << "no logits for head " << to_string(head.kind);
  return {};
}

void expect_batch_shapes(const HeadSpec& head, const Batch& batch, std::int64_t max_length, const std::string& task) {
  SCOPED_TRACE(task);
  const torch::Tensor& ids = batch.input.input_ids;
  ASSERT_EQ(ids.dim(), 2);
  EXPECT_EQ(batch.input.attention_mask.sizes(), ids.sizes());
  EXPECT_EQ(batch.input.token_type_ids.sizes(), ids.sizes());
  EXPECT_LE(ids.size(1), max_length);
  EXPECT_EQ(batch.padded_tokens, ids.numel());
  EXPECT_EQ(batch.real_tokens, batch.input.attention_mask.sum().item<std::int64_t>());
  const std::int64_t rows = batch.size();
  switch (head.kind) {
    case HeadKind::sequence_classification:
      EXPECT_EQ(ids.size(0), rows);
      EXPECT_EQ(batch.labels.sizes(), torch::IntArrayRef({rows}));
      break;
    case HeadKind::multiple_choice:
      EXPECT_EQ(ids.size(0), rows * head.num_choices);
      EXPECT_EQ(batch.labels.sizes(), torch::IntArrayRef({rows}));
      break;
    case HeadKind::token_classification:
      EXPECT_EQ(ids.size(0), rows);
      EXPECT_EQ(batch.labels.sizes(), ids.sizes());
      EXPECT_TRUE((batch.labels.eq(-100) | batch.input.attention_mask.eq(1)).all().item<bool>())
          << "a padding position carries a label";
      EXPECT_TRUE((batch.labels.lt(head.num_labels)).all().item<bool>());
      break;
    case HeadKind::span_extraction:
      EXPECT_EQ(ids.size(0), rows);
      EXPECT_EQ(batch.labels.sizes(), torch::IntArrayRef({rows, 2}));
      EXPECT_TRUE((batch.labels.ge(0) & batch.labels.lt(ids.size(1))).all().item<bool>());
      break;
    case HeadKind::seq2seq:
      ADD_FAILURE() << "unexpected seq2seq head";
      break;
  }
}

std::vector<std::string> registered_names() {
  std::vector<std::string> names;
  for (const TaskEntry& entry : task_registry()) names.push_back(entry.name);
  return names;
}

TEST(TaskRegistry, EveryRegisteredTaskIsCoveredHere) {
  for (const std::string& name : registered_names()) EXPECT_TRUE(expectations().count(name)) << name;
  EXPECT_EQ(registered_names().size(), expectations().size());
}

TEST(TaskRegistry, UnknownTaskListsTheKnownOnes) {
  try {
    make_task("squad3");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("squad_v2"), std::string::npos) << e.what();
  }
}

class EveryTask : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryTask, LoadsBatchesAndEvaluates) {
  const std::string name = GetParam();
  const TaskExpectation& expected = expectations().at(name);
  std::unique_ptr<Task> task = make_task(name);
  EXPECT_EQ(task->name(), name);
  EXPECT_GE(task->version(), 1);
  task->load(context_for(expected.root));
  const HeadSpec head = task->head();
  EXPECT_EQ(head.kind, expected.head);
  if (head.kind == HeadKind::multiple_choice) EXPECT_GT(head.num_choices, 1);
  if (head.kind == HeadKind::sequence_classification || head.kind == HeadKind::token_classification) {
    EXPECT_GE(head.num_labels, 2);
  }
  ASSERT_GT(task->size(Split::train), 0);
  ASSERT_GT(task->size(Split::validation), 0);
  EXPECT_TRUE(task->data_notes().contains("files")) << task->data_notes().dump();

  // Training batches: shuffled, every unit exactly once, shaped for the head, a finite loss.
  std::mt19937_64 rng(7);
  torch::Generator generator = at::detail::createCPUGenerator(11);
  const std::vector<Batch> train = task->batches(Split::train, 4, &rng);
  std::vector<std::int64_t> seen;
  for (const Batch& batch : train) {
    expect_batch_shapes(head, batch, 128, name);
    seen.insert(seen.end(), batch.example_ids.begin(), batch.example_ids.end());
    const torch::Tensor loss = task->loss(random_logits(head, batch, generator), batch);
    EXPECT_EQ(loss.dim(), 0);
    EXPECT_TRUE(std::isfinite(loss.item<double>())) << name;
  }
  std::sort(seen.begin(), seen.end());
  ASSERT_EQ(static_cast<std::int64_t>(seen.size()), task->size(Split::train));
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], static_cast<std::int64_t>(i));

  // Evaluation: file order, random logits, the primary metric comes back as a number.
  const std::vector<Batch> validation = task->batches(Split::validation, 5, nullptr);
  std::vector<torch::Tensor> logits;
  for (const Batch& batch : validation) {
    expect_batch_shapes(head, batch, 128, name);
    logits.push_back(random_logits(head, batch, generator));
  }
  const nlohmann::json metrics = task->evaluate(Split::validation, validation, logits);
  ASSERT_TRUE(metrics.contains(task->primary_metric())) << name << ": " << metrics.dump();
  EXPECT_TRUE(metrics[task->primary_metric()].is_number()) << metrics.dump();

  // Padding every batch to max_seq_length, as the P-Tuning v2 scripts do.
  std::unique_ptr<Task> padded = make_task(name);
  TaskContext context = context_for(expected.root, 64, 3);
  context.pad_to_max_length = true;
  padded->load(context);
  for (const Batch& batch : padded->batches(Split::validation, 2, nullptr)) {
    EXPECT_EQ(batch.input.input_ids.size(1), 64) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Tasks, EveryTask, ::testing::ValuesIn(registered_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(TaskSuperGlue, BoolqFallsBackToValidationAndSaysSo) {
  std::unique_ptr<Task> task = make_task("boolq");
  task->load(context_for(shared_data(), 128, 4));
  const nlohmann::json notes = task->data_notes();
  ASSERT_TRUE(notes.contains("warning")) << notes.dump();
  EXPECT_EQ(notes["warning"], kBoolqFallbackWarning);
  EXPECT_EQ(notes["files"]["train"], notes["files"]["validation"]);
  EXPECT_NE(notes["files"]["train"].get<std::string>().find("BoolQ/val.jsonl"), std::string::npos);

  // With a train file there is no fallback and no warning.
  const fs::path root = testing::temp_dir("boolq");
  fs::create_directories(root / "superglue/BoolQ");
  fs::copy_file(fixture_data() / "superglue/BoolQ/train.jsonl", root / "superglue/BoolQ/train.jsonl");
  fs::copy_file(fixture_data() / "superglue/BoolQ/train.jsonl", root / "superglue/BoolQ/val.jsonl");
  std::unique_ptr<Task> with_train = make_task("boolq");
  with_train->load(context_for(root, 128, 4));
  EXPECT_FALSE(with_train->data_notes().contains("warning"));
  EXPECT_EQ(with_train->size(Split::train), 4);
}

TEST(TaskSuperGlue, PrimaryMetricsFollowTheReferenceCode) {
  EXPECT_EQ(make_task("cb")->primary_metric(), "accuracy");
  EXPECT_EQ(make_task("multirc")->primary_metric(), "f1a");
  EXPECT_EQ(make_task("record")->primary_metric(), "f1");
  EXPECT_EQ(make_task("copa")->head().kind, HeadKind::multiple_choice);
  EXPECT_EQ(make_task("copa")->head().num_choices, 2);
}

TEST(TaskSuperGlue, ReferenceInputTexts) {
  EXPECT_EQ(superglue_text::copa_context("The man broke his toe.", true), "The man broke his toe. because");
  EXPECT_EQ(superglue_text::copa_context("I tipped the bottle.", false), "I tipped the bottle. so");
  EXPECT_EQ(superglue_text::multirc_question_answer("Who came?", "Sam"), "Who came? Sam");
  EXPECT_EQ(superglue_text::record_passage("Text.\n@highlight\nOne\n@highlight\nTwo"), "Text.\n- One\n- Two");
  EXPECT_EQ(superglue_text::record_query("@placeholder met @placeholder", "Ann"), "Ann met Ann");
  EXPECT_EQ(superglue_text::wsc_mark_word("Mark  told Pete   he was late", 3), "Mark told Pete *he* was late");
  EXPECT_THROW(superglue_text::wsc_mark_word("one two", 2), Error);

  // WiC: template 1 (the BERT script's) for WordPiece, unless asked otherwise.
  std::unique_ptr<Task> wic = make_task("wic");
  wic->load(context_for(shared_data(), 128, 2));
  EXPECT_EQ(wic->data_notes()["template_id"], 1);
  const std::vector<Batch> two = wic->batches(Split::validation, 2, nullptr);
  EXPECT_GT(two[0].input.token_type_ids.sum().item<std::int64_t>(), 0) << "template 1 is a pair";
  std::unique_ptr<Task> wic0 = make_task("wic");
  TaskContext context = context_for(shared_data(), 128, 2);
  context.template_id = 0;
  wic0->load(context);
  EXPECT_EQ(wic0->data_notes()["template_id"], 0);
  EXPECT_EQ(wic0->batches(Split::validation, 2, nullptr)[0].input.token_type_ids.sum().item<std::int64_t>(), 0)
      << "template 0 is one sequence";
  std::unique_ptr<Task> wsc = make_task("wsc");
  wsc->load(context_for(shared_data(), 128, 2));
  EXPECT_EQ(wsc->data_notes()["template_id"], 0);
  context.template_id = 1;
  std::unique_ptr<Task> wsc1 = make_task("wsc");
  wsc1->load(context);
  EXPECT_EQ(wsc1->data_notes()["template_id"], 1);
}

// Logits that put `high` on the gold label of each row (sequence classification).
torch::Tensor logits_from_labels(const Batch& batch, std::int64_t classes) {
  torch::Tensor logits = torch::zeros({batch.size(), classes});
  for (std::int64_t i = 0; i < batch.size(); ++i) {
    const std::int64_t label = batch.labels[i].item<std::int64_t>();
    if (label >= 0) logits[i][label] = 5.0;
  }
  return logits;
}

TEST(TaskSuperGlue, PerfectPredictionsScorePerfectly) {
  for (const std::string name : {"multirc", "record", "cb", "copa"}) {
    SCOPED_TRACE(name);
    std::unique_ptr<Task> task = make_task(name);
    task->load(context_for(expectations().at(name).root, 128, 40));
    const HeadSpec head = task->head();
    const std::int64_t classes = head.kind == HeadKind::multiple_choice ? head.num_choices : head.num_labels;
    const std::vector<Batch> batches = task->batches(Split::validation, 8, nullptr);
    std::vector<torch::Tensor> logits;
    for (const Batch& batch : batches) logits.push_back(logits_from_labels(batch, classes));
    const nlohmann::json metrics = task->evaluate(Split::validation, batches, logits);
    EXPECT_DOUBLE_EQ(metrics[task->primary_metric()].get<double>(), 1.0) << metrics.dump();
    if (name == "multirc" || name == "record") EXPECT_DOUBLE_EQ(metrics["exact_match"].get<double>(), 1.0);
  }
}

TEST(TaskSuperGlue, RecordRanksCandidatesPerQuery) {
  std::unique_ptr<Task> task = make_task("record");
  task->load(context_for(fixture_data(), 128, 0));
  const nlohmann::json notes = task->data_notes();
  EXPECT_EQ(notes["validation_queries"], 2);
  EXPECT_EQ(notes["validation_examples"], 12);  // 6 distinct entity texts per query
  const std::vector<Batch> batches = task->batches(Split::validation, 64, nullptr);
  // Every candidate scores the same: the tie goes to the largest entity string, as Python's
  // sorted((score, entity), reverse=True) does — "Socialist Party", a gold answer of the second
  // query only.
  std::vector<torch::Tensor> logits;
  for (const Batch& batch : batches) logits.push_back(torch::zeros({batch.size(), 2}));
  nlohmann::json metrics = task->evaluate(Split::validation, batches, logits);
  EXPECT_EQ(metrics["queries"], 2);
  EXPECT_DOUBLE_EQ(metrics["exact_match"].get<double>(), 0.5);
  // One higher class-1 logit on "António Costa" of the first query fixes it.
  auto* pair = dynamic_cast<const PairClassificationTask*>(&loaded_implementation(*task));
  ASSERT_NE(pair, nullptr);
  ASSERT_EQ(batches.size(), 1u);
  logits[0][0][1] = 1.0;  // rows follow the sorted candidates: "António Costa" comes first
  metrics = task->evaluate(Split::validation, batches, logits);
  EXPECT_DOUBLE_EQ(metrics["exact_match"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(metrics["f1"].get<double>(), 1.0);
}

// A CoNLL-2003 data root whose validation sentence is far longer than a window.
fs::path long_sentence_root(std::vector<std::string>& words, std::vector<std::string>& tags) {
  const fs::path root = testing::temp_dir("long-sentence");
  fs::create_directories(root / "conll2003");
  const std::vector<std::string> types = {"PER", "LOC", "ORG", "MISC"};
  const std::string long_word = "Antidisestablishmentarianism";  // many sub-tokens
  const std::string giant_word(90, 'q');                         // more sub-tokens than a window holds
  for (int i = 0; i < 120; ++i) {
    const int kind = i % 7;
    if (kind == 0) {
      words.push_back(long_word);
      tags.push_back("B-" + types[static_cast<std::size_t>(i / 7) % 4]);
    } else if (kind == 1) {
      words.push_back("Smith");
      tags.push_back("I-" + types[static_cast<std::size_t>(i / 7) % 4]);
    } else if (i == 59) {
      words.push_back(giant_word);
      tags.push_back("B-MISC");
    } else {
      words.push_back("word" + std::to_string(i));
      tags.push_back("O");
    }
  }
  std::ofstream train(root / "conll2003/train.txt");
  train << "-DOCSTART- -X- -X- O\n\nPeter NNP B-NP B-PER\nlives VBZ B-VP O\nin IN B-PP O\nRome NNP B-NP B-LOC\n\n"
        << "ACME NNP B-NP B-ORG\nsells VBZ B-VP O\nItalian JJ B-NP B-MISC\ncars NNS I-NP O\n\n";
  std::ofstream valid(root / "conll2003/valid.txt");
  valid << "-DOCSTART- -X- -X- O\n\n";
  for (std::size_t i = 0; i < words.size(); ++i) valid << words[i] << " NN I-NP " << tags[i] << "\n";
  valid << "\nShort NN B-NP O\nsentence NN I-NP O\n\n";
  return root;
}

TEST(TaskTagging, LongSentenceWindowsKeepEveryLabel) {
  std::vector<std::string> words, tags;
  const fs::path root = long_sentence_root(words, tags);
  std::unique_ptr<Task> task = make_task("conll03");
  task->load(context_for(root, 16, 0));
  auto* tagging = dynamic_cast<TokenTaggingTask*>(task.get());
  ASSERT_NE(tagging, nullptr);
  ASSERT_EQ(tagging->examples(Split::validation).size(), 2u);
  EXPECT_GT(task->size(Split::validation), 10) << "the long sentence spans many windows";
  EXPECT_EQ(task->data_notes()["examples_split_into_windows"]["validation"], 1);

  // In window order (file order), the labelled positions spell the gold tags of both sentences.
  const std::vector<std::string>& labels = tagging->labels();
  std::vector<std::string> labelled;
  const std::vector<Batch> batches = task->batches(Split::validation, 3, nullptr);
  std::vector<torch::Tensor> logits;
  for (const Batch& batch : batches) {
    EXPECT_LE(batch.input.input_ids.size(1), 16);
    auto labels_a = batch.labels.accessor<std::int64_t, 2>();
    for (std::int64_t i = 0; i < batch.size(); ++i)
      for (std::int64_t t = 0; t < batch.labels.size(1); ++t)
        if (labels_a[i][t] >= 0) labelled.push_back(labels[static_cast<std::size_t>(labels_a[i][t])]);
    // Gold-shaped logits: the gold label wins at every labelled position.
    torch::Tensor l = torch::zeros({batch.size(), batch.labels.size(1), static_cast<std::int64_t>(labels.size())});
    for (std::int64_t i = 0; i < batch.size(); ++i)
      for (std::int64_t t = 0; t < batch.labels.size(1); ++t)
        if (labels_a[i][t] >= 0) l[i][t][labels_a[i][t]] = 3.0;
    logits.push_back(l);
  }
  std::vector<std::string> expected = tags;
  expected.insert(expected.end(), {"O", "O"});
  EXPECT_EQ(labelled, expected);

  const metrics::TagSequences predicted = tagging->predictions(Split::validation, batches, logits);
  ASSERT_EQ(predicted.size(), 2u);
  EXPECT_EQ(predicted[0], tags);
  const nlohmann::json metrics = task->evaluate(Split::validation, batches, logits);
  EXPECT_DOUBLE_EQ(metrics["f1"].get<double>(), 1.0) << metrics.dump();
  EXPECT_DOUBLE_EQ(metrics["strict"]["f1"].get<double>(), 1.0);
}

TEST(TaskTagging, NerMetricsCarryEveryVariant) {
  const metrics::TagSequences gold = {{"B-PER", "I-PER", "O", "B-LOC"}};
  const metrics::TagSequences predicted = {{"I-PER", "I-PER", "O", "B-LOC"}};
  const nlohmann::json m = ner_metrics(gold, predicted);
  // Default (conlleval-like) mode accepts the I-PER start; strict IOB2 does not.
  EXPECT_DOUBLE_EQ(m["f1"].get<double>(), 1.0);
  EXPECT_NEAR(m["strict"]["f1"].get<double>(), 2.0 / 3.0, 1e-12);  // the PER entity is lost
  EXPECT_TRUE(m.contains("macro"));
  EXPECT_TRUE(m["per_type"].contains("PER"));
  EXPECT_TRUE(m["strict_per_type"].contains("LOC"));
}

TEST(TaskSrl, PredicateIsAppendedAsPtuningV2Does) {
  std::unique_ptr<Task> task = make_task("conll05");
  task->load(context_for(fixture_data(), 128, 0));
  auto* tagging = dynamic_cast<TokenTaggingTask*>(task.get());
  ASSERT_NE(tagging, nullptr);
  const TaggedExample& first = tagging->examples(Split::train).front();
  EXPECT_EQ(first.suffix, (std::vector<std::string>{"[SEP]", "approved"}));
  const Batch batch = task->batches(Split::train, 1, nullptr).front();
  const tok::Tokenizer& tokenizer = bert_uncased();
  std::vector<std::int64_t> ids(batch.input.input_ids.data_ptr<std::int64_t>(),
                                batch.input.input_ids.data_ptr<std::int64_t>() + batch.input.input_ids.numel());
  // [CLS] the committee approved the plan on monday . [SEP] approved [SEP], one segment.
  EXPECT_EQ(tokenizer.decode(ids, false), "[CLS] the committee approved the plan on monday. [SEP] approved [SEP]");
  EXPECT_EQ(batch.input.token_type_ids.sum().item<std::int64_t>(), 0);
  const std::int64_t n = batch.labels.size(1);
  for (std::int64_t t = n - 3; t < n; ++t) EXPECT_EQ(batch.labels[0][t].item<std::int64_t>(), -100);
  EXPECT_EQ(batch.labels.ge(0).sum().item<std::int64_t>(), 8);  // one label per sentence word
}

TEST(TaskSrl, ReportsSeqevalAndSrlEval) {
  // seqeval counts the verb (3 gold spans, 2 found); srl-eval leaves it out (2 gold, 1 found).
  const nlohmann::json m = srl_metrics({{"B-A0", "I-A0", "B-V", "B-A1"}}, {{"B-A0", "I-A0", "B-V", "O"}});
  EXPECT_DOUBLE_EQ(m["precision"].get<double>(), 1.0);
  EXPECT_NEAR(m["f1"].get<double>(), 0.8, 1e-12);
  EXPECT_NEAR(m["srl_eval_f1"].get<double>(), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(m["srl_eval"]["recall"].get<double>(), 0.5, 1e-12);
  EXPECT_EQ(m["srl_eval"]["propositions"], 1);
}

}  // namespace
}  // namespace ptbench
