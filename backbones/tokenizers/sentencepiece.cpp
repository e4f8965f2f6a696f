// T5's SentencePiece tokenizer, as transformers 4.28 T5Tokenizer (slow) runs it: the model's
// pieces come from libsentencepiece; on top of them T5Tokenizer adds 100 sentinel tokens
// <extra_id_0..99> with ids counting down from the top (extra_id_0 = vocab_size - 1), appends
// </s> to every sequence, and keeps </s>, <pad>, <unk> and the sentinels whole when the text
// spells them.

#include <algorithm>
#include <charconv>
#include <unordered_set>

#include "backbones/tokenizers/text_utils.h"
#include "backbones/tokenizers/spm_backend.h"
#include "backbones/tokenizers/tokenizer.h"
#include "common/error.h"

namespace ptbench::tok {
namespace {

namespace fs = std::filesystem;

// T5Tokenizer's extra_ids default.
constexpr int kExtraIds = 100;
constexpr std::string_view kExtraIdPrefix = "<extra_id_";

class SentencePieceTokenizer final : public Tokenizer {
 public:
  explicit SentencePieceTokenizer(const fs::path& spiece_model);

  std::string kind() const override { return "sentencepiece"; }
  std::size_t vocab_size() const override {
    return static_cast<std::size_t>(piece_count_) + kExtraIds;
  }
  const SpecialTokens& special_tokens() const override { return special_; }

  std::vector<std::int64_t> convert_tokens_to_ids(
      const std::vector<std::string>& tokens) const override;
  std::string id_to_token(std::int64_t id) const override;
  std::string decode(const std::vector<std::int64_t>& ids, bool skip_special_tokens) const override;

  std::vector<std::int64_t> build_inputs_with_special_tokens(
      const std::vector<std::int64_t>& a,
      const std::optional<std::vector<std::int64_t>>& b) const override;
  std::vector<std::int64_t> token_type_ids_for(
      const std::vector<std::int64_t>& a,
      const std::optional<std::vector<std::int64_t>>& b) const override;
  std::vector<int> sequence_ids_for(
      const std::vector<std::int64_t>& a,
      const std::optional<std::vector<std::int64_t>>& b) const override;
  std::size_t num_special_tokens_to_add(bool pair) const override { return pair ? 2 : 1; }

 protected:
  void tokenize_pieces(std::string_view text, bool is_split_into_words, bool with_tokens,
                       std::vector<Piece>& out) const override;

 private:
  std::int64_t token_to_id(std::string_view token) const;
  // T5Tokenizer._add_eos_if_not_present: </s> is appended unless the ids already end with it.
  bool needs_eos(const std::vector<std::int64_t>& ids) const {
    return ids.empty() || ids.back() != special_.eos;
  }

  fs::path model_path_;
  std::unique_ptr<SpmBackend> processor_;
  int piece_count_ = 0;
  SpecialTokens special_;
  std::unordered_set<std::int64_t> all_special_ids_;
  std::unordered_set<std::string> all_special_tokens_;
  detail::SpecialTokenSplitter splitter_;
};

SentencePieceTokenizer::SentencePieceTokenizer(const fs::path& spiece_model)
    : model_path_(spiece_model) {
  if (!fs::exists(spiece_model)) fail("cannot read ", spiece_model.string(), ": no such file");
  processor_ = load_spm_backend(spiece_model);
  piece_count_ = processor_->piece_size();

  special_.eos = token_to_id("</s>");
  special_.unk = token_to_id("<unk>");
  special_.pad = token_to_id("<pad>");
  // T5Tokenizer's special tokens are plain strings: both neighbours lose their whitespace.
  std::vector<detail::SpecialTokenSplitter::Special> specials;
  for (const char* token : {"</s>", "<unk>", "<pad>"}) {
    specials.push_back({token, token_to_id(token), true, true});
  }
  for (int n = 0; n < kExtraIds; ++n) {
    std::string token = std::string(kExtraIdPrefix) + std::to_string(n) + ">";
    const std::int64_t id = token_to_id(token);
    specials.push_back({std::move(token), id, true, true});
  }
  for (const auto& special : specials) {
    all_special_ids_.insert(special.id);
    all_special_tokens_.insert(special.text);
  }
  splitter_ = detail::SpecialTokenSplitter(std::move(specials));
}

std::int64_t SentencePieceTokenizer::token_to_id(std::string_view token) const {
  // T5Tokenizer._convert_token_to_id: "<extra_id_N>" maps to vocab_size - N - 1, anything else
  // through the model (unknown pieces give <unk>'s id).
  if (token.starts_with(kExtraIdPrefix)) {
    const char* digits = token.data() + kExtraIdPrefix.size();
    const char* token_end = token.data() + token.size();
    long long number = 0;
    const auto [after, error] = std::from_chars(digits, token_end, number);
    if (error == std::errc() && after != digits && after < token_end && *after == '>') {
      return static_cast<std::int64_t>(vocab_size()) - number - 1;
    }
  }
  return processor_->piece_to_id(token);
}

void SentencePieceTokenizer::tokenize_pieces(std::string_view text, bool /*is_split_into_words*/,
                                             bool with_tokens, std::vector<Piece>& out) const {
  // T5Tokenizer has no prepare_for_tokenization of its own: a pre-split word is encoded like
  // any text (SentencePiece gives it its "▁").
  std::vector<detail::SpecialTokenSplitter::Chunk> chunks;
  splitter_.split(text, chunks);
  std::vector<SpmPiece> encoded;
  std::string error;
  for (const auto& chunk : chunks) {
    if (chunk.special >= 0) {
      const auto& special = splitter_.specials()[static_cast<std::size_t>(chunk.special)];
      out.push_back(
          {special.id, chunk.begin, chunk.end, with_tokens ? special.text : std::string()});
      continue;
    }
    const std::string_view piece_text = text.substr(chunk.begin, chunk.end - chunk.begin);
    if (!processor_->encode(piece_text, encoded, error)) {
      fail(model_path_.string(), ": SentencePiece cannot encode the text (", error, ")");
    }
    for (const SpmPiece& piece : encoded) {
      // begin/end are byte offsets into the chunk's original text ("surface"); the "▁" that
      // stands for a preceding space is not part of the word (trim_offsets).
      std::size_t begin = chunk.begin + piece.begin;
      const std::size_t end = chunk.begin + piece.end;
      const std::size_t trimmed = detail::skip_leading_space(text, begin, end);
      if (trimmed < end) begin = trimmed;
      // Unknown pieces carry their surface text as the piece, as sp.encode(out_type=str) does.
      out.push_back({static_cast<std::int64_t>(piece.id), begin, end,
                     with_tokens ? piece.piece : std::string()});
    }
  }
}

std::vector<std::int64_t> SentencePieceTokenizer::convert_tokens_to_ids(
    const std::vector<std::string>& tokens) const {
  std::vector<std::int64_t> ids;
  ids.reserve(tokens.size());
  for (const std::string& token : tokens) ids.push_back(token_to_id(token));
  return ids;
}

std::string SentencePieceTokenizer::id_to_token(std::int64_t id) const {
  if (id < 0) fail("token id ", id, " is negative");
  if (id < piece_count_) return processor_->id_to_piece(static_cast<int>(id));
  // T5Tokenizer._convert_id_to_token; ids past the vocabulary (T5 checkpoints have 28 unused
  // embedding rows) come out as "<extra_id_-k>" there too.
  return std::string(kExtraIdPrefix) +
         std::to_string(static_cast<std::int64_t>(vocab_size()) - 1 - id) + ">";
}

std::string SentencePieceTokenizer::decode(const std::vector<std::int64_t>& ids,
                                           bool skip_special_tokens) const {
  // T5Tokenizer.convert_tokens_to_string: runs of ordinary pieces go through SentencePiece's
  // decoder; a special token is written as is, after a space unless it follows another one;
  // the result is stripped, then clean_up_tokenization.
  std::string text;
  std::vector<std::string> run;
  bool previous_is_special = false;
  for (const std::int64_t id : ids) {
    if (skip_special_tokens && all_special_ids_.contains(id)) continue;
    std::string token = id_to_token(id);
    if (all_special_tokens_.contains(token)) {
      if (!previous_is_special) text.push_back(' ');
      text += processor_->decode_pieces(run);
      text += token;
      run.clear();
      previous_is_special = true;
    } else {
      run.push_back(std::move(token));
      previous_is_special = false;
    }
  }
  text += processor_->decode_pieces(run);
  std::string result(detail::python_strip(text));
  detail::clean_up_tokenization(result);
  return result;
}

std::vector<std::int64_t> SentencePieceTokenizer::build_inputs_with_special_tokens(
    const std::vector<std::int64_t>& a, const std::optional<std::vector<std::int64_t>>& b) const {
  std::vector<std::int64_t> ids(a);
  if (needs_eos(a)) ids.push_back(special_.eos);
  if (b) {
    ids.insert(ids.end(), b->begin(), b->end());
    if (needs_eos(*b)) ids.push_back(special_.eos);
  }
  return ids;
}

std::vector<std::int64_t> SentencePieceTokenizer::token_type_ids_for(
    const std::vector<std::int64_t>& a, const std::optional<std::vector<std::int64_t>>& b) const {
  // T5 has no token types: all zeros, as long as the ids.
  return std::vector<std::int64_t>(build_inputs_with_special_tokens(a, b).size(), 0);
}

std::vector<int> SentencePieceTokenizer::sequence_ids_for(
    const std::vector<std::int64_t>& a, const std::optional<std::vector<std::int64_t>>& b) const {
  std::vector<int> sequence_ids(a.size(), 0);
  if (needs_eos(a)) sequence_ids.push_back(-1);
  if (b) {
    sequence_ids.insert(sequence_ids.end(), b->size(), 1);
    if (needs_eos(*b)) sequence_ids.push_back(-1);
  }
  return sequence_ids;
}

}  // namespace

std::unique_ptr<Tokenizer> make_sentencepiece(const std::filesystem::path& spiece_model) {
  return std::make_unique<SentencePieceTokenizer>(spiece_model);
}

}  // namespace ptbench::tok
