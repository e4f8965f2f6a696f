// The three tokenizers against ../shared/golden/tokenizers (transformers 4.28 slow tokenizers,
// see the README there): every row of every file must match exactly. Then the offsets, loading
// and error paths the goldens do not cover.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backbones/tokenizers/tokenizer.h"
#include "common/error.h"
#include "common/files.h"
#include "tests/test_support.h"

namespace ptbench::tok {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path vocab_dir() { return ptbench::testing::shared_dir() / "vocab"; }
fs::path golden_file(const std::string& name) {
  return ptbench::testing::golden_dir() / "tokenizers" / name;
}

const Tokenizer& bert_uncased() {
  static const std::unique_ptr<Tokenizer> tokenizer =
      make_wordpiece(vocab_dir() / "bert-base-uncased" / "vocab.txt", /*lower_case=*/true);
  return *tokenizer;
}
const Tokenizer& bert_cased() {
  static const std::unique_ptr<Tokenizer> tokenizer =
      make_wordpiece(vocab_dir() / "bert-base-cased" / "vocab.txt", /*lower_case=*/false);
  return *tokenizer;
}
const Tokenizer& gpt2(bool add_prefix_space) {
  static const std::unique_ptr<Tokenizer> plain = make_byte_bpe(
      vocab_dir() / "gpt2" / "vocab.json", vocab_dir() / "gpt2" / "merges.txt", false, false);
  static const std::unique_ptr<Tokenizer> prefixed = make_byte_bpe(
      vocab_dir() / "gpt2" / "vocab.json", vocab_dir() / "gpt2" / "merges.txt", false, true);
  return add_prefix_space ? *prefixed : *plain;
}
const Tokenizer& roberta_on_gpt2_vocab() {
  static const std::unique_ptr<Tokenizer> tokenizer = make_byte_bpe(
      vocab_dir() / "gpt2" / "vocab.json", vocab_dir() / "gpt2" / "merges.txt", true, false);
  return *tokenizer;
}
const Tokenizer& t5() {
  static const std::unique_ptr<Tokenizer> tokenizer =
      make_sentencepiece(vocab_dir() / "t5" / "spiece.model");
  return *tokenizer;
}

struct Row {
  json value;
  std::int64_t line = 0;
};

std::vector<Row> read_rows(const std::string& name) {
  std::vector<Row> rows;
  for_each_jsonl(golden_file(name), [&](const json& value, std::int64_t line) {
    rows.push_back({value, line});
  });
  return rows;
}

std::vector<std::int64_t> ids_of(const json& array) {
  return array.get<std::vector<std::int64_t>>();
}
std::vector<std::string> strings_of(const json& array) {
  return array.get<std::vector<std::string>>();
}
// word_ids as the goldens write them: null for special tokens.
std::vector<int> word_ids_of(const json& array) {
  std::vector<int> ids;
  for (const json& id : array) ids.push_back(id.is_null() ? -1 : id.get<int>());
  return ids;
}

// Counts the rows whose every field matched; each mismatch is reported with its file and line.
class RowTally {
 public:
  explicit RowTally(std::string file) : file_(std::move(file)) {}
  template <typename Actual, typename Expected>
  void check(const Row& row, const char* field, const Actual& actual, const Expected& expected) {
    if (actual == expected) return;
    row_ok_ = false;
    ADD_FAILURE() << file_ << ":" << row.line << " field " << field << " differs; input "
                  << describe(row.value);
  }
  static std::string describe(const json& row) {
    if (row.contains("text")) return json(row.at("text")).dump();
    if (row.contains("text_a")) return json::array({row.at("text_a"), row.at("text_b")}).dump();
    return row.at("words").dump();
  }
  void end_row() {
    matched_ += row_ok_ ? 1 : 0;
    ++rows_;
    row_ok_ = true;
  }
  void report(std::size_t expected_rows) const {
    std::cout << "[golden tokenizers] " << file_ << ": " << matched_ << "/" << rows_
              << " rows match\n";
    EXPECT_EQ(rows_, expected_rows) << file_ << " does not have the documented number of rows";
    EXPECT_EQ(matched_, rows_) << file_;
  }

 private:
  std::string file_;
  std::size_t rows_ = 0, matched_ = 0;
  bool row_ok_ = true;
};

void check_bert_file(const std::string& name, const Tokenizer& tokenizer) {
  RowTally tally(name);
  for (const Row& row : read_rows(name)) {
    const std::string text = row.value.at("text");
    const std::vector<std::string> tokens = tokenizer.tokenize(text);
    const std::vector<std::int64_t> ids = tokenizer.encode(text).input_ids;
    tally.check(row, "tokens", tokens, strings_of(row.value.at("tokens")));
    tally.check(row, "ids", ids, ids_of(row.value.at("ids")));
    tally.check(row, "ids_no_special", tokenizer.convert_tokens_to_ids(tokens),
                ids_of(row.value.at("ids_no_special")));
    tally.check(row, "decoded", tokenizer.decode(ids, /*skip_special_tokens=*/true),
                row.value.at("decoded").get<std::string>());
    tally.end_row();
  }
  tally.report(311);
}

TEST(TokenizerGolden, BertUncasedMatchesEveryRow) {
  check_bert_file("bert_uncased.jsonl", bert_uncased());
}

TEST(TokenizerGolden, BertCasedMatchesEveryRow) {
  check_bert_file("bert_cased.jsonl", bert_cased());
}

TEST(TokenizerGolden, Gpt2MatchesEveryRowInBothPrefixSpaceModes) {
  RowTally tally("gpt2_bpe.jsonl");
  for (const Row& row : read_rows("gpt2_bpe.jsonl")) {
    const std::string text = row.value.at("text");
    for (const bool prefix_space : {false, true}) {
      const std::string suffix = prefix_space ? "_prefix_space" : "";
      const Tokenizer& tokenizer = gpt2(prefix_space);
      const std::vector<std::int64_t> ids = tokenizer.encode(text).input_ids;
      tally.check(row, ("tokens" + suffix).c_str(), tokenizer.tokenize(text),
                  strings_of(row.value.at("tokens" + suffix)));
      tally.check(row, ("ids" + suffix).c_str(), ids, ids_of(row.value.at("ids" + suffix)));
      tally.check(row, ("decoded" + suffix).c_str(), tokenizer.decode(ids, true),
                  row.value.at("decoded" + suffix).get<std::string>());
    }
    tally.end_row();
  }
  tally.report(311);
}

TEST(TokenizerGolden, T5MatchesEveryRow) {
  RowTally tally("t5_spm.jsonl");
  for (const Row& row : read_rows("t5_spm.jsonl")) {
    const std::string text = row.value.at("text");
    const std::vector<std::string> tokens = t5().tokenize(text);
    const std::vector<std::int64_t> ids = t5().encode(text).input_ids;
    tally.check(row, "tokens", tokens, strings_of(row.value.at("tokens")));
    tally.check(row, "ids", ids, ids_of(row.value.at("ids")));
    tally.check(row, "ids_no_special", t5().convert_tokens_to_ids(tokens),
                ids_of(row.value.at("ids_no_special")));
    tally.check(row, "decoded", t5().decode(ids, true), row.value.at("decoded").get<std::string>());
    tally.end_row();
  }
  tally.report(311);
}

TEST(TokenizerGolden, BertPairsMatchEveryTruncationStrategy) {
  RowTally tally("bert_pairs.jsonl");
  std::size_t untruncatable = 0;
  for (const Row& row : read_rows("bert_pairs.jsonl")) {
    const std::string text_a = row.value.at("text_a");
    const std::string text_b = row.value.at("text_b");
    for (const char* strategy : {"longest_first", "only_second", "only_first"}) {
      const json& expected = row.value.at(strategy);
      const Encoding encoding = bert_uncased().encode(
          text_a, text_b, 32, parse_truncation(strategy), Padding::max_length);
      const std::string field = std::string(strategy) + ".";
      tally.check(row, (field + "input_ids").c_str(), encoding.input_ids,
                  ids_of(expected.at("input_ids")));
      tally.check(row, (field + "token_type_ids").c_str(), encoding.token_type_ids,
                  ids_of(expected.at("token_type_ids")));
      tally.check(row, (field + "attention_mask").c_str(), encoding.attention_mask,
                  ids_of(expected.at("attention_mask")));
      tally.check(row, (field + "length").c_str(), encoding.length,
                  expected.at("length").get<std::size_t>());
      // error_logged: null, or the list of messages transformers logged.
      const json& logged = expected.at("error_logged");
      const std::string expected_error =
          logged.is_null() ? std::string() : logged.at(0).get<std::string>();
      tally.check(row, (field + "error_logged").c_str(), encoding.truncation_error, expected_error);
      untruncatable += expected_error.empty() ? 0 : 1;

      // The offsets path must give the same encoding.
      const Encoding with_offsets = bert_uncased().encode_with_offsets(
          text_a, text_b, 32, parse_truncation(strategy), Padding::max_length);
      tally.check(row, (field + "input_ids (encode_with_offsets)").c_str(), with_offsets.input_ids,
                  encoding.input_ids);
    }
    tally.end_row();
  }
  tally.report(50);
  EXPECT_EQ(untruncatable, 20u + 24u) << "the README counts 20 only_second and 24 only_first rows";
}

TEST(TokenizerGolden, BertNerAlignmentMatchesEveryRow) {
  RowTally tally("bert_ner_alignment.jsonl");
  for (const Row& row : read_rows("bert_ner_alignment.jsonl")) {
    const std::vector<std::string> words = strings_of(row.value.at("words"));
    const std::vector<std::string> tags = strings_of(row.value.at("ner_tags"));
    const Encoding uncased = bert_uncased().encode_words(words);
    tally.check(row, "input_ids", uncased.input_ids, ids_of(row.value.at("input_ids")));
    std::vector<std::string> tokens;
    for (const std::int64_t id : uncased.input_ids)
      tokens.push_back(bert_uncased().id_to_token(id));
    tally.check(row, "tokens", tokens, strings_of(row.value.at("tokens")));
    tally.check(row, "word_ids", uncased.word_ids, word_ids_of(row.value.at("word_ids")));
    // The usual HF NER recipe: the word's label on its first sub-token, -100 elsewhere.
    json labels = json::array();
    for (std::size_t i = 0; i < uncased.word_ids.size(); ++i) {
      const int word = uncased.word_ids[i];
      const bool first_subtoken = word >= 0 && (i == 0 || uncased.word_ids[i - 1] != word);
      labels.push_back(first_subtoken ? json(tags.at(static_cast<std::size_t>(word))) : json(-100));
    }
    tally.check(row, "first_subtoken_labels", labels, row.value.at("first_subtoken_labels"));

    const Encoding cased = bert_cased().encode_words(words);
    tally.check(row, "cased_input_ids", cased.input_ids, ids_of(row.value.at("cased_input_ids")));
    tally.check(row, "cased_word_ids", cased.word_ids, word_ids_of(row.value.at("cased_word_ids")));
    tally.end_row();
  }
  tally.report(50);
}

// Every golden text through every tokenizer: tokenize_with_offsets agrees with tokenize, the
// offsets lie inside the text in order, and encode_with_offsets agrees with encode.
TEST(TokenizerGolden, OffsetsAreConsistentOnEveryGoldenText) {
  const std::vector<Row> rows = read_rows("bert_uncased.jsonl");
  ASSERT_FALSE(rows.empty());
  const std::vector<std::pair<const char*, const Tokenizer*>> tokenizers = {
      {"bert uncased", &bert_uncased()},
      {"bert cased", &bert_cased()},
      {"gpt2", &gpt2(false)},
      {"gpt2 prefix space", &gpt2(true)},
      {"t5", &t5()},
  };
  for (const auto& [name, tokenizer] : tokenizers) {
    for (const Row& row : rows) {
      const std::string text = row.value.at("text");
      const std::vector<TokenWithOffset> pieces = tokenizer->tokenize_with_offsets(text);
      std::vector<std::string> tokens;
      std::size_t previous_begin = 0;
      for (const TokenWithOffset& piece : pieces) {
        tokens.push_back(piece.token);
        EXPECT_LE(piece.begin, piece.end) << name << " line " << row.line;
        EXPECT_LE(piece.end, text.size()) << name << " line " << row.line;
        EXPECT_GE(piece.begin, previous_begin) << name << " line " << row.line;
        previous_begin = piece.begin;
      }
      EXPECT_EQ(tokens, tokenizer->tokenize(text)) << name << " line " << row.line;
      const Encoding plain = tokenizer->encode(text);
      const Encoding with_offsets =
          tokenizer->encode_with_offsets(text, std::nullopt, 0, Truncation::none, Padding::none);
      EXPECT_EQ(with_offsets.input_ids, plain.input_ids) << name << " line " << row.line;
      EXPECT_EQ(with_offsets.offsets.size(), plain.input_ids.size())
          << name << " line " << row.line;
    }
  }
}

std::vector<std::string> covered_text(std::string_view text,
                                      const std::vector<TokenWithOffset>& pieces) {
  std::vector<std::string> covered;
  for (const TokenWithOffset& piece : pieces) {
    covered.emplace_back(text.substr(piece.begin, piece.end - piece.begin));
  }
  return covered;
}

TEST(TokenizerOffsets, BertUncasedCoversTheOriginalCharacters) {
  const std::string text = "Hello, World! naïve";
  const auto pieces = bert_uncased().tokenize_with_offsets(text);
  std::vector<std::string> tokens;
  for (const auto& piece : pieces) tokens.push_back(piece.token);
  EXPECT_EQ(tokens, (std::vector<std::string>{"hello", ",", "world", "!", "naive"}));
  EXPECT_EQ(covered_text(text, pieces),
            (std::vector<std::string>{"Hello", ",", "World", "!", "naïve"}));
}

TEST(TokenizerOffsets, BertUncasedSubwordsOfAccentedWords) {
  // Golden row: "Crème brûlée à la carte" -> cr ##eme br ##ule ##e a la cart ##e.
  const std::string text = "Crème brûlée à la carte";
  const auto pieces = bert_uncased().tokenize_with_offsets(text);
  EXPECT_EQ(covered_text(text, pieces),
            (std::vector<std::string>{"Cr", "ème", "br", "ûlé", "e", "à", "la", "cart", "e"}));
  // A combining accent (e + U+0301) belongs to the token of its base letter.
  const std::string combining = "cafe\xCC\x81 ok";
  const auto combining_pieces = bert_uncased().tokenize_with_offsets(combining);
  ASSERT_EQ(combining_pieces.size(), 2u);
  EXPECT_EQ(combining_pieces[0].token, "cafe");
  EXPECT_EQ(covered_text(combining, combining_pieces)[0], "cafe\xCC\x81");
}

TEST(TokenizerOffsets, BertCasedAsciiTokensAreTheirSubstrings) {
  const std::string text = "  The quick-brown fox's [CLS] jumps\tover 12,345 dogs.";
  for (const auto& piece : bert_cased().tokenize_with_offsets(text)) {
    std::string token = piece.token;
    if (token.starts_with("##")) token.erase(0, 2);
    EXPECT_EQ(text.substr(piece.begin, piece.end - piece.begin), token);
  }
}

TEST(TokenizerOffsets, Gpt2LeavesTheFoldedSpaceOut) {
  const std::string text = "Hello world, café";
  for (const bool prefix_space : {false, true}) {
    const auto pieces = gpt2(prefix_space).tokenize_with_offsets(text);
    EXPECT_EQ(covered_text(text, pieces), (std::vector<std::string>{"Hello", "world", ",", "café"}))
        << "add_prefix_space=" << prefix_space;
  }
  // Byte-level tokens can split a character: "😀" is "ĠðŁĺ" + "Ģ" (golden row); their offsets
  // split its four bytes the same way and together cover it.
  const std::string emoji = "emoji \xF0\x9F\x98\x80";
  const auto pieces = gpt2(false).tokenize_with_offsets(emoji);
  ASSERT_EQ(pieces.size(), 4u);
  EXPECT_EQ(pieces[2].token, "\xC4\xA0\xC3\xB0\xC5\x81\xC4\xBA");  // "ĠðŁĺ"
  EXPECT_EQ(covered_text(emoji, pieces),
            (std::vector<std::string>{"em", "oji", "\xF0\x9F\x98", "\x80"}));
}

TEST(TokenizerOffsets, T5CoversWordsWithoutTheirSpace) {
  const std::string text = "Hello world, café </s> end";
  const auto pieces = t5().tokenize_with_offsets(text);
  std::vector<std::string> tokens;
  for (const auto& piece : pieces) tokens.push_back(piece.token);
  EXPECT_EQ(tokens, t5().tokenize(text));
  const std::vector<std::string> covered = covered_text(text, pieces);
  // "▁Hello" "▁world" "," "▁café" "</s>" "▁end" (each a single piece in T5's vocabulary)
  EXPECT_EQ(covered, (std::vector<std::string>{"Hello", "world", ",", "café", "</s>", "end"}));
}

TEST(TokenizerOffsets, PairEncodingCarriesOffsetsAndSequenceIds) {
  const std::string question = "Who wrote it?";
  const std::string context = "It was written by Ann Smith in 1990.";
  const Encoding encoding = bert_uncased().encode_with_offsets(
      question, context, 24, Truncation::only_second, Padding::max_length);
  ASSERT_EQ(encoding.input_ids.size(), 24u);
  ASSERT_EQ(encoding.offsets.size(), 24u);
  ASSERT_EQ(encoding.sequence_ids.size(), 24u);
  EXPECT_EQ(encoding.sequence_ids.front(), -1);
  for (std::size_t i = 0; i < encoding.length; ++i) {
    const int sequence = encoding.sequence_ids[i];
    if (sequence < 0) continue;
    const std::string& source = sequence == 0 ? question : context;
    const auto [begin, end] = encoding.offsets[i];
    std::string covered = source.substr(begin, end - begin);
    std::transform(covered.begin(), covered.end(), covered.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string token = bert_uncased().id_to_token(encoding.input_ids[i]);
    if (token.starts_with("##")) token.erase(0, 2);
    EXPECT_EQ(covered, token) << "position " << i;
  }
  // Padding carries no offsets and no sequence.
  EXPECT_LT(encoding.length, 24u);
  // Truncating the context keeps the offsets of the tokens that remain.
  const Encoding truncated = bert_uncased().encode_with_offsets(
      question, context, 10, Truncation::only_second, Padding::none);
  ASSERT_EQ(truncated.input_ids.size(), 10u);
  for (std::size_t i = 0; i < 9; ++i) EXPECT_EQ(truncated.offsets[i], encoding.offsets[i]);
  EXPECT_EQ(encoding.sequence_ids.back(), -1);
  EXPECT_EQ(encoding.offsets.back(), (std::pair<std::size_t, std::size_t>{0, 0}));
}

TEST(TokenizerEncoding, SingleTextTruncationKeepsTheSpecialTokens) {
  const Encoding encoding = bert_uncased().encode("one two three four five six", std::nullopt, 5);
  EXPECT_EQ(encoding.input_ids, (std::vector<std::int64_t>{101, 2028, 2048, 2093, 102}));
  EXPECT_TRUE(encoding.truncation_error.empty());
  // Nothing can be removed to reach 1: transformers logs and leaves the text as it is.
  const Encoding too_short = bert_uncased().encode("one two", std::nullopt, 1);
  EXPECT_EQ(too_short.input_ids.size(), 4u);
  EXPECT_EQ(too_short.truncation_error,
            "We need to remove 3 to truncate the input but the first sequence has a length 2. ");
}

TEST(TokenizerEncoding, PaddingFillsToMaxLength) {
  const Encoding encoding = bert_uncased().encode("hello", std::string_view("world"), 8,
                                                  Truncation::longest_first, Padding::max_length);
  EXPECT_EQ(encoding.input_ids, (std::vector<std::int64_t>{101, 7592, 102, 2088, 102, 0, 0, 0}));
  EXPECT_EQ(encoding.token_type_ids, (std::vector<std::int64_t>{0, 0, 0, 1, 1, 0, 0, 0}));
  EXPECT_EQ(encoding.attention_mask, (std::vector<std::int64_t>{1, 1, 1, 1, 1, 0, 0, 0}));
  EXPECT_EQ(encoding.length, 5u);
  EXPECT_THROW(
      gpt2(false).encode("hello", std::nullopt, 8, Truncation::longest_first, Padding::max_length),
      ptbench::Error);  // GPT-2 has no padding token
}

TEST(TokenizerEncoding, EncodeWordsTruncatesAndKeepsWordIds) {
  const Encoding encoding = bert_uncased().encode_words({"Nadim", "Ladki", "won"}, 4);
  EXPECT_EQ(encoding.input_ids, (std::vector<std::int64_t>{101, 23233, 5714, 102}));
  EXPECT_EQ(encoding.word_ids, (std::vector<int>{-1, 0, 0, -1}));
  // GPT-2 gives every pre-split word its prefix space.
  EXPECT_EQ(gpt2(false).encode_words({"Hello", "world"}).input_ids,
            gpt2(false).encode(" Hello world").input_ids);
}

TEST(TokenizerEncoding, RobertaLayoutOnGpt2Vocabulary) {
  // The golden RoBERTa inputs are GPT-2 ids wrapped as [0] + ids + [2] (golden README).
  const Tokenizer& roberta = roberta_on_gpt2_vocab();
  const std::vector<std::int64_t> a = gpt2(false).encode("Hello world").input_ids;
  const std::vector<std::int64_t> b = gpt2(false).encode("Bye").input_ids;
  std::vector<std::int64_t> single{0};
  single.insert(single.end(), a.begin(), a.end());
  single.push_back(2);
  EXPECT_EQ(roberta.encode("Hello world").input_ids, single);
  std::vector<std::int64_t> pair = single;
  pair.push_back(2);
  pair.insert(pair.end(), b.begin(), b.end());
  pair.push_back(2);
  const Encoding encoding = roberta.encode("Hello world", std::string_view("Bye"));
  EXPECT_EQ(encoding.input_ids, pair);
  EXPECT_EQ(encoding.token_type_ids, std::vector<std::int64_t>(pair.size(), 0));
  EXPECT_EQ(roberta.special_tokens().pad, 1);
  EXPECT_EQ(roberta.special_tokens().mask, 50264);
  EXPECT_EQ(roberta.vocab_size(), 50265u);
  EXPECT_EQ(roberta.decode(encoding.input_ids, true), "Hello worldBye");
  // <mask> keeps whole and takes the space before it (AddedToken lstrip=True).
  EXPECT_EQ(roberta.tokenize("a <mask> b"), (std::vector<std::string>{"a", "<mask>", "Ġb"}));
}

TEST(TokenizerEncoding, T5SentinelsAndEos) {
  EXPECT_EQ(t5().vocab_size(), 32100u);
  const std::vector<std::int64_t> ids = t5().encode("<extra_id_0> x <extra_id_99>").input_ids;
  EXPECT_EQ(ids.front(), 32099);
  EXPECT_EQ(ids.at(ids.size() - 2), 32000);
  EXPECT_EQ(ids.back(), 1);
  EXPECT_EQ(t5().id_to_token(32099), "<extra_id_0>");
  EXPECT_EQ(t5().id_to_token(32000), "<extra_id_99>");
  // </s> is appended once, also to a text that already ends with it.
  EXPECT_EQ(t5().encode("hi </s>").input_ids, t5().encode("hi").input_ids);
  // Not skipped, special tokens are written as they are; T5Tokenizer.convert_tokens_to_string
  // puts its space before the decoded run, not between it and the special token.
  EXPECT_EQ(t5().decode(t5().encode("hi <extra_id_3> there").input_ids, false),
            "hi<extra_id_3> there</s>");
  EXPECT_EQ(t5().decode(t5().encode("hi <extra_id_3> there").input_ids, true), "hi there");
}

TEST(TokenizerLoading, LoadTokenizerPicksTheFilesAndCasing) {
  const fs::path root = ptbench::testing::temp_dir("tokenizer-load");
  const fs::path cased = root / "bert-base-cased";
  fs::create_directories(cased);
  fs::create_symlink(vocab_dir() / "bert-base-cased" / "vocab.txt", cased / "vocab.txt");
  EXPECT_EQ(load_tokenizer(cased)->tokenize("Hello"), (std::vector<std::string>{"Hello"}));

  const fs::path configured = root / "model";
  fs::create_directories(configured);
  fs::create_symlink(vocab_dir() / "bert-base-uncased" / "vocab.txt", configured / "vocab.txt");
  write_file_atomic(configured / "tokenizer_config.json", R"({"do_lower_case": true})");
  EXPECT_EQ(load_tokenizer(configured)->tokenize("Hello"), (std::vector<std::string>{"hello"}));

  const fs::path bpe = root / "gpt2";
  fs::create_directories(bpe);
  fs::create_symlink(vocab_dir() / "gpt2" / "vocab.json", bpe / "vocab.json");
  fs::create_symlink(vocab_dir() / "gpt2" / "merges.txt", bpe / "merges.txt");
  EXPECT_EQ(load_tokenizer(bpe)->kind(), "bpe");
  EXPECT_EQ(load_tokenizer(bpe)->num_special_tokens_to_add(false), 0u);

  const fs::path spm = root / "t5";
  fs::create_directories(spm);
  fs::create_symlink(vocab_dir() / "t5" / "spiece.model", spm / "spiece.model");
  EXPECT_EQ(load_tokenizer(spm)->kind(), "sentencepiece");

  const fs::path empty = root / "empty";
  fs::create_directories(empty);
  try {
    load_tokenizer(empty);
    ADD_FAILURE() << "expected an error";
  } catch (const ptbench::Error& error) {
    EXPECT_NE(std::string(error.what()).find(empty.string()), std::string::npos) << error.what();
  }
}

TEST(TokenizerLoading, BadFilesAreErrorsNamingTheFile) {
  const fs::path root = ptbench::testing::temp_dir("tokenizer-errors");
  const auto expect_error_mentioning = [](const auto& make, const std::string& needle) {
    try {
      make();
      ADD_FAILURE() << "expected an error mentioning " << needle;
    } catch (const ptbench::Error& error) {
      EXPECT_NE(std::string(error.what()).find(needle), std::string::npos) << error.what();
    }
  };
  expect_error_mentioning([&] { make_wordpiece(root / "missing.txt", true); }, "missing.txt");
  expect_error_mentioning([&] { make_sentencepiece(root / "missing.model"); }, "missing.model");

  write_file_atomic(root / "vocab.json", R"({"a": 0, "b": 1, "ab": 2})");
  write_file_atomic(root / "merges.txt", "#version: 0.2\na b\nab\n");
  expect_error_mentioning(
      [&] { make_byte_bpe(root / "vocab.json", root / "merges.txt", false, false); },
      (root / "merges.txt").string() + ":3");

  write_file_atomic(root / "bad.json", R"({"a": "zero"})");
  write_file_atomic(root / "ok_merges.txt", "#version: 0.2\na b\n");
  expect_error_mentioning(
      [&] { make_byte_bpe(root / "bad.json", root / "ok_merges.txt", false, false); }, "bad.json");
  expect_error_mentioning([] { parse_truncation("shortest_first"); }, "shortest_first");
}

}  // namespace
}  // namespace ptbench::tok
