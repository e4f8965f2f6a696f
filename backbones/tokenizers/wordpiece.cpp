// BERT's WordPiece tokenizer, as transformers 4.28 BertTokenizer (the slow, pure-Python one)
// runs it: special tokens written in the text stay whole (PreTrainedTokenizer.tokenize), then
// BasicTokenizer (clean-up of control characters and whitespace, spaces around CJK ideographs,
// lower-casing and NFD accent stripping for uncased models, punctuation splitting), then
// WordpieceTokenizer (greedy longest match, "##" continuations, [UNK] for words over 100
// characters or with no segmentation). Every character keeps the byte range it came from in
// the source text, so each token knows its offsets.
#include <utf8proc.h>

#include <algorithm>
#include <span>

#include "backbones/tokenizers/text_utils.h"
#include "backbones/tokenizers/tokenizer.h"
#include "common/error.h"
#include "common/files.h"

namespace ptbench::tok {
namespace {

namespace fs = std::filesystem;
using detail::CodePoint;
using detail::decode_code_point;

// WordpieceTokenizer's max_input_chars_per_word default: longer words become [UNK].
constexpr std::size_t kMaxInputCharsPerWord = 100;

utf8proc_category_t category(char32_t c) {
  return static_cast<utf8proc_category_t>(utf8proc_category(static_cast<utf8proc_int32_t>(c)));
}

// tokenization_bert.py _is_control: every "C*" category except tab, newline and carriage return
// (unassigned code points are Cn, so they count too).
bool is_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  switch (category(c)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
      return true;
    default:
      return false;
  }
}

// tokenization_bert.py _is_whitespace: the four ASCII blanks and category Zs.
bool is_bert_whitespace(char32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || category(c) == UTF8PROC_CATEGORY_ZS;
}

// tokenization_bert.py _is_punctuation: all non-alphanumeric ASCII (so "$", "^", "`" split too)
// and every "P*" category.
bool is_punctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
      (c >= 123 && c <= 126)) {
    return true;
  }
  switch (category(c)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

// tokenization_bert.py _is_chinese_char: the CJK Unified Ideographs blocks (not Japanese kana or
// Hangul, which are written with spaces).
bool is_cjk_ideograph(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// A character of the text being tokenized and the source bytes it stands for. Characters
// produced by lower-casing or decomposition keep the range of the character they came from.
struct SourceChar {
  char32_t code_point = 0;
  std::size_t begin = 0, end = 0;
};

class WordPieceTokenizer final : public Tokenizer {
 public:
  WordPieceTokenizer(const fs::path& vocab_txt, bool lower_case);

  std::string kind() const override { return "wordpiece"; }
  std::size_t vocab_size() const override { return id_to_token_.size(); }
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
  std::size_t num_special_tokens_to_add(bool pair) const override { return pair ? 3 : 2; }

 protected:
  void tokenize_pieces(std::string_view text, bool is_split_into_words, bool with_tokens,
                       std::vector<Piece>& out) const override;

 private:
  // Buffers reused across the words of one call, so the loop allocates only when they grow.
  struct Scratch {
    std::vector<SourceChar> word;
    std::vector<SourceChar> normalized;
    std::string utf8;
    std::vector<std::size_t> boundaries;
  };

  void tokenize_plain_text(std::string_view text, std::size_t begin, std::size_t end,
                           bool with_tokens, Scratch& scratch, std::vector<Piece>& out) const;
  void tokenize_word(bool with_tokens, Scratch& scratch, std::vector<Piece>& out) const;
  void split_into_wordpieces(std::span<const SourceChar> chars, bool with_tokens, Scratch& scratch,
                             std::vector<Piece>& out) const;
  void push_unknown(std::span<const SourceChar> chars, bool with_tokens,
                    std::vector<Piece>& out) const;
  bool is_special_id(std::int64_t id) const {
    return std::find(all_special_ids_.begin(), all_special_ids_.end(), id) !=
           all_special_ids_.end();
  }

  bool lower_case_;
  detail::TokenIdMap vocab_;
  // Vocabulary entries that start with "##", keyed without it, so continuation lookups need
  // no string building.
  detail::TokenIdMap continuation_vocab_;
  std::vector<std::string> id_to_token_;
  std::vector<bool> id_is_shadowed_;  // an earlier duplicate line: transformers maps it to [UNK]
  std::size_t longest_token_bytes_ = 0;
  std::size_t longest_continuation_bytes_ = 0;
  std::size_t longest_special_bytes_ = 0;
  std::string unk_token_ = "[UNK]";
  SpecialTokens special_;
  std::vector<std::int64_t> all_special_ids_;
  detail::SpecialTokenSplitter splitter_;
};

WordPieceTokenizer::WordPieceTokenizer(const fs::path& vocab_txt, bool lower_case)
    : lower_case_(lower_case) {
  // load_vocab reads the file with Python's universal newlines (\n, \r\n and \r end a line) and
  // numbers the lines from 0; a repeated token keeps its last line number.
  const std::string text = read_text_file(vocab_txt);
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t line_end = text.find_first_of("\r\n", pos);
    if (line_end == std::string::npos) line_end = text.size();
    const std::string_view token = std::string_view(text).substr(pos, line_end - pos);
    const auto id = static_cast<std::int64_t>(id_to_token_.size());
    id_to_token_.emplace_back(token);
    id_is_shadowed_.push_back(false);
    auto [it, inserted] = vocab_.try_emplace(std::string(token), id);
    if (!inserted) {
      id_is_shadowed_[static_cast<std::size_t>(it->second)] = true;
      it->second = id;
    }
    pos = line_end + 1;
    if (line_end < text.size() && text[line_end] == '\r' && pos < text.size() &&
        text[pos] == '\n') {
      ++pos;
    }
  }
  if (vocab_.empty()) fail(vocab_txt.string(), ": empty vocabulary");
  for (const auto& [token, id] : vocab_) {
    longest_token_bytes_ = std::max(longest_token_bytes_, token.size());
    if (token.starts_with("##")) {
      continuation_vocab_.emplace(token.substr(2), id);
      longest_continuation_bytes_ = std::max(longest_continuation_bytes_, token.size() - 2);
    }
  }

  const auto id_of = [&](const char* token) -> std::int64_t {
    const auto it = vocab_.find(std::string_view(token));
    return it == vocab_.end() ? -1 : it->second;
  };
  special_.unk = id_of("[UNK]");
  special_.sep = id_of("[SEP]");
  special_.pad = id_of("[PAD]");
  special_.cls = id_of("[CLS]");
  special_.mask = id_of("[MASK]");
  if (special_.unk < 0 || special_.cls < 0 || special_.sep < 0) {
    fail(vocab_txt.string(), ": a BERT vocabulary needs [UNK], [CLS] and [SEP] entries");
  }
  // BertTokenizer's special tokens, in transformers' all_special_tokens order.
  std::vector<detail::SpecialTokenSplitter::Special> specials;
  for (const char* token : {"[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"}) {
    const std::int64_t id = id_of(token);
    if (id < 0) continue;
    specials.push_back({token, id, true, true});  // plain strings: both neighbours stripped
    all_special_ids_.push_back(id);
    longest_special_bytes_ = std::max(longest_special_bytes_, std::string_view(token).size());
  }
  splitter_ = detail::SpecialTokenSplitter(std::move(specials));
}

void WordPieceTokenizer::tokenize_pieces(std::string_view text, bool /*is_split_into_words*/,
                                         bool with_tokens, std::vector<Piece>& out) const {
  // BertTokenizer ignores is_split_into_words: each word is tokenized like any text.
  // Lower-casing before the split (PreTrainedTokenizer.tokenize with do_lower_case) leaves the
  // special tokens alone and is repeated by BasicTokenizer, so doing it per word is the same.
  std::vector<detail::SpecialTokenSplitter::Chunk> chunks;
  splitter_.split(text, chunks);
  Scratch scratch;
  for (const auto& chunk : chunks) {
    if (chunk.special >= 0) {
      const auto& special = splitter_.specials()[static_cast<std::size_t>(chunk.special)];
      out.push_back(
          {special.id, chunk.begin, chunk.end, with_tokens ? special.text : std::string()});
    } else {
      tokenize_plain_text(text, chunk.begin, chunk.end, with_tokens, scratch, out);
    }
  }
}

void WordPieceTokenizer::tokenize_plain_text(std::string_view text, std::size_t begin,
                                             std::size_t end, bool with_tokens, Scratch& scratch,
                                             std::vector<Piece>& out) const {
  // BasicTokenizer._clean_text, _tokenize_chinese_chars and whitespace_tokenize in one pass:
  // drop NUL, U+FFFD and control characters; break words at whitespace (BERT's own set, plus
  // what str.split() also splits on, e.g. U+2028); make every CJK ideograph a word of its own.
  const std::string_view chunk = text.substr(0, end);
  scratch.word.clear();
  for (std::size_t pos = begin; pos < end;) {
    const CodePoint cp = decode_code_point(chunk, pos);
    const SourceChar source{cp.value, pos, pos + cp.length};
    pos += cp.length;
    if (cp.value == 0 || cp.value == 0xFFFD || is_control(cp.value)) continue;
    if (is_bert_whitespace(cp.value) || detail::is_python_space(cp.value)) {
      tokenize_word(with_tokens, scratch, out);
      continue;
    }
    if (is_cjk_ideograph(cp.value)) {
      tokenize_word(with_tokens, scratch, out);
      scratch.word.push_back(source);
      tokenize_word(with_tokens, scratch, out);
      continue;
    }
    scratch.word.push_back(source);
  }
  tokenize_word(with_tokens, scratch, out);
}

void WordPieceTokenizer::tokenize_word(bool with_tokens, Scratch& scratch,
                                       std::vector<Piece>& out) const {
  std::vector<SourceChar>& word = scratch.word;
  if (word.empty()) return;

  // BasicTokenizer keeps a word that spells a special token whole (never_split); this only
  // happens when the clean-up joined it, e.g. "[CL\x00S]", since the splitter took the rest.
  if (word.size() <= longest_special_bytes_) {
    scratch.utf8.clear();
    for (const SourceChar& c : word) detail::append_utf8(scratch.utf8, c.code_point);
    if (splitter_.find(scratch.utf8) >= 0) {
      split_into_wordpieces(word, with_tokens, scratch, out);
      word.clear();
      return;
    }
  }

  // Uncased: lower-case (Python's str.lower(), whose only one-to-many mapping is U+0130 ->
  // "i" + U+0307), then NFD, then drop the nonspacing marks (_run_strip_accents).
  std::vector<SourceChar>& normalized = scratch.normalized;
  normalized.clear();
  if (lower_case_) {
    for (const SourceChar& c : word) {
      char32_t lowered[2] = {
          static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c.code_point))), 0};
      std::size_t lowered_count = 1;
      if (c.code_point == 0x130) {
        lowered[0] = 'i';
        lowered[1] = 0x307;
        lowered_count = 2;
      }
      for (std::size_t i = 0; i < lowered_count; ++i) {
        utf8proc_int32_t decomposed[8];
        int boundary_class = 0;
        const utf8proc_ssize_t count =
            utf8proc_decompose_char(static_cast<utf8proc_int32_t>(lowered[i]), decomposed, 8,
                                    UTF8PROC_DECOMPOSE, &boundary_class);
        if (count < 1 || count > 8) {
          normalized.push_back({lowered[i], c.begin, c.end});
          continue;
        }
        for (utf8proc_ssize_t k = 0; k < count; ++k) {
          normalized.push_back({static_cast<char32_t>(decomposed[k]), c.begin, c.end});
        }
      }
    }
    // Canonical ordering (part of NFD): combining marks in a run sort stably by class.
    const auto combining_class = [](const SourceChar& c) {
      return utf8proc_get_property(static_cast<utf8proc_int32_t>(c.code_point))->combining_class;
    };
    for (std::size_t i = 0; i < normalized.size();) {
      if (combining_class(normalized[i]) == 0) {
        ++i;
        continue;
      }
      std::size_t run_end = i;
      while (run_end < normalized.size() && combining_class(normalized[run_end]) != 0) ++run_end;
      std::stable_sort(normalized.begin() + static_cast<std::ptrdiff_t>(i),
                       normalized.begin() + static_cast<std::ptrdiff_t>(run_end),
                       [&](const SourceChar& x, const SourceChar& y) {
                         return combining_class(x) < combining_class(y);
                       });
      i = run_end;
    }
    // A dropped mark's bytes go to the character before it, so a token's offsets still cover a
    // decomposed source sequence such as "e" + U+0301 whole.
    std::size_t kept = 0;
    for (const SourceChar& c : normalized) {
      if (category(c.code_point) != UTF8PROC_CATEGORY_MN) {
        normalized[kept++] = c;
      } else if (kept > 0) {
        normalized[kept - 1].end = std::max(normalized[kept - 1].end, c.end);
      }
    }
    normalized.resize(kept);
  } else {
    normalized.swap(word);
  }

  // _run_split_on_punc: every punctuation character is a word of its own.
  const std::span<const SourceChar> chars(normalized);
  std::size_t start = 0;
  for (std::size_t i = 0; i < chars.size(); ++i) {
    if (!is_punctuation(chars[i].code_point)) continue;
    if (i > start)
      split_into_wordpieces(chars.subspan(start, i - start), with_tokens, scratch, out);
    split_into_wordpieces(chars.subspan(i, 1), with_tokens, scratch, out);
    start = i + 1;
  }
  if (chars.size() > start) {
    split_into_wordpieces(chars.subspan(start), with_tokens, scratch, out);
  }
  word.clear();
  normalized.clear();
}

void WordPieceTokenizer::push_unknown(std::span<const SourceChar> chars, bool with_tokens,
                                      std::vector<Piece>& out) const {
  out.push_back({special_.unk, chars.front().begin, chars.back().end,
                 with_tokens ? unk_token_ : std::string()});
}

void WordPieceTokenizer::split_into_wordpieces(std::span<const SourceChar> chars, bool with_tokens,
                                               Scratch& scratch, std::vector<Piece>& out) const {
  if (chars.empty()) return;
  // Length is counted in characters, as Python's len(list(token)).
  if (chars.size() > kMaxInputCharsPerWord) {
    push_unknown(chars, with_tokens, out);
    return;
  }
  std::string& utf8 = scratch.utf8;
  std::vector<std::size_t>& boundaries = scratch.boundaries;
  utf8.clear();
  boundaries.assign(1, 0);
  for (const SourceChar& c : chars) {
    detail::append_utf8(utf8, c.code_point);
    boundaries.push_back(utf8.size());
  }
  const std::string_view word(utf8);
  const std::size_t first_piece = out.size();
  // WordpieceTokenizer.tokenize: the longest vocabulary entry that starts here ("##" after the
  // first piece); a word with any unmatched position becomes a single [UNK].
  for (std::size_t start = 0; start < chars.size();) {
    const detail::TokenIdMap& vocab = start == 0 ? vocab_ : continuation_vocab_;
    const std::size_t longest = start == 0 ? longest_token_bytes_ : longest_continuation_bytes_;
    std::int64_t id = -1;
    std::size_t end = chars.size();
    for (; end > start; --end) {
      const std::size_t length = boundaries[end] - boundaries[start];
      if (length > longest) continue;
      const auto it = vocab.find(word.substr(boundaries[start], length));
      if (it != vocab.end()) {
        id = it->second;
        break;
      }
    }
    if (id < 0) {
      out.resize(first_piece);
      push_unknown(chars, with_tokens, out);
      return;
    }
    Piece piece{id, chars[start].begin, chars[end - 1].end, {}};
    if (with_tokens) {
      if (start > 0) piece.token = "##";
      piece.token.append(word.substr(boundaries[start], boundaries[end] - boundaries[start]));
    }
    out.push_back(std::move(piece));
    start = end;
  }
}

std::vector<std::int64_t> WordPieceTokenizer::convert_tokens_to_ids(
    const std::vector<std::string>& tokens) const {
  std::vector<std::int64_t> ids;
  ids.reserve(tokens.size());
  for (const std::string& token : tokens) {
    const auto it = vocab_.find(token);
    ids.push_back(it == vocab_.end() ? special_.unk : it->second);
  }
  return ids;
}

std::string WordPieceTokenizer::id_to_token(std::int64_t id) const {
  // BertTokenizer._convert_id_to_token: unknown ids read as [UNK].
  if (id < 0 || static_cast<std::size_t>(id) >= id_to_token_.size() ||
      id_is_shadowed_[static_cast<std::size_t>(id)]) {
    return unk_token_;
  }
  return id_to_token_[static_cast<std::size_t>(id)];
}

std::string WordPieceTokenizer::decode(const std::vector<std::int64_t>& ids,
                                       bool skip_special_tokens) const {
  // convert_tokens_to_string joins with spaces and glues "##" pieces; _decode then applies
  // clean_up_tokenization.
  std::string text;
  for (const std::int64_t id : ids) {
    if (skip_special_tokens && is_special_id(id)) continue;
    if (!text.empty()) text.push_back(' ');
    text.append(id_to_token(id));
  }
  detail::replace_all(text, " ##", "");
  std::string result(detail::python_strip(text));
  detail::clean_up_tokenization(result);
  return result;
}

std::vector<std::int64_t> WordPieceTokenizer::build_inputs_with_special_tokens(
    const std::vector<std::int64_t>& a, const std::optional<std::vector<std::int64_t>>& b) const {
  std::vector<std::int64_t> ids;
  ids.reserve(a.size() + (b ? b->size() : 0) + 3);
  ids.push_back(special_.cls);
  ids.insert(ids.end(), a.begin(), a.end());
  ids.push_back(special_.sep);
  if (b) {
    ids.insert(ids.end(), b->begin(), b->end());
    ids.push_back(special_.sep);
  }
  return ids;
}

std::vector<std::int64_t> WordPieceTokenizer::token_type_ids_for(
    const std::vector<std::int64_t>& a, const std::optional<std::vector<std::int64_t>>& b) const {
  std::vector<std::int64_t> types(a.size() + 2, 0);
  if (b) types.resize(types.size() + b->size() + 1, 1);
  return types;
}

std::vector<int> WordPieceTokenizer::sequence_ids_for(
    const std::vector<std::int64_t>& a, const std::optional<std::vector<std::int64_t>>& b) const {
  std::vector<int> sequence_ids;
  sequence_ids.reserve(a.size() + (b ? b->size() : 0) + 3);
  sequence_ids.push_back(-1);
  sequence_ids.insert(sequence_ids.end(), a.size(), 0);
  sequence_ids.push_back(-1);
  if (b) {
    sequence_ids.insert(sequence_ids.end(), b->size(), 1);
    sequence_ids.push_back(-1);
  }
  return sequence_ids;
}

}  // namespace

std::unique_ptr<Tokenizer> make_wordpiece(const std::filesystem::path& vocab_txt, bool lower_case) {
  return std::make_unique<WordPieceTokenizer>(vocab_txt, lower_case);
}

}  // namespace ptbench::tok
