// The torch-free data layer (tasks/data): record counts of every split mirrored in ../shared/data
// (numbers from ../shared/README.md and the official releases), the hand-written fixtures in
// tests/fixtures/data, and the errors that malformed inputs (tests/fixtures/malformed) produce.
#include <gtest/gtest.h>

#include <fstream>
#include <initializer_list>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "tasks/data/common.h"
#include "tasks/data/conll.h"
#include "tasks/data/qa.h"
#include "tasks/data/srl.h"
#include "tasks/data/superglue.h"
#include "tests/test_support.h"

namespace ptbench::data {
namespace {

namespace fs = std::filesystem;
using Tags = std::vector<std::string>;

fs::path shared_data() { return ptbench::testing::shared_dir() / "data"; }
fs::path fixture_data() { return ptbench::testing::fixtures_dir() / "data"; }
fs::path malformed() { return ptbench::testing::fixtures_dir() / "malformed"; }

#define SKIP_WITHOUT_SHARED_DATA() \
  if (!fs::is_directory(shared_data())) GTEST_SKIP() << "no " << shared_data() << " here"

// Runs `body`, expects a ptbench::Error whose message contains every part.
template <typename Body>
void expect_error(Body&& body, std::initializer_list<std::string> parts) {
  try {
    body();
    ADD_FAILURE() << "no error; expected one mentioning " << *parts.begin();
  } catch (const Error& e) {
    const std::string message = e.what();
    for (const auto& part : parts)
      EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
  }
}

Tags split_tags(const std::string& text) {
  Tags out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

template <typename Examples>
std::size_t count_labelled(const Examples& examples) {
  std::size_t n = 0;
  for (const auto& e : examples) n += e.label.has_value();
  return n;
}

// ------------------------------------------------------------------ common pieces

TEST(DataCommon, SplitNames) {
  EXPECT_EQ(split_name(Split::validation), "validation");
  EXPECT_EQ(parse_split("dev"), Split::validation);
  EXPECT_EQ(parse_split("val"), Split::validation);
  EXPECT_EQ(parse_split("train"), Split::train);
  expect_error([] { parse_split("holdout"); }, {"holdout", "validation"});
}

TEST(DataCommon, Utf8Offsets) {
  const std::string text = "Z\xC3\xBCrich \xE2\x80\x94 ok";  // "Zürich — ok": 11 code points, 14 bytes
  EXPECT_EQ(utf8_length(text), 11);
  EXPECT_EQ(utf8_byte_offset(text, 0), 0u);
  EXPECT_EQ(utf8_byte_offset(text, 2), 3u);   // after "Zü"
  EXPECT_EQ(utf8_byte_offset(text, 8), 11u);  // after the em dash
  EXPECT_EQ(utf8_byte_offset(text, 11), text.size());
  EXPECT_EQ(text.size(), 14u);
  EXPECT_FALSE(utf8_byte_offset(text, 12).has_value());
  EXPECT_FALSE(utf8_byte_offset(text, -1).has_value());
}

TEST(DataCommon, BracketsToBio) {
  const fs::path file = "x.props";
  // CoNLL-2005 style, CoNLL-2004 style (label repeated on close), OntoNotes "(GPE)".
  EXPECT_EQ(brackets_to_bio({"(A0*", "*)", "(V*)", "(A1*", "*", "*)", "*"}, file, {1, 2, 3, 4, 5, 6, 7}),
            split_tags("B-A0 I-A0 B-V B-A1 I-A1 I-A1 O"));
  EXPECT_EQ(brackets_to_bio({"(A0*", "*A0)", "(V*V)", "*"}, file, {1, 2, 3, 4}), split_tags("B-A0 I-A0 B-V O"));
  EXPECT_EQ(brackets_to_bio({"(GPE)", "*", "(PERSON*", "*)"}, file, {1, 2, 3, 4}),
            split_tags("B-GPE O B-PERSON I-PERSON"));
  EXPECT_EQ(brackets_to_bio({"(C-A1*", "*)", "(R-AM-TMP*)"}, file, {1, 2, 3}), split_tags("B-C-A1 I-C-A1 B-R-AM-TMP"));
  expect_error([&] { brackets_to_bio({"(A0*", "(A1*)", "*)"}, file, {10, 11, 12}); }, {"x.props:11", "nest"});
  expect_error([&] { brackets_to_bio({"*", "*)"}, file, {10, 11}); }, {"x.props:11", "never opened"});
  expect_error([&] { brackets_to_bio({"(A0*", "*"}, file, {10, 11}); }, {"x.props:10", "never closed"});
  expect_error([&] { brackets_to_bio({"*", "B-A0"}, file, {10, 11}); }, {"x.props:11", "B-A0"});
  expect_error([&] { brackets_to_bio({"(A0*", "*A1)"}, file, {10, 11}); }, {"x.props:11", "A1"});
}

// ------------------------------------------------------------------ SuperGLUE, shipped splits

TEST(DataSuperGlue, TaskNamesAndPaths) {
  EXPECT_EQ(superglue_tasks().size(), 8u);
  EXPECT_EQ(parse_superglue_task("record"), SuperGlueTask::record);
  EXPECT_EQ(parse_superglue_task("MultiRC"), SuperGlueTask::multirc);
  expect_error([] { parse_superglue_task("SST-2"); }, {"SST-2", "BoolQ", "WSC"});
  EXPECT_EQ(superglue_split_path("/d", SuperGlueTask::wic, Split::validation), fs::path("/d/superglue/WiC/val.jsonl"));
  EXPECT_EQ(superglue_download_url(SuperGlueTask::record),
            "https://dl.fbaipublicfiles.com/glue/superglue/data/v2/ReCoRD.zip");
}

TEST(DataSuperGlue, BoolqCountsAndMissingTrain) {
  SKIP_WITHOUT_SHARED_DATA();
  const auto val = load_boolq(shared_data(), Split::validation);
  EXPECT_EQ(val.size(), 3270u);
  EXPECT_EQ(count_labelled(val), val.size());
  const auto test = load_boolq(shared_data(), Split::test);
  EXPECT_EQ(test.size(), 3245u);
  EXPECT_EQ(count_labelled(test), 0u);
  // No train.jsonl in the mirror: callers can ask, and loading it names file, URL and options.
  EXPECT_FALSE(superglue_split_exists(shared_data(), SuperGlueTask::boolq, Split::train));
  EXPECT_TRUE(superglue_split_exists(shared_data(), SuperGlueTask::boolq, Split::validation));
  expect_error([] { load_boolq(shared_data(), Split::train); },
               {(shared_data() / "superglue/BoolQ/train.jsonl").string(),
                "https://dl.fbaipublicfiles.com/glue/superglue/data/v2/BoolQ.zip", "--data-dir", "PTBENCH_DATA"});
}

TEST(DataSuperGlue, CbCounts) {
  SKIP_WITHOUT_SHARED_DATA();
  const auto train = load_cb(shared_data(), Split::train);
  const auto val = load_cb(shared_data(), Split::validation);
  const auto test = load_cb(shared_data(), Split::test);
  EXPECT_EQ(train.size(), 250u);
  EXPECT_EQ(val.size(), 56u);
  EXPECT_EQ(test.size(), 250u);
  EXPECT_EQ(count_labelled(train), 250u);
  EXPECT_EQ(count_labelled(test), 0u);
  EXPECT_EQ(val[0].label, CbLabel::contradiction);
  EXPECT_EQ(val[0].hypothesis, "Valence was helping");
  EXPECT_EQ(val[1].label, CbLabel::neutral);
  std::set<CbLabel> seen;
  for (const auto& e : train) seen.insert(*e.label);
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_EQ(cb_label_name(CbLabel::neutral), "neutral");
}

TEST(DataSuperGlue, CopaCounts) {
  SKIP_WITHOUT_SHARED_DATA();
  const auto train = load_copa(shared_data(), Split::train);
  const auto val = load_copa(shared_data(), Split::validation);
  const auto test = load_copa(shared_data(), Split::test);
  EXPECT_EQ(train.size(), 400u);
  EXPECT_EQ(val.size(), 100u);
  EXPECT_EQ(test.size(), 500u);
  EXPECT_EQ(count_labelled(test), 0u);
  EXPECT_EQ(val[0].premise, "The man turned on the faucet.");
  EXPECT_EQ(val[0].question, CopaQuestion::effect);
  EXPECT_EQ(val[0].label, 1);
  EXPECT_EQ(test[0].question, CopaQuestion::cause);
}

TEST(DataSuperGlue, MultircCounts) {
  SKIP_WITHOUT_SHARED_DATA();
  struct Expected {
    Split split;
    std::size_t options, paragraphs, questions;
    bool labelled;
  };
  for (const Expected& x :
       {Expected{Split::train, 27243, 456, 5131, true}, Expected{Split::validation, 4848, 83, 953, true},
        Expected{Split::test, 9693, 166, 1820, false}}) {
    SCOPED_TRACE(std::string(split_name(x.split)));
    const auto examples = load_multirc(shared_data(), x.split);
    std::set<std::int64_t> paragraphs;
    std::set<std::pair<std::int64_t, std::int64_t>> questions;
    for (const auto& e : examples) {
      paragraphs.insert(e.paragraph_idx);
      questions.insert({e.paragraph_idx, e.question_idx});
    }
    EXPECT_EQ(examples.size(), x.options);
    EXPECT_EQ(paragraphs.size(), x.paragraphs);
    EXPECT_EQ(questions.size(), x.questions);
    EXPECT_EQ(count_labelled(examples), x.labelled ? x.options : 0u);
  }
  const auto val = load_multirc(shared_data(), Split::validation);
  EXPECT_EQ(val[0].question, "Would the mass of a baseball affect how much force you have to use to pick it up?");
  EXPECT_EQ(val[0].answer, "No");
  EXPECT_EQ(val[0].label, false);
  EXPECT_EQ(val[1].answer, "Yes");
  EXPECT_EQ(val[1].label, true);
  EXPECT_EQ(val[1].answer_idx, 1);
  EXPECT_EQ(val[0].paragraph.rfind("What causes a change in motion?", 0), 0u);
}

TEST(DataSuperGlue, RteCounts) {
  SKIP_WITHOUT_SHARED_DATA();
  const auto train = load_rte(shared_data(), Split::train);
  const auto val = load_rte(shared_data(), Split::validation);
  const auto test = load_rte(shared_data(), Split::test);
  EXPECT_EQ(train.size(), 2490u);
  EXPECT_EQ(val.size(), 277u);
  EXPECT_EQ(test.size(), 3000u);
  EXPECT_EQ(count_labelled(test), 0u);
  EXPECT_EQ(val[0].label, RteLabel::not_entailment);
  EXPECT_EQ(val[1].label, RteLabel::entailment);
}

TEST(DataSuperGlue, WicCountsAndSpans) {
  SKIP_WITHOUT_SHARED_DATA();
  const auto train = load_wic(shared_data(), Split::train);
  const auto val = load_wic(shared_data(), Split::validation);
  const auto test = load_wic(shared_data(), Split::test);
  EXPECT_EQ(train.size(), 5428u);
  EXPECT_EQ(val.size(), 638u);
  EXPECT_EQ(test.size(), 1400u);
  EXPECT_EQ(count_labelled(test), 0u);
  const WicExample& e = val[0];
  EXPECT_EQ(e.word, "class");
  EXPECT_EQ(e.label, false);
  EXPECT_EQ(e.sentence1.substr(e.byte_start1, e.byte_end1 - e.byte_start1), "class");
  EXPECT_EQ(e.sentence2.substr(e.byte_start2, e.byte_end2 - e.byte_start2), "class");
  // Byte spans equal character spans on ASCII text and stay inside the sentences everywhere.
  for (const auto* split : {&train, &val, &test}) {
    for (const auto& x : *split) {
      ASSERT_LE(x.byte_end1, x.sentence1.size());
      ASSERT_LE(x.byte_end2, x.sentence2.size());
      ASSERT_LE(x.byte_start1, x.byte_end1);
    }
  }
}

TEST(DataSuperGlue, WscCounts) {
  SKIP_WITHOUT_SHARED_DATA();
  const auto train = load_wsc(shared_data(), Split::train);
  const auto val = load_wsc(shared_data(), Split::validation);
  const auto test = load_wsc(shared_data(), Split::test);
  EXPECT_EQ(train.size(), 554u);
  EXPECT_EQ(val.size(), 104u);
  EXPECT_EQ(test.size(), 146u);
  EXPECT_EQ(count_labelled(test), 0u);
  EXPECT_EQ(val[0].span1_text, "anyone");
  EXPECT_EQ(val[0].span1_index, 32);
  EXPECT_EQ(val[0].span2_text, "him");
  EXPECT_EQ(val[0].span2_index, 47);
  EXPECT_EQ(val[0].label, false);
}

TEST(DataSuperGlue, RecordIsNotMirrored) {
  SKIP_WITHOUT_SHARED_DATA();
  EXPECT_FALSE(superglue_split_exists(shared_data(), SuperGlueTask::record, Split::train));
  expect_error([] { load_record(shared_data(), Split::validation); },
               {"superglue/ReCoRD/val.jsonl", "ReCoRD.zip", "--data-dir"});
}

// ------------------------------------------------------------------ SuperGLUE, fixtures

TEST(DataSuperGlue, BoolqTrainFixtureAndFallbackQuery) {
  EXPECT_TRUE(superglue_split_exists(fixture_data(), SuperGlueTask::boolq, Split::train));
  const auto train = load_boolq(fixture_data(), Split::train);
  ASSERT_EQ(train.size(), 4u);
  EXPECT_EQ(train[0].question, "is a tomato botanically a fruit");
  EXPECT_EQ(train[0].label, true);
  EXPECT_EQ(train[1].label, false);
  EXPECT_EQ(train[3].question, "is the caf\xC3\xA9 au lait the same drink as a latte");  // \u00e9 decoded
  EXPECT_EQ(train[3].idx, 3);
}

TEST(DataSuperGlue, RecordFixtures) {
  const auto train = load_record(fixture_data(), Split::train);
  const auto val = load_record(fixture_data(), Split::validation);
  ASSERT_EQ(train.size(), 2u);
  ASSERT_EQ(val.size(), 1u);
  EXPECT_EQ(record_query_count(train), 3u);
  EXPECT_EQ(record_query_count(val), 2u);

  const RecordPassage& p = train[0];
  EXPECT_EQ(p.source, "CNN");
  EXPECT_EQ(p.entities.size(), 10u);
  // Entity spans are inclusive character offsets; the passage starts with "Zürich" (6 characters,
  // 7 bytes), so every later byte offset is one more than its character offset.
  EXPECT_EQ(p.entities[0].text, "Z\xC3\xBCrich");
  EXPECT_EQ(p.entities[0].start, 0);
  EXPECT_EQ(p.entities[0].end, 5);
  EXPECT_EQ(p.entities[0].byte_end, 7u);
  EXPECT_EQ(p.entities[1].text, "CNN");
  EXPECT_EQ(p.entities[1].byte_begin, static_cast<std::size_t>(p.entities[1].start) + 1);
  EXPECT_EQ(p.candidates, (std::vector<std::string>{"CNN", "European Central Bank", "Frankfurt", "Swiss National Bank",
                                                    "Thomas Jordan", "Z\xC3\xBCrich"}));
  ASSERT_EQ(p.queries.size(), 2u);
  EXPECT_NE(p.queries[0].query.find("@placeholder"), std::string::npos);
  ASSERT_TRUE(p.queries[0].answers.has_value());
  ASSERT_EQ(p.queries[0].answers->size(), 1u);
  const RecordSpan& answer = p.queries[0].answers->front();
  EXPECT_EQ(answer.text, "Swiss National Bank");
  EXPECT_EQ(p.text.substr(answer.byte_begin, answer.byte_end - answer.byte_begin), answer.text);
  EXPECT_NE(p.text.find("@highlight"), std::string::npos);  // kept as in the file

  EXPECT_EQ(train[1].candidates.size(), 4u);  // "Isle of Skye" and "Portree" occur twice
  EXPECT_EQ(train[1].entities.size(), 6u);

  const RecordQuery& two_answers = val[0].queries[1];
  ASSERT_TRUE(two_answers.answers.has_value());
  EXPECT_EQ(two_answers.answers->size(), 2u);
  EXPECT_EQ(val[0].queries[0].answers->front().text, "Ant\xC3\xB3nio Costa");
  for (const auto& span : *two_answers.answers) {
    EXPECT_EQ(val[0].text.substr(span.byte_begin, span.byte_end - span.byte_begin), span.text);
  }

  // Without answers: fine when labels are not required (test files), an error otherwise.
  const fs::path dir = ptbench::testing::temp_dir("record");
  std::ofstream(dir / "test.jsonl")
      << R"({"source": "CNN", "passage": {"text": "Oslo hosts the talks.", "entities": [{"start": 0, "end": 3}]}, )"
      << R"("qas": [{"query": "The talks are in @placeholder.", "idx": 0}], "idx": 0})"
      << "\n";
  const auto test = read_record_file(dir / "test.jsonl", false);
  ASSERT_EQ(test.size(), 1u);
  EXPECT_FALSE(test[0].queries[0].answers.has_value());
  EXPECT_EQ(test[0].candidates, std::vector<std::string>{"Oslo"});
  expect_error([&] { read_record_file(dir / "test.jsonl", true); }, {"test.jsonl:1", "qas[0].answers", "missing"});
}

// ------------------------------------------------------------------ SuperGLUE, malformed input

TEST(DataSuperGlue, MalformedInputsNameFileAndLine) {
  expect_error([] { load_cb(malformed(), Split::validation); },
               {"malformed/superglue/CB/val.jsonl:2", "malformed JSON"});
  expect_error([] { load_rte(malformed(), Split::train); },
               {"malformed/superglue/RTE/train.jsonl:3", "maybe", "not_entailment"});
  expect_error([] { load_copa(malformed(), Split::train); },
               {"malformed/superglue/COPA/train.jsonl:2", "choice2", "missing"});
  expect_error([] { load_multirc(malformed(), Split::validation); },
               {"malformed/superglue/MultiRC/val.jsonl:1", "passage.questions[0].answers[1].label", "(0, 1)"});
  expect_error([] { load_wic(malformed(), Split::validation); }, {"malformed/superglue/WiC/val.jsonl:2", "end2"});

  // A train/val record without a label is an error; the same record is fine in a test file.
  const fs::path dir = ptbench::testing::temp_dir("cb");
  std::ofstream(dir / "val.jsonl") << R"({"premise": "p", "hypothesis": "h", "label": "neutral", "idx": 0})"
                                   << "\n"
                                   << R"({"premise": "p", "hypothesis": "h", "idx": 1})"
                                   << "\n";
  expect_error([&] { read_cb_file(dir / "val.jsonl", true); }, {"val.jsonl:2", "label", "missing"});
  const auto lenient = read_cb_file(dir / "val.jsonl", false);
  ASSERT_EQ(lenient.size(), 2u);
  EXPECT_EQ(lenient[0].label, CbLabel::neutral);
  EXPECT_FALSE(lenient[1].label.has_value());
  // A label of the wrong JSON type is outside the label set too.
  std::ofstream(dir / "boolq.jsonl") << R"({"question": "q", "passage": "p", "idx": 0, "label": "yes"})"
                                     << "\n";
  expect_error([&] { read_boolq_file(dir / "boolq.jsonl", true); }, {"boolq.jsonl:1", "label", "true or false"});
}

// ------------------------------------------------------------------ NER

TEST(DataConll, Conll2003Counts) {
  SKIP_WITHOUT_SHARED_DATA();
  const auto train = load_conll2003(shared_data(), Split::train);
  EXPECT_EQ(train.size(), 14041u);
  EXPECT_EQ(load_conll2003(shared_data(), Split::validation).size(), 3250u);
  EXPECT_EQ(load_conll2003(shared_data(), Split::test).size(), 3453u);
  EXPECT_EQ(train[0].words, split_tags("EU rejects German call to boycott British lamb ."));
  EXPECT_EQ(train[0].tags, split_tags("B-ORG O B-MISC O O O B-MISC O O"));
  EXPECT_EQ(train[1].words, split_tags("Peter Blackburn"));
  EXPECT_EQ(train[1].tags, split_tags("B-PER I-PER"));
  EXPECT_EQ(entity_types(train), split_tags("LOC MISC ORG PER"));
  for (const auto& s : train) ASSERT_EQ(s.words.size(), s.tags.size());
}

TEST(DataConll, Conll04Counts) {
  SKIP_WITHOUT_SHARED_DATA();
  const auto train = load_conll04(shared_data(), Split::train);
  const auto dev = load_conll04(shared_data(), Split::validation);
  EXPECT_EQ(train.size(), 922u);
  EXPECT_EQ(dev.size(), 231u);
  EXPECT_EQ(load_conll04(shared_data(), Split::test).size(), 288u);
  // dev[0]: "John Wilkes Booth , who assassinated President Lincoln , was an actor ."
  EXPECT_EQ(dev[0].words.size(), 13u);
  EXPECT_EQ(dev[0].tags, split_tags("B-Peop I-Peop I-Peop O O O B-Peop I-Peop O O O O O"));
  EXPECT_EQ(entity_types(train), split_tags("Loc Org Other Peop"));
}

TEST(DataConll, OntonotesFixtures) {
  const auto sentences = load_ontonotes_ner(fixture_data(), Split::train);
  ASSERT_EQ(sentences.size(), 4u);
  // Files are read in path order: bc/... before nw/...
  EXPECT_EQ(sentences[0].words, split_tags("Good evening from Geneva ."));
  EXPECT_EQ(sentences[0].tags, split_tags("O B-TIME O B-GPE O"));
  EXPECT_EQ(sentences[1].tags, split_tags("O O O B-CARDINAL O O O B-DATE O B-GPE O"));
  EXPECT_EQ(sentences[2].words, split_tags("Anna Berg joined the Oslo office of Nordic Freight in March ."));
  EXPECT_EQ(sentences[2].tags, split_tags("B-PERSON I-PERSON O O B-GPE O O B-ORG I-ORG O B-DATE O"));
  EXPECT_EQ(sentences[3].tags, split_tags("O O O O O O B-CARDINAL O O O"));
  EXPECT_EQ(entity_types(sentences), split_tags("CARDINAL DATE GPE ORG PERSON TIME"));
  // A single file works too.
  const fs::path one = ontonotes_split_dir(fixture_data(), Split::train) /
                       "data/english/annotations/nw/fixture/00/fixture_0001.gold_conll";
  EXPECT_EQ(read_ontonotes_ner(one).size(), 2u);
  expect_error([] { load_ontonotes_ner(fixture_data(), Split::test); },
               {"conll-2012/v4/data/test", "LDC2013T19", "--data-dir"});
}

TEST(DataConll, MalformedInputsNameFileAndLine) {
  expect_error([] { load_conll2003(malformed(), Split::train); }, {"malformed/conll2003/train.txt:9", "B_PER", "IOB2"});
  expect_error([] { load_conll2003(malformed(), Split::validation); },
               {"malformed/conll2003/valid.txt:5", "I-LOC", "IOB1"});
  expect_error([] { load_conll2003(malformed(), Split::test); }, {"malformed/conll2003/test.txt:2", "3 columns"});
  expect_error([] { read_conll04_file(malformed() / "conll04/overlap.json"); },
               {"overlap.json: sentence 1", "overlaps"});
  expect_error([] { read_ontonotes_ner(malformed() / "ontonotes/bad_names.gold_conll"); },
               {"bad_names.gold_conll:2", "never closed"});
  expect_error([] { load_conll2003(fixture_data(), Split::train); },
               {"conll2003/train.txt", "clips.uantwerpen.be", "PTBENCH_DATA"});
}

// ------------------------------------------------------------------ SRL

const std::vector<std::pair<std::int64_t, std::string>> kConll05Fixture = {
    {2, "B-A0 I-A0 B-V B-A1 I-A1 B-AM-TMP I-AM-TMP O"},       {3, "B-A0 B-R-A0 O B-V B-A1 B-AM-TMP O O O O"},
    {6, "B-A0 I-A0 I-A0 I-A0 I-A0 I-A0 B-V B-A1 B-AM-DIR O"}, {5, "B-A1 I-A1 O B-A0 I-A0 B-V O B-C-A1 I-C-A1 I-C-A1 O"},
    {8, "B-A1 I-A1 O O O O O B-AM-MOD B-V B-AM-TMP O"},       {1, "O B-V O"},
};

TEST(DataSrl, Conll2005WordsAndProps) {
  const fs::path dir = fixture_data() / "conll05st";
  const auto examples = read_conll2005_srl(dir / "train.02.words", dir / "train.02.props");
  ASSERT_EQ(examples.size(), kConll05Fixture.size());  // the sentence without predicates gives none
  for (std::size_t i = 0; i < examples.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(examples[i].predicate_index, kConll05Fixture[i].first);
    EXPECT_EQ(examples[i].tags, split_tags(kConll05Fixture[i].second));
    EXPECT_EQ(examples[i].words.size(), examples[i].tags.size());
  }
  EXPECT_EQ(examples[0].words, split_tags("The committee approved the plan on Monday ."));
  EXPECT_EQ(examples[0].predicate_lemma, "approve");
  EXPECT_EQ(examples[1].predicate_lemma, "sell");
  EXPECT_EQ(examples[2].predicate_lemma, "buy");
  EXPECT_TRUE(examples[0].predicate_sense.empty());

  // The same examples from the one-line format P-Tuning v2 reads, and from the combined columns.
  const auto bio = load_srl_bio(fixture_data(), SrlCorpus::conll2005, Split::train);
  ASSERT_EQ(bio.size(), examples.size());
  for (std::size_t i = 0; i < bio.size(); ++i) {
    EXPECT_EQ(bio[i].words, examples[i].words);
    EXPECT_EQ(bio[i].tags, examples[i].tags);
    EXPECT_EQ(bio[i].predicate_index, examples[i].predicate_index);
  }
  const auto combined = read_conll2005_srl_combined(dir / "devel.24.combined", 0, 2);
  ASSERT_EQ(combined.size(), 3u);
  for (std::size_t i = 0; i < combined.size(); ++i) {
    EXPECT_EQ(combined[i].words, examples[i].words);
    EXPECT_EQ(combined[i].tags, examples[i].tags);
    EXPECT_EQ(combined[i].predicate_lemma, examples[i].predicate_lemma);
  }
}

TEST(DataSrl, PtuningV2PredicateMarking) {
  SrlExample e;
  e.words = split_tags("Prices rose sharply .");
  e.predicate_index = 1;
  EXPECT_EQ(e.ptuning_v2_words(), split_tags("Prices rose sharply . [SEP] rose"));
  EXPECT_EQ(kPtuningV2PredicateSeparator, "[SEP]");
}

TEST(DataSrl, Conll2012GoldConll) {
  const auto examples = read_conll2012_srl(ontonotes_split_dir(fixture_data(), Split::train));
  ASSERT_EQ(examples.size(), 4u);  // bc: resume; nw: join, say, open
  EXPECT_EQ(examples[0].predicate_lemma, "resume");
  EXPECT_EQ(examples[0].predicate_sense, "01");
  EXPECT_EQ(examples[0].predicate_index, 5);
  EXPECT_EQ(examples[0].tags,
            split_tags("B-ARG1 I-ARG1 I-ARG1 I-ARG1 I-ARG1 B-V B-ARGM-TMP I-ARGM-TMP B-ARGM-LOC I-ARGM-LOC O"));
  EXPECT_EQ(examples[1].predicate_lemma, "join");
  EXPECT_EQ(examples[1].tags,
            split_tags("B-ARG0 I-ARG0 B-V B-ARG1 I-ARG1 I-ARG1 I-ARG1 I-ARG1 I-ARG1 B-ARGM-TMP I-ARGM-TMP O"));
  EXPECT_EQ(examples[2].predicate_lemma, "say");
  EXPECT_EQ(examples[2].predicate_index, 1);
  EXPECT_EQ(examples[2].tags, split_tags("B-ARG0 B-V B-ARG1 I-ARG1 I-ARG1 I-ARG1 I-ARG1 I-ARG1 I-ARG1 O"));
  EXPECT_EQ(examples[3].predicate_lemma, "open");
  EXPECT_EQ(examples[3].predicate_index, 5);
  EXPECT_EQ(examples[3].tags, split_tags("O O B-ARG0 I-ARG0 B-ARGM-MOD B-V B-ARG1 I-ARG1 I-ARG1 O"));
  EXPECT_EQ(examples[3].ptuning_v2_words().back(), "open");
}

TEST(DataSrl, MalformedInputsNameFileAndLine) {
  const fs::path dir = malformed() / "srl";
  expect_error([&] { read_conll2005_srl(dir / "bad.words", dir / "bad.props"); },
               {"bad.props:8", "1 argument column", "2 predicates"});
  expect_error([] { read_conll2012_srl(malformed() / "ontonotes/bad_args.gold_conll"); },
               {"bad_args.gold_conll:5", "1 argument column but", "2 predicates"});
  expect_error([&] { read_srl_bio_file(dir / "bad_index.txt"); }, {"bad_index.txt:1", "predicate index 4"});
  expect_error([&] { read_srl_bio_file(dir / "bad_count.txt"); }, {"bad_count.txt:1", "3 words but 2 tags"});
  // Words and props files must line up.
  expect_error([&] { read_conll2005_srl(fixture_data() / "conll05st/train.02.words", dir / "bad.props"); },
               {"bad.props:"});
  expect_error([] { load_srl_bio(fixture_data(), SrlCorpus::conll2005, Split::test); },
               {"CoNLL05/conll05.test.wsj.txt", "srlconll", "--data-dir"});
}

// ------------------------------------------------------------------ SQuAD

TEST(DataQa, SquadV2Subset) {
  SKIP_WITHOUT_SHARED_DATA();
  const auto examples = read_squad_file(shared_data() / "squad_v2/dev-v2.0-subset.json");
  EXPECT_EQ(examples.size(), 1124u);
  std::size_t impossible = 0, answers = 0, plausible = 0;
  std::set<std::string> titles, ids;
  for (const auto& e : examples) {
    impossible += e.is_impossible;
    titles.insert(e.title);
    ids.insert(e.id);
    EXPECT_EQ(e.is_impossible, e.answers.empty()) << e.id;
    for (const auto* list : {&e.answers, &e.plausible_answers}) {
      for (const auto& a : *list) {
        ++(list == &e.answers ? answers : plausible);
        EXPECT_TRUE(a.matches_context) << e.id;
        EXPECT_EQ(e.context.substr(a.byte_start, a.text.size()), a.text) << e.id;
      }
    }
  }
  EXPECT_EQ(impossible, 541u);
  EXPECT_EQ(ids.size(), examples.size());
  EXPECT_EQ(titles, (std::set<std::string>{"Normans", "Rhine", "Computational_complexity_theory"}));
  EXPECT_EQ(answers + plausible, 2381u);
  EXPECT_EQ(examples[0].id, "56ddde6b9a695914005b9628");
  EXPECT_EQ(examples[0].question, "In what country is Normandy located?");
  ASSERT_EQ(examples[0].answers.size(), 4u);
  EXPECT_EQ(examples[0].answers[0].text, "France");
  EXPECT_EQ(examples[0].answers[0].answer_start, 159);
}

TEST(DataQa, SquadV11AndErrors) {
  const fs::path dir = ptbench::testing::temp_dir("squad");
  // SQuAD 1.1 layout (no is_impossible); a non-ASCII character before the answer shifts bytes.
  std::ofstream(dir / "dev-v1.1.json")
      << R"({"version": "1.1", "data": [{"title": "Caf\u00e9", "paragraphs": [{"context": "Caf\u00e9 culture spread from Vienna.",)"
      << R"( "qas": [{"id": "q1", "question": "From where?", "answers": [{"text": "Vienna", "answer_start": 25}]}]}]}]})";
  const auto examples = read_squad_file(dir / "dev-v1.1.json");
  ASSERT_EQ(examples.size(), 1u);
  EXPECT_FALSE(examples[0].is_impossible);
  EXPECT_EQ(examples[0].answers[0].byte_start, 26u);
  EXPECT_TRUE(examples[0].answers[0].matches_context);

  std::ofstream(dir / "bad.json")
      << R"({"data": [{"title": "T", "paragraphs": [{"context": "short",)"
      << R"( "qas": [{"id": "q9", "question": "?", "answers": [{"text": "x", "answer_start": 40}]}]}]}]})";
  expect_error([&] { read_squad_file(dir / "bad.json"); }, {"bad.json: question q9", "answer_start", "outside"});
  std::ofstream(dir / "bad2.json") << R"({"data": [{"title": "T", "paragraphs": [{"qas": []}]}]})";
  expect_error([&] { read_squad_file(dir / "bad2.json"); }, {"bad2.json", "data[0].paragraphs[0].context", "missing"});
  SKIP_WITHOUT_SHARED_DATA();
  expect_error([] { load_squad(shared_data(), SquadVersion::v2_0, Split::train); },
               {"squad_v2/train-v2.0.json", "https://rajpurkar.github.io/SQuAD-explorer/dataset/train-v2.0.json"});
}

}  // namespace
}  // namespace ptbench::data
