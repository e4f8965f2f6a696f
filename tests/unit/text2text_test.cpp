// The SuperGLUE text-to-text formats (tasks/text2text.h) against strings written by hand from
// the reference preprocessors (SMoP src/superglue_loader.py; T5 t5/data/preprocessors.py glue(),
// wsc(), record() with TFDS super_glue's wsc.fixed span repair), the encoder-decoder batch
// layout (labels, shifted decoder inputs), the generation request, scoring of fabricated
// generations (exact match after normalisation, invalid strings counted) and of candidate
// scores, and the choice of format by backbone kind. Metric values are worked out by hand in
// the comments next to them.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "backbones/tokenizers/tokenizer.h"
#include "common/error.h"
#include "tasks/data/superglue.h"
#include "tasks/pair_classification.h"
#include "tasks/task.h"
#include "tasks/text2text.h"
#include "tests/test_support.h"

namespace ptbench {
namespace {

namespace fs = std::filesystem;
using data::SuperGlueTask;
using Ids = std::vector<std::int64_t>;

constexpr auto smop = TextToTextConvention::smop;
constexpr auto t5 = TextToTextConvention::t5;

fs::path shared_data() { return testing::shared_dir() / "data"; }
fs::path fixture_data() { return testing::fixtures_dir() / "data"; }

const tok::Tokenizer& t5_tokenizer() {
  static const std::unique_ptr<tok::Tokenizer> tokenizer =
      tok::make_sentencepiece(testing::shared_dir() / "vocab/t5/spiece.model");
  return *tokenizer;
}

constexpr std::int64_t kEos = 1;  // T5 </s>
constexpr std::int64_t kPad = 0;  // T5 <pad> = decoder start token

// The pieces of `text` followed by </s>: what a target must be.
Ids with_eos(const std::string& text) {
  Ids ids = t5_tokenizer().encode_ids(text);
  ids.push_back(kEos);
  return ids;
}

TaskContext t2t_context(const fs::path& root, std::int64_t limit, int template_id = -1) {
  TaskContext context;
  context.data_dir = root;
  context.tokenizer = &t5_tokenizer();
  context.backbone_kind = BackboneKind::encoder_decoder;
  context.max_seq_length = 512;
  context.max_train_examples = limit;
  context.max_eval_examples = limit;
  context.template_id = template_id;
  return context;
}

// [rows, 1 + N] generated ids in HF generate's layout: decoder start, the pieces of the text,
// </s>, then padding up to `width` columns.
torch::Tensor generations(const std::vector<std::string>& texts, std::int64_t width) {
  torch::Tensor out = torch::full({static_cast<std::int64_t>(texts.size()), width}, kPad, torch::kInt64);
  for (std::size_t r = 0; r < texts.size(); ++r) {
    Ids ids = with_eos(texts[r]);
    EXPECT_LE(static_cast<std::int64_t>(ids.size()) + 1, width) << texts[r];
    for (std::size_t t = 0; t < ids.size(); ++t) out[r][t + 1] = ids[t];
  }
  return out;
}

Ids row_of(const torch::Tensor& tensor, std::int64_t row) {
  const torch::Tensor r = tensor[row].contiguous();
  return Ids(r.data_ptr<std::int64_t>(), r.data_ptr<std::int64_t>() + r.numel());
}

template <typename F>
void expect_error_mentioning(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(needle), std::string::npos) << error.what();
  }
}

// ---- formats -------------------------------------------------------------------------------

TEST(TextToTextFormat, RteBothConventions) {
  data::RteExample e;
  e.premise = "Dana Reeve died.";
  e.hypothesis = "Christopher Reeve had an accident.";
  e.label = data::RteLabel::not_entailment;
  const TextToTextExample s = text2text::format_rte(e, smop);
  EXPECT_EQ(s.source, "rte sentence1: Dana Reeve died. sentence2: Christopher Reeve had an accident.");
  EXPECT_EQ(s.target, "not_entailment");
  EXPECT_EQ(s.label, 1);
  const TextToTextExample t = text2text::format_rte(e, t5);
  EXPECT_EQ(t.source, "rte hypothesis: Christopher Reeve had an accident. premise: Dana Reeve died.");
  EXPECT_EQ(t.target, "not_entailment");
}

TEST(TextToTextFormat, BoolqCbCopaWic) {
  data::BoolqExample boolq;
  boolq.question = "is it wet";
  boolq.passage = "Water is wet.";
  boolq.label = true;
  for (const auto convention : {smop, t5}) {
    const TextToTextExample out = text2text::format_boolq(boolq, convention);
    EXPECT_EQ(out.source, "boolq passage: Water is wet. question: is it wet");
    EXPECT_EQ(out.target, "True");
    EXPECT_EQ(out.label, 1);
  }

  data::CbExample cb;
  cb.premise = "He said so.";
  cb.hypothesis = "Valence was helping";
  cb.label = data::CbLabel::neutral;
  EXPECT_EQ(text2text::format_cb(cb, smop).source, "cb hyopthesis: Valence was helping. premise: He said so.");
  EXPECT_EQ(text2text::format_cb(cb, t5).source, "cb hypothesis: Valence was helping premise: He said so.");
  EXPECT_EQ(text2text::format_cb(cb, smop).target, "neutral");
  EXPECT_EQ(text2text::format_cb(cb, smop).label, 2);

  data::CopaExample copa;
  copa.premise = "The man turned on the faucet.";
  copa.choice1 = "The toilet filled with water.";
  copa.choice2 = "Water flowed from the spout.";
  copa.question = data::CopaQuestion::effect;
  copa.label = 1;
  EXPECT_EQ(text2text::format_copa(copa, smop).source,
            "choice1: The toilet filled with water. choice2: Water flowed from the spout. premise: The man turned on "
            "the faucet. question: effect");
  EXPECT_EQ(text2text::format_copa(copa, t5).source,
            "copa choice1: The toilet filled with water. choice2: Water flowed from the spout. premise: The man "
            "turned on the faucet. question: effect");
  EXPECT_EQ(text2text::format_copa(copa, t5).target, "choice2");

  data::WicExample wic;
  wic.word = "class";
  wic.sentence1 = "An emerging professional class.";
  wic.sentence2 = "It showed real class.";
  wic.label = false;
  for (const auto convention : {smop, t5}) {
    EXPECT_EQ(text2text::format_wic(wic, convention).source,
              "wic sentence1: An emerging professional class. sentence2: It showed real class. word: class");
    EXPECT_EQ(text2text::format_wic(wic, convention).target, "False");
  }
}

TEST(TextToTextFormat, MultircKeepsOrRemovesMarkup) {
  data::MultircExample e;
  e.paragraph = "<b>Sent 1: </b>It rained.<br><b>Sent 2: </b>We stayed in.";
  e.question = "Why?";
  e.answer = "Rain";
  e.label = true;
  e.paragraph_idx = 4;
  e.question_idx = 9;
  const TextToTextExample s = text2text::format_multirc(e, smop);
  EXPECT_EQ(s.source, "question: Why? answer: Rain. paragraph: <b>Sent 1: </b>It rained.<br><b>Sent 2: </b>We stayed in.");
  EXPECT_EQ(s.target, "True");
  EXPECT_EQ(s.group, 4);
  EXPECT_EQ(s.subgroup, 9);
  EXPECT_EQ(text2text::format_multirc(e, t5).source,
            "multirc question: Why? answer: Rain paragraph: Sent 1: It rained. Sent 2: We stayed in.");
}

TEST(TextToTextFormat, WscMarksBothSpansAsT5Does) {
  // The docstring example of T5 preprocessors.wsc().
  data::WscExample e;
  e.text = "This is a test sentence .";
  e.span1_text = "test";
  e.span1_index = 3;
  e.span2_text = "This";
  e.span2_index = 0;
  e.label = false;
  int marked = 0;
  EXPECT_EQ(text2text::format_wsc(e, &marked).source, "wsc text: # This # is a * test * sentence .");
  EXPECT_EQ(text2text::format_wsc(e).target, "False");
  EXPECT_EQ(marked, 2);

  // span1 before span2: span2's word index moves by the two inserted marks.
  e.text = "Mitchell asked Tom if he could lend some money.";
  e.span1_text = "Tom";
  e.span1_index = 2;
  e.span2_text = "he";
  e.span2_index = 4;
  e.label = true;
  EXPECT_EQ(text2text::format_wsc(e).source, "wsc text: Mitchell asked * Tom * if # he # could lend some money.");
  EXPECT_EQ(text2text::format_wsc(e).target, "True");

  // TFDS wsc.fixed: "the lawyer." is no substring of the text, so it takes the case of word 0
  // ("The") and loses its trailing dot.
  e.text = "The lawyer asked the witness a question, but he was reluctant to answer it.";
  e.span1_text = "the lawyer.";
  e.span1_index = 0;
  e.span2_text = "he";
  e.span2_index = 8;
  EXPECT_EQ(text2text::format_wsc(e).source,
            "wsc text: * The lawyer * asked the witness a question, but # he # was reluctant to answer it.");

  // A span whose text does not stand at its index stays unmarked (T5's regex does not match).
  e.span2_index = 7;
  EXPECT_EQ(text2text::format_wsc(e, &marked).source,
            "wsc text: * The lawyer * asked the witness a question, but he was reluctant to answer it.");
  EXPECT_EQ(marked, 1);
}

TEST(TextToTextFormat, WscOnTheOfficialValidationFile) {
  const std::vector<data::WscExample> examples = data::load_wsc(shared_data(), Split::validation);
  ASSERT_GE(examples.size(), 2u);
  EXPECT_EQ(text2text::format_wsc(examples[0]).source,
            "wsc text: Bernard , who had not told the government official that he was less than 21 when he filed for "
            "a homestead claim, did not consider that he had done anything dishonest. Still, * anyone * who knew that "
            "he was 19 years old could take his claim away from # him # .");
  EXPECT_EQ(text2text::format_wsc(examples[1]).source,
            "wsc text: * Mr. Moncrieff * visited Chester 's luxurious New York apartment, thinking that it belonged to "
            "his son Edward . The result was that Mr. Moncrieff has decided to cancel Edward 's allowance on the "
            "ground that he no longer requires # his # financial support.");
}

TEST(TextToTextFormat, RecordPassageAndQueries) {
  EXPECT_EQ(text2text::record_passage("A b\n@highlight\nC d\n@highlight\nE."), "A b. C d. E.");
  EXPECT_EQ(text2text::record_passage("Yes!\n@highlight\nNo'\n@highlight\nMaybe"), "Yes! No' Maybe");

  const std::vector<data::RecordPassage> passages = data::load_record(fixture_data(), Split::train);
  ASSERT_FALSE(passages.empty());
  const std::vector<TextToTextExample> rows = text2text::format_record(passages[0], /*one_per_answer=*/true);
  ASSERT_EQ(rows.size(), 2u);
  const std::string entities = "entities: CNN, European Central Bank, Frankfurt, Swiss National Bank, Thomas Jordan, Z\u00fcrich";
  const std::string passage =
      "passage: Z\u00fcrich (CNN) -- The Swiss National Bank held its main interest rate on Thursday, a day after the "
      "European Central Bank surprised markets with a cut. Analysts in Z\u00fcrich had expected the Swiss National Bank "
      "to follow Frankfurt, but chairman Thomas Jordan said the franc was no longer overvalued. Swiss National Bank "
      "keeps its rate unchanged. European Central Bank cut its rate a day earlier";
  EXPECT_EQ(rows[0].source,
            "record query: @placeholder chairman Thomas Jordan said the franc was fairly valued. " + entities + " " + passage);
  EXPECT_EQ(rows[0].target, "Swiss National Bank");
  EXPECT_EQ(rows[1].source,
            "record query: The decision came a day after @placeholder lowered its own rate. " + entities + " " + passage);
  EXPECT_EQ(rows[1].target, "European Central Bank");
  ASSERT_TRUE(rows[0].candidates);
  EXPECT_EQ(rows[0].candidates->size(), 6u);
  EXPECT_EQ(rows[0].label, -1);
}

TEST(TextToTextFormat, LabelsNormalisationAndConventionChoice) {
  EXPECT_EQ(text2text_labels(SuperGlueTask::rte, smop), (std::vector<std::string>{"entailment", "not_entailment"}));
  EXPECT_EQ(text2text_labels(SuperGlueTask::cb, t5),
            (std::vector<std::string>{"entailment", "contradiction", "neutral"}));
  EXPECT_EQ(text2text_labels(SuperGlueTask::copa, t5), (std::vector<std::string>{"choice1", "choice2"}));
  EXPECT_EQ(text2text_labels(SuperGlueTask::wsc, t5), (std::vector<std::string>{"False", "True"}));
  EXPECT_TRUE(text2text_labels(SuperGlueTask::record, t5).empty());

  // SMoP compares SQuAD-normalised strings; T5 whole strings.
  EXPECT_EQ(text2text::normalise_prediction("  The Not_Entailment. ", smop), "notentailment");
  EXPECT_EQ(text2text::normalise_prediction("  Not_Entailment. ", t5), "Not_Entailment.");

  EXPECT_EQ(resolve_text2text_convention(SuperGlueTask::rte, -1), smop);
  EXPECT_EQ(resolve_text2text_convention(SuperGlueTask::rte, 1), t5);
  EXPECT_EQ(resolve_text2text_convention(SuperGlueTask::wsc, -1), t5);
  EXPECT_EQ(resolve_text2text_convention(SuperGlueTask::record, -1), t5);
  expect_error_mentioning([] { resolve_text2text_convention(SuperGlueTask::wsc, 0); }, "template_id");
  expect_error_mentioning([] { resolve_text2text_convention(SuperGlueTask::rte, 2); }, "template_id");
}

// ---- batches, loss, generation request -----------------------------------------------------

TEST(TextToTextTask, BatchesHoldSourceLabelsAndShiftedDecoderInputs) {
  std::unique_ptr<Task> task = make_text2text_task(SuperGlueTask::rte);
  TaskContext context = t2t_context(shared_data(), 3);
  context.max_seq_length = 24;
  task->load(context);
  EXPECT_EQ(task->name(), "rte");
  EXPECT_EQ(task->head().kind, HeadKind::seq2seq);
  EXPECT_EQ(task->version(), text2text_version(SuperGlueTask::rte));
  EXPECT_EQ(task->data_notes()["convention"], "smop");

  const std::vector<data::RteExample> examples = data::load_rte(shared_data(), Split::validation);
  const std::vector<Batch> batches = task->batches(Split::validation, 3, nullptr);
  ASSERT_EQ(batches.size(), 1u);
  const Batch& batch = batches[0];
  ASSERT_EQ(batch.example_ids, (Ids{0, 1, 2}));
  // Sources: the SMoP string's pieces, cut to 23 so that </s> ends the 24 tokens.
  for (std::int64_t r = 0; r < 3; ++r) {
    Ids source = t5_tokenizer().encode_ids("rte sentence1: " + examples[r].premise + " sentence2: " + examples[r].hypothesis);
    if (source.size() > 23) source.resize(23);
    source.push_back(kEos);
    Ids row = row_of(batch.input.input_ids, r);
    Ids mask = row_of(batch.input.attention_mask, r);
    for (std::size_t t = 0; t < row.size(); ++t) {
      EXPECT_EQ(mask[t], t < source.size() ? 1 : 0);
      if (t >= source.size()) EXPECT_EQ(row[t], kPad);
    }
    row.resize(source.size());
    EXPECT_EQ(row, source) << r;
  }
  EXPECT_EQ(batch.input.input_ids.size(1), 24);

  // Labels: "not_entailment</s>", "entailment</s>", "not_entailment</s>", padded with -100;
  // decoder inputs: 0 then the labels shifted right, -100 → 0.
  const std::vector<Ids> targets = {with_eos("not_entailment"), with_eos("entailment"), with_eos("not_entailment")};
  const std::int64_t length = static_cast<std::int64_t>(std::max(targets[0].size(), targets[1].size()));
  ASSERT_EQ(batch.labels.sizes(), torch::IntArrayRef({3, length}));
  ASSERT_EQ(batch.input.decoder_input_ids.sizes(), torch::IntArrayRef({3, length}));
  for (std::int64_t r = 0; r < 3; ++r) {
    Ids labels = targets[r];
    labels.resize(length, -100);
    EXPECT_EQ(row_of(batch.labels, r), labels) << r;
    Ids decoder = {0};
    for (std::int64_t t = 0; t + 1 < length; ++t) decoder.push_back(labels[t] == -100 ? kPad : labels[t]);
    EXPECT_EQ(row_of(batch.input.decoder_input_ids, r), decoder) << r;
  }
  EXPECT_LT(targets[1].size(), targets[0].size()) << "the test wants one padded target";

  // Training batches cover every example once.
  std::mt19937_64 rng(3);
  std::vector<std::int64_t> seen;
  for (const Batch& b : task->batches(Split::train, 2, &rng)) seen.insert(seen.end(), b.example_ids.begin(), b.example_ids.end());
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (Ids{0, 1, 2}));
}

TEST(TextToTextTask, LossIsTheMeanCrossEntropyOverRealLabels) {
  std::unique_ptr<Task> task = make_text2text_task(SuperGlueTask::cb);
  task->load(t2t_context(shared_data(), 4));
  const Batch batch = task->batches(Split::validation, 4, nullptr).at(0);
  const std::int64_t vocab = 32128;
  torch::manual_seed(5);
  const torch::Tensor logits = torch::randn({batch.labels.size(0), batch.labels.size(1), vocab}, torch::kFloat64);
  double total = 0;
  std::int64_t count = 0;
  for (std::int64_t b = 0; b < batch.labels.size(0); ++b) {
    for (std::int64_t t = 0; t < batch.labels.size(1); ++t) {
      const std::int64_t label = batch.labels[b][t].item<std::int64_t>();
      if (label == -100) continue;
      const torch::Tensor row = logits[b][t].contiguous();
      const double* data = row.data_ptr<double>();
      double max = -1e300;
      for (std::int64_t v = 0; v < vocab; ++v) max = std::max(max, data[v]);
      double sum = 0;
      for (std::int64_t v = 0; v < vocab; ++v) sum += std::exp(data[v] - max);
      total += -(data[label] - max - std::log(sum));
      ++count;
    }
  }
  ASSERT_GT(count, 0);
  EXPECT_NEAR(task->loss(logits, batch).item<double>(), total / static_cast<double>(count), 1e-10);
}

TEST(TextToTextTask, GenerationRequest) {
  std::unique_ptr<Task> task = make_text2text_task(SuperGlueTask::rte);
  TaskContext context = t2t_context(shared_data(), 2);
  context.num_beams = 3;
  task->load(context);
  EXPECT_EQ(task->eval_output(), EvalOutput::generated_ids);
  const GenerationRequest request = task->generation();
  // One token past the longest label with its </s>.
  const std::int64_t longest =
      static_cast<std::int64_t>(std::max(with_eos("entailment").size(), with_eos("not_entailment").size()));
  EXPECT_EQ(request.max_new_tokens, longest + 1);
  EXPECT_EQ(request.num_beams, 3);
  EXPECT_TRUE(request.candidates.empty());

  context.max_target_length = 10;  // SMoP's max_new_tokens
  context.text_scoring = "rank";
  std::unique_ptr<Task> ranked = make_text2text_task(SuperGlueTask::rte);
  ranked->load(context);
  EXPECT_EQ(ranked->eval_output(), EvalOutput::candidate_scores);
  EXPECT_EQ(ranked->generation().max_new_tokens, 10);
  EXPECT_EQ(ranked->generation().candidates, (std::vector<Ids>{with_eos("entailment"), with_eos("not_entailment")}));
}

// ---- scoring -------------------------------------------------------------------------------

TEST(TextToTextEvaluate, ExactMatchCountsInvalidStringsAsWrong) {
  // RTE validation 0..3 gold: not_entailment, entailment, not_entailment, not_entailment.
  const std::vector<std::string> generated = {"not_entailment", "not_entailment", "maybe", "Not_Entailment."};
  for (const int template_id : {-1, 1}) {
    SCOPED_TRACE(template_id);
    std::unique_ptr<Task> task = make_text2text_task(SuperGlueTask::rte);
    task->load(t2t_context(shared_data(), 4, template_id));
    const std::vector<Batch> batches = task->batches(Split::validation, 3, nullptr);
    ASSERT_EQ(batches.size(), 2u);
    const nlohmann::json m = task->evaluate(
        Split::validation, batches,
        {generations({generated[0], generated[1], generated[2]}, 12), generations({generated[3]}, 9)});
    if (template_id == -1) {
      // SMoP: "Not_Entailment." normalises to "notentailment" = the label: right 0 and 3.
      EXPECT_DOUBLE_EQ(m["accuracy"].get<double>(), 0.5);
      EXPECT_EQ(m["invalid_predictions"], 1);
      EXPECT_DOUBLE_EQ(m["invalid_predictions_share"].get<double>(), 0.25);
      EXPECT_EQ(m["distinct_predictions"], 2);  // notentailment, maybe
    } else {
      // T5: whole strings; "Not_Entailment." is no label.
      EXPECT_DOUBLE_EQ(m["accuracy"].get<double>(), 0.25);
      EXPECT_EQ(m["invalid_predictions"], 2);
      EXPECT_DOUBLE_EQ(m["invalid_predictions_share"].get<double>(), 0.5);
      EXPECT_EQ(m["distinct_predictions"], 3);
    }
  }
}

TEST(TextToTextEvaluate, CbMacroF1TreatsAnInvalidStringAsItsOwnClass) {
  // CB validation 0..5 gold: contradiction, neutral, entailment, contradiction, contradiction, contradiction.
  std::unique_ptr<Task> task = make_text2text_task(SuperGlueTask::cb);
  task->load(t2t_context(shared_data(), 6));
  const std::vector<Batch> batches = task->batches(Split::validation, 6, nullptr);
  const nlohmann::json m = task->evaluate(
      Split::validation, batches,
      {generations({"contradiction", "contradiction", "entailment", "yes", "contradiction", "neutral"}, 10)});
  // Right: 0, 2, 4 → 3/6.
  EXPECT_DOUBLE_EQ(m["accuracy"].get<double>(), 0.5);
  // Per class (sklearn, labels = union of gold and predictions incl. the invalid one):
  // entailment P=R=1 → 1; contradiction tp 2, predicted 3, gold 4 → P 2/3, R 1/2, F1 4/7;
  // neutral tp 0 → 0; invalid ("yes") tp 0 → 0. Macro = (1 + 4/7) / 4 = 11/28.
  EXPECT_NEAR(m["macro_f1"].get<double>(), 11.0 / 28.0, 1e-12);
  EXPECT_EQ(m["invalid_predictions"], 1);
  EXPECT_EQ(m["distinct_predictions"], 4);
}

TEST(TextToTextEvaluate, MultircF1aAndExactMatch) {
  // MultiRC validation, paragraph 0: question 0 gold (0,1,1,0), question 1 gold (0,0,1,1,0).
  std::unique_ptr<Task> task = make_text2text_task(SuperGlueTask::multirc);
  task->load(t2t_context(shared_data(), 9));
  const std::vector<Batch> batches = task->batches(Split::validation, 9, nullptr);
  ASSERT_EQ(batches.at(0).size(), 9);
  const nlohmann::json m = task->evaluate(
      Split::validation, batches,
      {generations({"False", "True", "Maybe", "False", "False", "False", "True", "True", "False"}, 8)});
  // F1a (class True; the invalid "Maybe" is not True): tp 3, predicted 3, gold 4 → 2·1·¾/(1+¾) = 6/7.
  EXPECT_NEAR(m["f1a"].get<double>(), 6.0 / 7.0, 1e-12);
  // EM: question 0 has the invalid answer → wrong; question 1 all right → 1/2.
  EXPECT_DOUBLE_EQ(m["exact_match"].get<double>(), 0.5);
  EXPECT_NEAR(m["accuracy"].get<double>(), 8.0 / 9.0, 1e-12);
  // SMoP's macro F1 over {invalid, False, True}: (0 + 1 + 6/7) / 3 = 13/21.
  EXPECT_NEAR(m["macro_f1"].get<double>(), 13.0 / 21.0, 1e-12);
  // F1m: question 0 with the invalid answer wrong (pred 0,1,0,0 vs 0,1,1,0): False F1 0.8,
  // True F1 2/3 → 11/15; question 1: 1 → (11/15 + 1) / 2 = 13/15.
  EXPECT_NEAR(m["f1m"].get<double>(), 13.0 / 15.0, 1e-12);
  EXPECT_EQ(m["invalid_predictions"], 1);
  EXPECT_EQ(m["questions"], 2);
}

TEST(TextToTextEvaluate, RankScoringTakesTheBestCandidate) {
  std::unique_ptr<Task> task = make_text2text_task(SuperGlueTask::rte);
  TaskContext context = t2t_context(shared_data(), 4);
  context.text_scoring = "rank";
  task->load(context);
  const std::vector<Batch> batches = task->batches(Split::validation, 4, nullptr);
  // Gold 1, 0, 1, 1; picks 1, 1, 0, 1 → right 0 and 3.
  const torch::Tensor scores = torch::tensor({-3.0, -1.0, -2.0, -0.5, -0.1, -4.0, -9.0, -8.0}).view({4, 2});
  const nlohmann::json m = task->evaluate(Split::validation, batches, {scores});
  EXPECT_DOUBLE_EQ(m["accuracy"].get<double>(), 0.5);
  EXPECT_EQ(m["invalid_predictions"], 0);
  EXPECT_EQ(m["distinct_predictions"], 2);
}

TEST(TextToTextEvaluate, RecordScoresGeneratedEntities) {
  std::unique_ptr<Task> task = make_text2text_task(SuperGlueTask::record);
  task->load(t2t_context(fixture_data(), 0));
  EXPECT_EQ(task->primary_metric(), "f1");
  EXPECT_EQ(task->data_notes()["convention"], "t5");
  ASSERT_EQ(task->size(Split::train), 3);       // one row per answer of the 3 training queries
  ASSERT_EQ(task->size(Split::validation), 2);  // one row per query
  const std::vector<Batch> batches = task->batches(Split::validation, 2, nullptr);
  // Query 0 (gold "António Costa"): "Prime Minister" is no entity → invalid, EM 0, F1 0.
  // Query 1 (gold "Left Bloc", "Socialist Party"): "Bloc" → EM 0, F1 vs "left bloc" 2·1·½/1.5 = 2/3.
  // Query 1 again as "the Left Bloc" would be exact after normalisation; see the second call.
  nlohmann::json m = task->evaluate(Split::validation, batches, {generations({"Prime Minister", "Bloc"}, 8)});
  EXPECT_DOUBLE_EQ(m["exact_match"].get<double>(), 0.0);
  EXPECT_NEAR(m["f1"].get<double>(), (0.0 + 2.0 / 3.0) / 2.0, 1e-12);
  EXPECT_EQ(m["invalid_predictions"], 2);
  m = task->evaluate(Split::validation, batches, {generations({"Lisbon", "the Left Bloc"}, 8)});
  EXPECT_DOUBLE_EQ(m["exact_match"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(m["f1"].get<double>(), 0.5);
  EXPECT_EQ(m["invalid_predictions"], 0);  // "Lisbon" is an entity of the passage, just not the answer
}

// ---- dispatch by backbone kind -------------------------------------------------------------

TEST(TextToTextDispatch, RegistryPicksTheFormatByBackboneKind) {
  std::unique_ptr<Task> t2t = make_task("rte");
  t2t->load(t2t_context(shared_data(), 2));
  EXPECT_EQ(t2t->name(), "rte");
  EXPECT_EQ(t2t->head().kind, HeadKind::seq2seq);
  EXPECT_EQ(t2t->data_notes()["format"], "text_to_text");
  EXPECT_EQ(t2t->eval_output(), EvalOutput::generated_ids);

  static const std::unique_ptr<tok::Tokenizer> bert =
      tok::make_wordpiece(testing::shared_dir() / "vocab/bert-base-uncased/vocab.txt", true);
  TaskContext encoder_context;
  encoder_context.data_dir = shared_data();
  encoder_context.tokenizer = bert.get();
  encoder_context.max_train_examples = 2;
  encoder_context.max_eval_examples = 2;
  std::unique_ptr<Task> encoder = make_task("rte");
  encoder->load(encoder_context);
  EXPECT_EQ(encoder->head().kind, HeadKind::sequence_classification);
  EXPECT_EQ(encoder->eval_output(), EvalOutput::head_output);
  EXPECT_FALSE(encoder->data_notes().contains("format"));
  // The concrete implementation behind the registry entry.
  EXPECT_NE(dynamic_cast<const PairClassificationTask*>(&loaded_implementation(*encoder)), nullptr);
  EXPECT_EQ(dynamic_cast<const PairClassificationTask*>(&loaded_implementation(*t2t)), nullptr);

  // Tasks without a text-to-text format keep refusing encoder-decoder backbones.
  TaskContext t5_context = t2t_context(shared_data(), 2);
  expect_error_mentioning([&] { make_task("conll03")->load(t5_context); }, "encoder");
  // ReCoRD cannot rank (its candidates differ per query), and missing data is named.
  TaskContext rank_context = t2t_context(fixture_data(), 2);
  rank_context.text_scoring = "rank";
  expect_error_mentioning([&] { make_task("record")->load(rank_context); }, "rank");
  expect_error_mentioning([&] { make_task("record")->load(t2t_context(shared_data(), 2)); }, "ReCoRD");
  // The SMoP convention has no WSC.
  expect_error_mentioning([&] { make_task("wsc")->load(t2t_context(shared_data(), 2, 0)); }, "SMoP");
}

}  // namespace
}  // namespace ptbench
