// Predictions round-trip to text: gold answers and gold tags, turned into the logits a perfect
// model would produce (high score at the gold start/end token, at the gold tag), come back as
// exactly the gold answers and entities through the tasks' own decoding — windows, offsets,
// n-best search, the null answer, the merging of tagging windows — and score 100 / 1.0.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "backbones/tokenizers/tokenizer.h"
#include "tasks/metrics/squad.h"
#include "tasks/qa.h"
#include "tasks/tagging.h"
#include "tasks/task.h"
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

const tok::Tokenizer& roberta_bpe() {
  static const std::unique_ptr<tok::Tokenizer> tokenizer = tok::make_byte_bpe(
      testing::shared_dir() / "vocab/gpt2/vocab.json", testing::shared_dir() / "vocab/gpt2/merges.txt", true, false);
  return *tokenizer;
}

TaskContext context_for(const fs::path& root, std::int64_t max_length, std::int64_t eval_limit,
                        const tok::Tokenizer* tokenizer = nullptr) {
  TaskContext context;
  context.data_dir = root;
  context.tokenizer = tokenizer ? tokenizer : &bert_uncased();
  context.max_seq_length = max_length;
  context.max_train_examples = 2;
  context.max_eval_examples = eval_limit;
  return context;
}

// Span logits of a perfect model: 8 at the labelled start and end tokens, 0 elsewhere (for an
// unanswerable window both labels are [CLS], so the null answer wins there).
std::vector<torch::Tensor> span_logits_from_labels(const std::vector<Batch>& batches) {
  std::vector<torch::Tensor> logits;
  for (const Batch& batch : batches) {
    torch::Tensor l = torch::zeros({batch.size(), batch.input.input_ids.size(1), 2});
    for (std::int64_t i = 0; i < batch.size(); ++i) {
      l[i][batch.labels[i][0].item<std::int64_t>()][0] = 8.0;
      l[i][batch.labels[i][1].item<std::int64_t>()][1] = 8.0;
    }
    logits.push_back(l);
  }
  return logits;
}

// Tag logits of a perfect model: 4 on the gold label at every labelled position.
std::vector<torch::Tensor> tag_logits_from_labels(const std::vector<Batch>& batches, std::int64_t num_labels) {
  std::vector<torch::Tensor> logits;
  for (const Batch& batch : batches) {
    torch::Tensor l = torch::zeros({batch.size(), batch.labels.size(1), num_labels});
    auto labels_a = batch.labels.accessor<std::int64_t, 2>();
    for (std::int64_t i = 0; i < batch.size(); ++i)
      for (std::int64_t t = 0; t < batch.labels.size(1); ++t)
        if (labels_a[i][t] >= 0) l[i][t][labels_a[i][t]] = 4.0;
    logits.push_back(l);
  }
  return logits;
}

void expect_squad_v2_roundtrip(std::int64_t max_length, std::int64_t doc_stride, std::int64_t limit) {
  SCOPED_TRACE(::testing::Message() << "max_seq_length " << max_length);
  std::unique_ptr<Task> task = make_task("squad_v2");
  TaskContext context = context_for(shared_data(), max_length, limit);
  context.doc_stride = doc_stride;
  task->load(context);
  auto* squad = dynamic_cast<SquadTask*>(task.get());
  ASSERT_NE(squad, nullptr);
  const std::vector<Batch> batches = task->batches(Split::validation, 16, nullptr);
  const std::vector<torch::Tensor> logits = span_logits_from_labels(batches);

  const std::vector<QaAnswer> answers = squad->answers(Split::validation, batches, logits);
  const auto& examples = squad->examples(Split::validation);
  ASSERT_EQ(answers.size(), examples.size());
  std::int64_t answerable = 0;
  for (std::size_t i = 0; i < examples.size(); ++i) {
    if (examples[i].answers.empty()) {
      EXPECT_EQ(answers[i].text, "") << examples[i].id;
      EXPECT_GT(answers[i].null_score_diff, 0.0) << examples[i].id;
    } else {
      ++answerable;
      // Recovered from token offsets: the exact characters of the first gold answer.
      EXPECT_EQ(answers[i].text, examples[i].answers.front().text) << examples[i].id << ": " << examples[i].question;
      EXPECT_LT(answers[i].null_score_diff, 0.0) << examples[i].id;
    }
  }
  EXPECT_GT(answerable, 0);

  const nlohmann::json metrics = task->evaluate(Split::validation, batches, logits);
  EXPECT_DOUBLE_EQ(metrics["exact"].get<double>(), 100.0) << metrics.dump();
  EXPECT_DOUBLE_EQ(metrics["f1"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(metrics["HasAns_exact"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(metrics["HasAns_f1"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(metrics["NoAns_exact"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(metrics["best_f1"].get<double>(), 100.0);
  EXPECT_EQ(metrics["total"], examples.size());
}

TEST(QaRoundtrip, SquadV2GoldSpansAndNullAnswersComeBack) {
  // 384 / 128: the reference setting; 128 / 32: several windows per context.
  expect_squad_v2_roundtrip(384, 128, 0);
  expect_squad_v2_roundtrip(128, 32, 200);
}

TEST(QaRoundtrip, SquadV2WithByteLevelBpe) {
  // RoBERTa's byte-level BPE: offsets leave out the space a token folds in. Its tokens are
  // coarser than WordPiece's (")," is one token, so "... (760 mi)" comes back as "... (760 mi),"),
  // and a coordinate string can need more than max_answer_length tokens, so only nearly all
  // answers come back whole — as with the reference tokenizer.
  std::unique_ptr<Task> task = make_task("squad_v2");
  task->load(context_for(shared_data(), 384, 0, &roberta_bpe()));
  const std::vector<Batch> batches = task->batches(Split::validation, 16, nullptr);
  const nlohmann::json metrics = task->evaluate(Split::validation, batches, span_logits_from_labels(batches));
  EXPECT_GT(metrics["HasAns_exact"].get<double>(), 97.0) << metrics.dump();
  EXPECT_GT(metrics["HasAns_f1"].get<double>(), 98.0);
  EXPECT_DOUBLE_EQ(metrics["NoAns_exact"].get<double>(), 100.0);
}

TEST(QaRoundtrip, SquadV1GoldSpansComeBack) {
  std::unique_ptr<Task> task = make_task("squad");
  TaskContext context = context_for(fixture_data(), 24, 0);  // short windows: answers cross window edges
  context.doc_stride = 8;
  task->load(context);
  EXPECT_GT(task->size(Split::validation), 6) << "contexts span several windows";
  const std::vector<Batch> batches = task->batches(Split::validation, 4, nullptr);
  const nlohmann::json metrics = task->evaluate(Split::validation, batches, span_logits_from_labels(batches));
  EXPECT_DOUBLE_EQ(metrics["exact_match"].get<double>(), 100.0) << metrics.dump();
  EXPECT_DOUBLE_EQ(metrics["f1"].get<double>(), 100.0);
  EXPECT_EQ(metrics["total"], 6);
}

TEST(QaRoundtrip, NullScoreIsTheSmallestOverWindowsAndTheThresholdDecides) {
  const std::string context = "alpha beta gamma";
  const std::vector<std::pair<std::int64_t, std::int64_t>> offsets = {{-1, -1}, {0, 5}, {6, 10}, {11, 16}, {-1, -1}};
  QaWindowScores first{{5, 0, 2, 0, 0}, {5, 0, 0, 2, 0}, &offsets};   // null 10, best span "beta gamma" 4
  QaWindowScores second{{1, 0, 0, 0, 0}, {1, 3, 0, 0, 0}, &offsets};  // null 2: the smaller one counts
  QaPostprocessOptions options;
  options.with_negative = true;
  QaAnswer answer = postprocess_qa(context, {first, second}, options);
  EXPECT_EQ(answer.best_non_null, "beta gamma");
  EXPECT_DOUBLE_EQ(answer.null_score_diff, 2.0 - 4.0);
  EXPECT_EQ(answer.text, "beta gamma");
  options.null_score_diff_threshold = -3.0;  // a lower threshold makes the null answer win
  EXPECT_EQ(postprocess_qa(context, {first, second}, options).text, "");
  options.max_answer_length = 1;  // "beta gamma" is two tokens: "alpha" of the second window (0 + 3) wins
  options.null_score_diff_threshold = 0.0;
  answer = postprocess_qa(context, {first, second}, options);
  EXPECT_EQ(answer.best_non_null, "alpha");
  EXPECT_DOUBLE_EQ(answer.null_score_diff, 2.0 - 3.0);
  // SQuAD 1.1: no null answer, the best span is the answer.
  options.with_negative = false;
  options.max_answer_length = 30;
  EXPECT_EQ(postprocess_qa(context, {first, second}, options).text, "beta gamma");
}

void expect_tagging_roundtrip(const std::string& name, const fs::path& root, std::int64_t max_length,
                              std::int64_t limit) {
  SCOPED_TRACE(::testing::Message() << name << " max_seq_length " << max_length);
  std::unique_ptr<Task> task = make_task(name);
  task->load(context_for(root, max_length, limit));
  auto* tagging = dynamic_cast<TokenTaggingTask*>(task.get());
  ASSERT_NE(tagging, nullptr);
  const std::vector<Batch> batches = task->batches(Split::validation, 8, nullptr);
  const std::vector<torch::Tensor> logits =
      tag_logits_from_labels(batches, static_cast<std::int64_t>(tagging->labels().size()));
  const metrics::TagSequences predicted = tagging->predictions(Split::validation, batches, logits);
  const std::vector<TaggedExample>& gold = tagging->examples(Split::validation);
  ASSERT_EQ(predicted.size(), gold.size());
  std::int64_t entities = 0;
  for (std::size_t i = 0; i < gold.size(); ++i) {
    EXPECT_EQ(predicted[i], gold[i].tags) << "example " << i;
    for (const std::string& tag : gold[i].tags) entities += tag.rfind("B-", 0) == 0;
  }
  EXPECT_GT(entities, 0);
  const nlohmann::json metrics = task->evaluate(Split::validation, batches, logits);
  EXPECT_DOUBLE_EQ(metrics["f1"].get<double>(), 1.0) << metrics.dump();
  EXPECT_DOUBLE_EQ(metrics["precision"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(metrics["recall"].get<double>(), 1.0);
  if (metrics.contains("strict")) EXPECT_DOUBLE_EQ(metrics["strict"]["f1"].get<double>(), 1.0);
  if (metrics.contains("srl_eval_f1")) EXPECT_DOUBLE_EQ(metrics["srl_eval_f1"].get<double>(), 1.0);
}

TEST(NerRoundtrip, GoldEntitiesComeBack) {
  expect_tagging_roundtrip("conll03", shared_data(), 128, 300);
  expect_tagging_roundtrip("conll04", shared_data(), 128, 100);
  expect_tagging_roundtrip("ontonotes", fixture_data(), 128, 0);
  // Short windows: sentences are split and their predictions merged back.
  expect_tagging_roundtrip("conll03", shared_data(), 12, 300);
  expect_tagging_roundtrip("conll04", shared_data(), 16, 100);
}

TEST(SrlRoundtrip, GoldArgumentsComeBack) {
  expect_tagging_roundtrip("conll05", fixture_data(), 128, 0);
  expect_tagging_roundtrip("conll12", fixture_data(), 128, 0);
  expect_tagging_roundtrip("conll05", fixture_data(), 10, 0);
}

}  // namespace
}  // namespace ptbench
