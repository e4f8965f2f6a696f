// The torch-free half of pretraining: MLM masking statistics (HF DataCollatorForLanguageModeling
// semantics), whole-word masking, T5 span corruption (lengths from the T5 code base, exact
// inversion), and the corpus stream (packing, held-out shard, exact resume).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include <boost/iostreams/filter/gzip.hpp>
#include <boost/iostreams/filtering_stream.hpp>

#include "backbones/pretrain/corpus.h"
#include "backbones/pretrain/masking.h"
#include "backbones/pretrain/span_corruption.h"
#include "backbones/tokenizers/tokenizer.h"
#include "common/error.h"
#include "tests/test_support.h"

namespace ptbench::pretrain {
namespace {

namespace fs = std::filesystem;

const tok::Tokenizer& bert_uncased() {
  static const std::unique_ptr<tok::Tokenizer> tokenizer =
      tok::make_wordpiece(testing::shared_dir() / "vocab" / "bert-base-uncased" / "vocab.txt", true);
  return *tokenizer;
}

// ---------------------------------------------------------------------------------------------
// Masking

TEST(MlmMasking, StatisticsMatchBertOnALargeSample) {
  const tok::Tokenizer& tokenizer = bert_uncased();
  const MlmMasker masker = MlmMasker::for_tokenizer(tokenizer, MaskingOptions{});
  const std::int64_t cls = tokenizer.special_tokens().cls, sep = tokenizer.special_tokens().sep;
  const std::int64_t pad = tokenizer.special_tokens().pad, mask = tokenizer.special_tokens().mask;
  Rng data(7);
  std::int64_t eligible = 0, selected = 0, masked = 0, randomised = 0, kept = 0;
  std::int64_t special_positions = 0;
  for (int sequence = 0; sequence < 2000; ++sequence) {
    // [CLS] 120 words [SEP] 6 × [PAD]: ordinary ids from 1996 up ("the" …), away from specials.
    std::vector<std::int64_t> ids{cls};
    for (int i = 0; i < 120; ++i) ids.push_back(1996 + static_cast<std::int64_t>(data.below(28000)));
    ids.push_back(sep);
    for (int i = 0; i < 6; ++i) ids.push_back(pad);
    const std::vector<std::int64_t> original = ids;
    std::vector<std::int64_t> labels(ids.size());
    Rng rng = Rng::derived({1, static_cast<std::uint64_t>(sequence)});
    masker.mask(ids, labels, rng);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const bool is_special = original[i] == cls || original[i] == sep || original[i] == pad;
      if (is_special) {
        ++special_positions;
        EXPECT_EQ(labels[i], kIgnoreLabel) << "special token selected at " << i;
        EXPECT_EQ(ids[i], original[i]);
        continue;
      }
      ++eligible;
      if (labels[i] == kIgnoreLabel) {
        EXPECT_EQ(ids[i], original[i]) << "an unselected position changed";
        continue;
      }
      EXPECT_EQ(labels[i], original[i]);
      ++selected;
      if (ids[i] == mask) {
        ++masked;
      } else if (ids[i] != original[i]) {
        ++randomised;
      } else {
        ++kept;
      }
    }
  }
  ASSERT_GT(special_positions, 0);
  const double selected_share = static_cast<double>(selected) / static_cast<double>(eligible);
  EXPECT_NEAR(selected_share, 0.15, 0.005);
  EXPECT_NEAR(static_cast<double>(masked) / static_cast<double>(selected), 0.80, 0.01);
  EXPECT_NEAR(static_cast<double>(randomised) / static_cast<double>(selected), 0.10, 0.01);
  EXPECT_NEAR(static_cast<double>(kept) / static_cast<double>(selected), 0.10, 0.01);
}

TEST(MlmMasking, MaskIdsAndSpecialsNeverSelected) {
  const tok::Tokenizer& tokenizer = bert_uncased();
  const MlmMasker masker = MlmMasker::for_tokenizer(tokenizer, MaskingOptions{.mask_probability = 0.9});
  const tok::SpecialTokens& s = tokenizer.special_tokens();
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 200; ++i) ids.insert(ids.end(), {s.cls, s.sep, s.pad, s.unk, s.mask});
  std::vector<std::int64_t> labels(ids.size());
  Rng rng(3);
  masker.mask(ids, labels, rng);
  for (std::int64_t label : labels) EXPECT_EQ(label, kIgnoreLabel);
}

TEST(MlmMasking, WholeWordMaskingTakesWordsWhole) {
  const tok::Tokenizer& tokenizer = bert_uncased();
  const MlmMasker masker = MlmMasker::for_tokenizer(tokenizer, MaskingOptions{.whole_word = true});
  const std::string text =
      "unaffordable tokenization of extraordinarily long hyphenated words demonstrates subword grouping in "
      "philosophical anthropology and unbelievably complicated microarchitectures";
  std::vector<std::int64_t> body = tokenizer.encode_ids(text);
  std::vector<std::string> pieces = tokenizer.tokenize(text);
  ASSERT_EQ(body.size(), pieces.size());
  std::int64_t total_selected = 0, total_length = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<std::int64_t> ids{tokenizer.special_tokens().cls};
    ids.insert(ids.end(), body.begin(), body.end());
    ids.push_back(tokenizer.special_tokens().sep);
    std::vector<std::int64_t> labels(ids.size());
    Rng rng(static_cast<std::uint64_t>(trial));
    masker.mask(ids, labels, rng);
    EXPECT_EQ(labels.front(), kIgnoreLabel);
    EXPECT_EQ(labels.back(), kIgnoreLabel);
    std::int64_t selected = 0;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      const bool chosen = labels[i + 1] != kIgnoreLabel;
      selected += chosen;
      // A continuation piece is chosen exactly when the piece before it is.
      if (pieces[i].rfind("##", 0) == 0) EXPECT_EQ(chosen, labels[i] != kIgnoreLabel) << pieces[i];
    }
    // HF: words are taken while the count stays within round(0.15 · length), at least 1.
    EXPECT_LE(selected, std::llround(0.15 * static_cast<double>(ids.size())));
    EXPECT_GE(selected, 1);
    total_selected += selected;
    total_length += static_cast<std::int64_t>(ids.size());
  }
  EXPECT_NEAR(static_cast<double>(total_selected) / static_cast<double>(total_length), 0.15, 0.02);
}

TEST(MlmMasking, OptionsAreValidated) {
  EXPECT_THROW(MaskingOptions{.mask_probability = 0}.validate(), Error);
  EXPECT_THROW((MaskingOptions{.mask_token_share = 0.95, .random_token_share = 0.1}.validate()), Error);
}

// ---------------------------------------------------------------------------------------------
// Span corruption

TEST(SpanCorruption, LengthsMatchTheT5CodeBase) {
  // t5.data.preprocessors.random_spans_helper / HF run_t5_mlm_flax compute_input_and_target_lengths:
  // inputs_length 512 at density 0.15, mean span 3 → 568 raw tokens, 114 targets.
  const SpanCorruptionLengths l512 = span_corruption_lengths(512, {});
  EXPECT_EQ(l512.raw_tokens, 568);
  EXPECT_EQ(l512.inputs, 512);
  EXPECT_EQ(l512.targets, 114);
  // 128: 141 raw tokens → 21 noise in 7 spans: 120 + 7 + 1 = 128 inputs, 21 + 7 + 1 = 29 targets.
  const SpanCorruptionLengths l128 = span_corruption_lengths(128, {});
  EXPECT_EQ(l128.raw_tokens, 141);
  EXPECT_EQ(l128.inputs, 128);
  EXPECT_EQ(l128.targets, 29);
}

TEST(SpanCorruption, NoiseMaskHasTheStatedShape) {
  for (std::int64_t length : {2, 10, 57, 141, 568}) {
    for (std::uint64_t seed = 0; seed < 50; ++seed) {
      Rng rng(seed);
      const std::vector<bool> noise = random_spans_noise_mask(length, {}, rng);
      ASSERT_EQ(static_cast<std::int64_t>(noise.size()), length);
      const std::int64_t noise_tokens = std::count(noise.begin(), noise.end(), true);
      const std::int64_t expected_noise =
          std::min<std::int64_t>(std::max<std::int64_t>(std::llround(0.15 * static_cast<double>(length)), 1), length - 1);
      EXPECT_EQ(noise_tokens, expected_noise) << length;
      std::int64_t spans = 0;
      for (std::int64_t i = 0; i < length; ++i) spans += noise[i] && (i == 0 || !noise[i - 1]);
      EXPECT_EQ(spans, std::max<std::int64_t>(1, std::llround(static_cast<double>(expected_noise) / 3.0))) << length;
      EXPECT_FALSE(noise.front());  // starts with a kept span
      EXPECT_TRUE(noise.back());    // ends with a noise span
    }
  }
}

TEST(SpanCorruption, HandWorkedExample) {
  // The T5 paper's Figure 2 sentence, "Thank you for inviting me to your party last week ."
  const std::vector<std::int64_t> text{10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
  const std::vector<bool> noise{false, false, true, true, false, false, false, false, true, false, false};
  const CorruptedSpans out = corrupt_spans(text, noise, 32099, 100, 1);
  EXPECT_EQ(out.inputs, (std::vector<std::int64_t>{10, 11, 32099, 14, 15, 16, 17, 32098, 19, 20, 1}));
  EXPECT_EQ(out.targets, (std::vector<std::int64_t>{32099, 12, 13, 32098, 18, 1}));
}

TEST(SpanCorruption, InputsAndTargetsReconstructTheText) {
  const SpanCorruptionLengths lengths = span_corruption_lengths(128, {});
  Rng data(11);
  for (std::uint64_t trial = 0; trial < 300; ++trial) {
    std::vector<std::int64_t> tokens;
    for (std::int64_t i = 0; i < lengths.raw_tokens; ++i) tokens.push_back(2 + static_cast<std::int64_t>(data.below(31998)));
    Rng rng(trial);
    const CorruptedSpans out = corrupt_spans(tokens, random_spans_noise_mask(lengths.raw_tokens, {}, rng), 32099, 100, 1);
    EXPECT_EQ(static_cast<std::int64_t>(out.inputs.size()), lengths.inputs);
    EXPECT_EQ(static_cast<std::int64_t>(out.targets.size()), lengths.targets);
    EXPECT_EQ(out.inputs.back(), 1);
    EXPECT_EQ(out.targets.back(), 1);
    EXPECT_EQ(out.targets.front(), 32099);
    EXPECT_EQ(merge_spans(out.inputs, out.targets, 32099, 100, 1), tokens);
  }
}

TEST(SpanCorruption, MismatchedPairsAreRefused) {
  EXPECT_THROW(merge_spans({5, 32099, 1}, {32099, 7, 32098, 8, 1}, 32099, 100, 1), Error);
  EXPECT_THROW(merge_spans({5, 32098, 1}, {32099, 7, 1}, 32099, 100, 1), Error);
}

// ---------------------------------------------------------------------------------------------
// Corpus stream

void write_gz(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream file(path, std::ios::binary);
  boost::iostreams::filtering_ostream out;
  out.push(boost::iostreams::gzip_compressor());
  out.push(file);
  out << text;
}

// A corpus of two sources: "alpha" with two shards, "beta" with one. Every word is unique per
// shard and document so chunks can be traced back.
fs::path make_corpus(const std::string& name) {
  const fs::path root = testing::temp_dir(name);
  auto shard_text = [](const std::string& tag, int documents) {
    std::string text;
    for (int d = 0; d < documents; ++d) {
      text += tag + " document " + std::to_string(d) + "\n";
      for (int p = 0; p < 3; ++p) {
        for (int w = 0; w < 9; ++w) text += "the word " + std::to_string(d * 100 + p * 10 + w) + " of " + tag + " ";
        text += "\n";
      }
      text += "\n";
    }
    return text;
  };
  write_gz(root / "alpha" / "0000.txt.gz", shard_text("alpha", 6));
  write_gz(root / "alpha" / "0001.txt.gz", shard_text("gamma", 7));
  write_gz(root / "beta" / "0000.txt.gz", shard_text("beta", 5));
  return root;
}

// The separator-joined token stream of a shard, computed directly from its text.
std::vector<std::int32_t> expected_tokens(const fs::path& shard, std::int64_t separator) {
  std::vector<std::int32_t> tokens;
  std::ifstream file(shard, std::ios::binary);
  boost::iostreams::filtering_istream in;
  in.push(boost::iostreams::gzip_decompressor());
  in.push(file);
  std::string line;
  bool open = false;
  while (std::getline(in, line)) {
    if (line.empty()) {
      if (open) tokens.push_back(static_cast<std::int32_t>(separator));
      open = false;
      continue;
    }
    for (std::int64_t id : bert_uncased().encode_ids(line)) tokens.push_back(static_cast<std::int32_t>(id));
    open = true;
  }
  if (open) tokens.push_back(static_cast<std::int32_t>(separator));
  return tokens;
}

TEST(CorpusStream, HeldOutShardIsNeverTrainedOn) {
  const fs::path root = make_corpus("corpus-list");
  const CorpusShards shards = list_corpus_shards(root, {}, "alpha");
  EXPECT_EQ(shards.heldout, root / "alpha" / "0000.txt.gz");
  ASSERT_EQ(shards.train.size(), 2u);
  EXPECT_EQ(shards.train[0], root / "alpha" / "0001.txt.gz");
  EXPECT_EQ(shards.train[1], root / "beta" / "0000.txt.gz");
  EXPECT_THROW(list_corpus_shards(root, {}, "delta"), Error);
  EXPECT_THROW(list_corpus_shards(root / "nowhere", {}, "alpha"), Error);
  EXPECT_THROW(list_corpus_shards(root, {"beta"}, "beta"), Error);  // nothing left to train on
}

TEST(CorpusStream, PackingCutsTheDocumentStreamIntoFullChunks) {
  const fs::path root = make_corpus("corpus-pack");
  const fs::path shard = root / "beta" / "0000.txt.gz";
  const std::int64_t sep = bert_uncased().special_tokens().sep;
  const std::vector<std::int32_t> expected = expected_tokens(shard, sep);
  // One shard, no shuffling: the chunks, concatenated, are the stream (wrapping at the end).
  PackedStream stream(root, {shard}, {1}, bert_uncased(), PackingOptions{.chunk_tokens = 37, .document_separator = sep,
                                                                       .shuffle_buffer = 1, .seed = 0});
  std::vector<std::int32_t> seen;
  while (seen.size() < expected.size() * 2 + 100) {
    const std::vector<std::int32_t> chunk = stream.next();
    ASSERT_EQ(chunk.size(), 37u);
    seen.insert(seen.end(), chunk.begin(), chunk.end());
  }
  for (std::size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], expected[i % expected.size()]) << "token " << i;
  // The held-out evaluation chunks are the first ones of the shard, in order, and never wrap.
  const auto first = first_chunks(shard, bert_uncased(), 37, sep, 1000);
  ASSERT_EQ(first.size(), expected.size() / 37);
  for (std::size_t c = 0; c < first.size(); ++c)
    for (std::size_t i = 0; i < 37; ++i) ASSERT_EQ(first[c][i], expected[c * 37 + i]);
}

TEST(CorpusStream, ShuffledStreamIsAPermutationMixingShards) {
  const fs::path root = make_corpus("corpus-mix");
  const CorpusShards shards = list_corpus_shards(root, {}, "");
  const std::int64_t sep = bert_uncased().special_tokens().sep;
  PackingOptions options{.chunk_tokens = 16, .document_separator = sep, .shuffle_buffer = 8, .seed = 5};
  PackedStream stream(root, shards.train, shards.train_bytes, bert_uncased(), options);
  std::map<std::string, int> by_source;
  const std::int64_t alpha = bert_uncased().encode_ids("alpha")[0], beta = bert_uncased().encode_ids("beta")[0];
  for (int i = 0; i < 200; ++i) {
    for (std::int32_t id : stream.next()) {
      if (id == alpha) ++by_source["alpha"];
      if (id == beta) ++by_source["beta"];
    }
  }
  EXPECT_GT(by_source["alpha"], 20);
  EXPECT_GT(by_source["beta"], 20);
  // Same seed, same stream; another seed, another order.
  PackedStream again(root, shards.train, shards.train_bytes, bert_uncased(), options);
  PackedStream other(root, shards.train, shards.train_bytes, bert_uncased(), PackingOptions{options.chunk_tokens, sep, 8, 6});
  PackedStream first(root, shards.train, shards.train_bytes, bert_uncased(), options);
  bool differs = false;
  for (int i = 0; i < 50; ++i) {
    const auto chunk = first.next();
    EXPECT_EQ(chunk, again.next());
    differs |= chunk != other.next();
  }
  EXPECT_TRUE(differs);
}

TEST(CorpusStream, RestoredStreamContinuesExactly) {
  const fs::path root = make_corpus("corpus-resume");
  const CorpusShards shards = list_corpus_shards(root, {}, "");
  const std::int64_t sep = bert_uncased().special_tokens().sep;
  const PackingOptions options{.chunk_tokens = 23, .document_separator = sep, .shuffle_buffer = 16, .seed = 9};
  PackedStream original(root, shards.train, shards.train_bytes, bert_uncased(), options);
  // Far enough that every shard has wrapped at least once (the corpus holds ~100 chunks).
  for (int i = 0; i < 333; ++i) original.next();
  const StreamState state = original.state();
  PackedStream resumed(root, shards.train, shards.train_bytes, bert_uncased(), options);
  resumed.restore(state);
  for (int i = 0; i < 400; ++i) ASSERT_EQ(resumed.next(), original.next()) << "chunk " << i;
  EXPECT_EQ(resumed.chunks_returned(), original.chunks_returned());

  // A state from another corpus layout is refused.
  PackedStream fewer(root, {shards.train[0]}, {1}, bert_uncased(), options);
  EXPECT_THROW(fewer.restore(state), Error);
  PackedStream longer(root, shards.train, shards.train_bytes, bert_uncased(), PackingOptions{24, sep, 16, 9});
  EXPECT_THROW(longer.restore(state), Error);
}

}  // namespace
}  // namespace ptbench::pretrain
