// Byte-level BPE (GPT-2 and RoBERTa) as transformers 4.28 GPT2Tokenizer / RobertaTokenizer (slow)
// run it: special tokens written in the text stay whole, an optional prefix space, GPT-2's
// pre-tokenisation regex (implemented by hand below), every byte of a pre-token mapped to a
// printable character (bytes_to_unicode), then merges applied lowest rank first. Results are
// cached per pre-token, since running text repeats its words.
#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <mutex>
#include <shared_mutex>

#include "backbones/tokenizers/text_utils.h"
#include "backbones/tokenizers/tokenizer.h"
#include "common/error.h"
#include "common/files.h"

namespace ptbench::tok {
namespace {

namespace fs = std::filesystem;
using detail::CodePoint;
using detail::decode_code_point;

// Bound on the per-word cache; it is cleared when full (transformers' cache is unbounded).
constexpr std::size_t kMaxCachedWords = 1 << 20;

// GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68 bytes
// (controls, space, 0x7F-0xA0, 0xAD) for U+0100.. in byte order, so "Ġ" (U+0120) is the space.
std::array<char32_t, 256> bytes_to_unicode() {
  std::array<char32_t, 256> table{};
  char32_t next_extra = 256;
  for (int byte = 0; byte < 256; ++byte) {
    const bool printable = (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) ||
                           (byte >= 0xAE && byte <= 0xFF);
    table[static_cast<std::size_t>(byte)] = printable ? static_cast<char32_t>(byte) : next_extra++;
  }
  return table;
}

// The classes GPT-2's pattern distinguishes: \s (the `regex` module's White_Space), \p{L},
// \p{N}, and everything else.
enum class CharClass { space, letter, number, other };

bool is_regex_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

CharClass classify(char32_t c) {
  if (is_regex_space(c)) return CharClass::space;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return CharClass::letter;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return CharClass::number;
    default:
      return CharClass::other;
  }
}

// End of the pre-token that starts at `pos` in text[0, end): the leftmost alternative of
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// that matches, as the regex engine tries them.
std::size_t pretoken_end(std::string_view text, std::size_t pos) {
  const std::size_t end = text.size();
  if (text[pos] == '\'') {
    const std::string_view rest = text.substr(pos + 1);
    for (const std::string_view suffix : {"s", "t", "re", "ve", "m", "ll", "d"}) {
      if (rest.starts_with(suffix)) return pos + 1 + suffix.size();
    }
  }
  // ` ?X+` for the three classes: an optional ASCII space, then a run of one class.
  const std::size_t run_start = text[pos] == ' ' && pos + 1 < end ? pos + 1 : pos;
  const CodePoint first = decode_code_point(text, run_start);
  const CharClass run_class = classify(first.value);
  if (run_class != CharClass::space) {
    std::size_t run_end = run_start + first.length;
    while (run_end < end) {
      const CodePoint next = decode_code_point(text, run_end);
      if (classify(next.value) != run_class) break;
      run_end += next.length;
    }
    return run_end;
  }
  // Whitespace: `\s+(?!\S)` takes the run but leaves its last character to the next token when
  // a non-space follows (so " word" keeps its space); a lone one falls to `\s+`.
  const CodePoint here = decode_code_point(text, pos);
  std::size_t run_end = pos + here.length;
  std::size_t last_start = pos;
  while (run_end < end) {
    const CodePoint next = decode_code_point(text, run_end);
    if (classify(next.value) != CharClass::space) break;
    last_start = run_end;
    run_end += next.length;
  }
  if (run_end == end || last_start == pos) return run_end;
  return last_start;
}

class ByteLevelBpeTokenizer final : public Tokenizer {
 public:
  ByteLevelBpeTokenizer(const fs::path& vocab_json, const fs::path& merges_txt, bool roberta,
                        bool add_prefix_space);

  std::string kind() const override { return "bpe"; }
  std::size_t vocab_size() const override { return std::max(encoder_.size(), extra_vocab_size_); }
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
  std::size_t num_special_tokens_to_add(bool pair) const override {
    return roberta_ ? (pair ? 4 : 2) : 0;
  }

 protected:
  void tokenize_pieces(std::string_view text, bool is_split_into_words, bool with_tokens,
                       std::vector<Piece>& out) const override;

 private:
  // A BPE symbol: a byte's character or a merge of two symbols.
  struct Symbol {
    std::string text;             // in byte-level characters, as vocab.json spells it
    std::int64_t vocab_id = -1;   // -1 when vocab.json lacks it (then the unknown token's id)
    std::size_t byte_length = 0;  // source bytes it stands for
  };
  struct Merge {
    std::int32_t rank = 0;
    std::int32_t merged = 0;
  };
  static std::uint64_t pair_key(std::int32_t left, std::int32_t right) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) |
           static_cast<std::uint32_t>(right);
  }

  std::int32_t intern(const std::string& text);
  void load_merges(const fs::path& merges_txt);
  // Calls `use(symbols)` with the BPE symbols of one pre-token, from the cache or computed and
  // cached (a cache hit copies nothing).
  template <typename Use>
  void with_symbols(std::string_view word, Use&& use) const;
  std::vector<std::int32_t> apply_merges(std::string_view word) const;
  void tokenize_plain_text(std::string_view text, std::size_t begin, std::size_t end,
                           bool with_tokens, std::vector<Piece>& out) const;
  bool is_special_id(std::int64_t id) const {
    return std::find(all_special_ids_.begin(), all_special_ids_.end(), id) !=
           all_special_ids_.end();
  }

  bool roberta_;
  bool add_prefix_space_;
  detail::TokenIdMap encoder_;
  std::unordered_map<std::int64_t, std::string> decoder_;
  std::array<char32_t, 256> byte_to_char_{};
  std::unordered_map<char32_t, unsigned char> char_to_byte_;
  std::vector<Symbol> symbols_;
  detail::TokenIdMap symbol_ids_;  // Symbol::text -> index into symbols_ (stored as int64)
  std::unordered_map<std::uint64_t, Merge> merges_;
  std::int64_t unk_id_ = -1;
  std::size_t extra_vocab_size_ = 0;  // covers fairseq special ids beyond vocab.json
  SpecialTokens special_;
  std::vector<std::int64_t> all_special_ids_;
  detail::SpecialTokenSplitter splitter_;

  mutable std::shared_mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<std::int32_t>, detail::StringViewHash,
                             std::equal_to<>>
      cache_;
};

ByteLevelBpeTokenizer::ByteLevelBpeTokenizer(const fs::path& vocab_json, const fs::path& merges_txt,
                                             bool roberta, bool add_prefix_space)
    : roberta_(roberta), add_prefix_space_(add_prefix_space) {
  const nlohmann::json vocab = read_json_file(vocab_json);
  if (!vocab.is_object() || vocab.empty()) {
    fail(vocab_json.string(), ": expected a JSON object mapping tokens to ids");
  }
  for (const auto& [token, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<std::int64_t>() < 0) {
      fail(vocab_json.string(), ": the id of token \"", token, "\" is not a non-negative integer");
    }
    encoder_.emplace(token, id.get<std::int64_t>());
    decoder_[id.get<std::int64_t>()] = token;
  }

  byte_to_char_ = bytes_to_unicode();
  for (int byte = 0; byte < 256; ++byte) {
    const char32_t c = byte_to_char_[static_cast<std::size_t>(byte)];
    char_to_byte_[c] = static_cast<unsigned char>(byte);
    std::string text;
    detail::append_utf8(text, c);
    intern(text);  // symbols 0..255 are the single bytes, in byte order
  }
  load_merges(merges_txt);

  const auto id_of = [&](const char* token) -> std::int64_t {
    const auto it = encoder_.find(std::string_view(token));
    return it == encoder_.end() ? -1 : it->second;
  };
  std::vector<detail::SpecialTokenSplitter::Special> specials;
  const auto add_special = [&](const char* token, bool lstrip) {
    const std::int64_t id = id_of(token);
    if (id < 0) return;
    // Both tokenizers wrap their special tokens in AddedToken(lstrip=False, rstrip=False)
    // except RoBERTa's <mask> (lstrip=True): only that one eats the space before it.
    specials.push_back({token, id, lstrip, false});
    all_special_ids_.push_back(id);
  };
  if (roberta_) {
    // RoBERTa's own vocab.json holds its special tokens. GPT-2's (which this project also uses
    // for RoBERTa-style models, see ../shared/golden/README.md) does not: then the ids are
    // fairseq's, as roberta-base numbers them (<s> 0, <pad> 1, </s> 2, <unk> 3, <mask> 50264),
    // shadowing the GPT-2 tokens "!", "\"", "#" and "$" that hold ids 0-3 there.
    const auto id_or_fairseq = [&](const char* token, std::int64_t fairseq_id) {
      const std::int64_t id = id_of(token);
      if (id >= 0) return id;
      encoder_.emplace(token, fairseq_id);
      decoder_[fairseq_id] = token;
      extra_vocab_size_ = std::max(extra_vocab_size_, static_cast<std::size_t>(fairseq_id) + 1);
      return fairseq_id;
    };
    special_.bos = special_.cls = id_or_fairseq("<s>", 0);
    special_.pad = id_or_fairseq("<pad>", 1);
    special_.eos = special_.sep = id_or_fairseq("</s>", 2);
    special_.unk = id_or_fairseq("<unk>", 3);
    special_.mask = id_or_fairseq("<mask>", 50264);
    add_special("<s>", false);
    add_special("</s>", false);
    add_special("<unk>", false);
    add_special("<pad>", false);
    add_special("<mask>", true);
  } else {
    special_.bos = special_.eos = special_.unk = id_of("<|endoftext|>");
    add_special("<|endoftext|>", false);
  }
  unk_id_ = special_.unk;
  splitter_ = detail::SpecialTokenSplitter(std::move(specials));
}

std::int32_t ByteLevelBpeTokenizer::intern(const std::string& text) {
  if (const auto it = symbol_ids_.find(text); it != symbol_ids_.end()) {
    return static_cast<std::int32_t>(it->second);
  }
  Symbol symbol;
  symbol.text = text;
  const auto vocab_it = encoder_.find(text);
  symbol.vocab_id = vocab_it == encoder_.end() ? -1 : vocab_it->second;
  for (std::size_t pos = 0; pos < text.size(); ++symbol.byte_length) {
    pos += decode_code_point(text, pos).length;  // one character per source byte
  }
  const auto index = static_cast<std::int32_t>(symbols_.size());
  symbols_.push_back(std::move(symbol));
  symbol_ids_.emplace(text, index);
  return index;
}

void ByteLevelBpeTokenizer::load_merges(const fs::path& merges_txt) {
  // merges.txt: a "#version" header, then one "left right" pair per line, rank = line order.
  // A pair listed twice keeps its later rank, as dict(zip(merges, range(...))) does.
  std::int32_t rank = 0;
  std::string left;
  std::string right;
  for_each_line(merges_txt, [&](const std::string& line, std::int64_t number) {
    if (number == 1 && line.starts_with("#version")) return;
    const std::size_t left_begin = line.find_first_not_of(" \t");
    if (left_begin == std::string::npos) return;  // blank (the file's last line)
    const std::size_t left_end = line.find_first_of(" \t", left_begin);
    const std::size_t right_begin =
        left_end == std::string::npos ? std::string::npos : line.find_first_not_of(" \t", left_end);
    const std::size_t right_end = right_begin == std::string::npos
                                      ? std::string::npos
                                      : line.find_first_of(" \t", right_begin);
    if (right_begin == std::string::npos ||
        (right_end != std::string::npos &&
         line.find_first_not_of(" \t", right_end) != std::string::npos)) {
      fail(merges_txt.string(), ":", number, ": expected two symbols separated by a space, got \"",
           line, "\"");
    }
    left.assign(line, left_begin, left_end - left_begin);
    right.assign(line, right_begin,
                 right_end == std::string::npos ? std::string::npos : right_end - right_begin);
    const std::int32_t left_id = intern(left);
    const std::int32_t right_id = intern(right);
    const std::int32_t merged_id = intern(left + right);
    merges_[pair_key(left_id, right_id)] = Merge{rank++, merged_id};
  });
  if (merges_.empty()) fail(merges_txt.string(), ": no merges");
}

std::vector<std::int32_t> ByteLevelBpeTokenizer::apply_merges(std::string_view word) const {
  std::vector<std::int32_t> symbols;
  symbols.reserve(word.size());
  for (const char byte : word) symbols.push_back(static_cast<unsigned char>(byte));
  // GPT2Tokenizer.bpe: repeatedly take the lowest-ranked adjacent pair and merge each of its
  // occurrences, left to right, until no adjacent pair has a rank.
  while (symbols.size() > 1) {
    std::int32_t best_rank = INT32_MAX;
    std::int32_t best_left = -1;
    std::int32_t best_right = -1;
    std::int32_t best_merged = -1;
    for (std::size_t i = 0; i + 1 < symbols.size(); ++i) {
      const auto it = merges_.find(pair_key(symbols[i], symbols[i + 1]));
      if (it != merges_.end() && it->second.rank < best_rank) {
        best_rank = it->second.rank;
        best_left = symbols[i];
        best_right = symbols[i + 1];
        best_merged = it->second.merged;
      }
    }
    if (best_merged < 0) break;
    std::size_t write = 0;
    for (std::size_t read = 0; read < symbols.size();) {
      if (read + 1 < symbols.size() && symbols[read] == best_left &&
          symbols[read + 1] == best_right) {
        symbols[write++] = best_merged;
        read += 2;
      } else {
        symbols[write++] = symbols[read++];
      }
    }
    symbols.resize(write);
  }
  return symbols;
}

template <typename Use>
void ByteLevelBpeTokenizer::with_symbols(std::string_view word, Use&& use) const {
  {
    std::shared_lock lock(cache_mutex_);
    if (const auto it = cache_.find(word); it != cache_.end()) {
      use(it->second);
      return;
    }
  }
  std::vector<std::int32_t> symbols = apply_merges(word);
  use(symbols);
  std::unique_lock lock(cache_mutex_);
  if (cache_.size() >= kMaxCachedWords) cache_.clear();
  cache_.emplace(std::string(word), std::move(symbols));
}

void ByteLevelBpeTokenizer::tokenize_pieces(std::string_view text, bool is_split_into_words,
                                            bool with_tokens, std::vector<Piece>& out) const {
  // prepare_for_tokenization: GPT-2 prefixes a space whenever asked (so "" gives "Ġ"); RoBERTa
  // only to a non-empty text that does not start with whitespace.
  bool prefix_space = is_split_into_words || add_prefix_space_;
  if (prefix_space && roberta_) {
    prefix_space = !text.empty() && !detail::is_python_space(decode_code_point(text, 0).value);
  }
  std::string prefixed;
  std::string_view source = text;
  if (prefix_space) {
    prefixed.reserve(text.size() + 1);
    prefixed.push_back(' ');
    prefixed.append(text);
    source = prefixed;
  }
  const std::size_t first_new = out.size();
  std::vector<detail::SpecialTokenSplitter::Chunk> chunks;
  splitter_.split(source, chunks);
  for (const auto& chunk : chunks) {
    if (chunk.special >= 0) {
      const auto& special = splitter_.specials()[static_cast<std::size_t>(chunk.special)];
      out.push_back(
          {special.id, chunk.begin, chunk.end, with_tokens ? special.text : std::string()});
    } else {
      tokenize_plain_text(source, chunk.begin, chunk.end, with_tokens, out);
    }
  }
  if (prefix_space) {
    // Offsets back into the caller's text: the added space has no source byte.
    for (std::size_t i = first_new; i < out.size(); ++i) {
      out[i].begin = out[i].begin > 0 ? out[i].begin - 1 : 0;
      out[i].end = out[i].end > 0 ? out[i].end - 1 : 0;
    }
  }
}

void ByteLevelBpeTokenizer::tokenize_plain_text(std::string_view text, std::size_t begin,
                                                std::size_t end, bool with_tokens,
                                                std::vector<Piece>& out) const {
  const std::string_view chunk = text.substr(0, end);
  for (std::size_t pos = begin; pos < end;) {
    const std::size_t word_end = pretoken_end(chunk, pos);
    with_symbols(chunk.substr(pos, word_end - pos), [&](const std::vector<std::int32_t>& symbols) {
      std::size_t offset = pos;
      for (const std::int32_t index : symbols) {
        const Symbol& symbol = symbols_[static_cast<std::size_t>(index)];
        Piece piece{symbol.vocab_id >= 0 ? symbol.vocab_id : unk_id_,
                    offset,
                    offset + symbol.byte_length,
                    {}};
        // trim_offsets: the space a "Ġword" token carries is not part of the word.
        if (piece.end - piece.begin > 1 && text[piece.begin] == ' ') ++piece.begin;
        if (with_tokens) piece.token = symbol.text;
        out.push_back(std::move(piece));
        offset += symbol.byte_length;
      }
    });
    pos = word_end;
  }
}

std::vector<std::int64_t> ByteLevelBpeTokenizer::convert_tokens_to_ids(
    const std::vector<std::string>& tokens) const {
  std::vector<std::int64_t> ids;
  ids.reserve(tokens.size());
  for (const std::string& token : tokens) {
    const auto it = encoder_.find(token);
    ids.push_back(it == encoder_.end() ? unk_id_ : it->second);
  }
  return ids;
}

std::string ByteLevelBpeTokenizer::id_to_token(std::int64_t id) const {
  const auto it = decoder_.find(id);
  if (it == decoder_.end()) fail("token id ", id, " is not in the byte-level BPE vocabulary");
  return it->second;
}

std::string ByteLevelBpeTokenizer::decode(const std::vector<std::int64_t>& ids,
                                          bool skip_special_tokens) const {
  // convert_tokens_to_string: concatenate, map every character back to its byte, decode UTF-8
  // with errors="replace"; then clean_up_tokenization.
  std::string bytes;
  for (const std::int64_t id : ids) {
    if (skip_special_tokens && is_special_id(id)) continue;
    const std::string token = id_to_token(id);
    for (std::size_t pos = 0; pos < token.size();) {
      const CodePoint cp = decode_code_point(token, pos);
      const auto it = char_to_byte_.find(cp.value);
      if (it != char_to_byte_.end()) {
        bytes.push_back(static_cast<char>(it->second));
      } else {
        bytes.append(token, pos, cp.length);
      }
      pos += cp.length;
    }
  }
  std::string text = detail::decode_utf8_lossy(bytes);
  detail::clean_up_tokenization(text);
  return text;
}

std::vector<std::int64_t> ByteLevelBpeTokenizer::build_inputs_with_special_tokens(
    const std::vector<std::int64_t>& a, const std::optional<std::vector<std::int64_t>>& b) const {
  std::vector<std::int64_t> ids;
  ids.reserve(a.size() + (b ? b->size() : 0) + 4);
  if (roberta_) ids.push_back(special_.cls);  // <s> A </s> or <s> A </s></s> B </s>
  ids.insert(ids.end(), a.begin(), a.end());
  if (roberta_) ids.push_back(special_.sep);
  if (b) {
    if (roberta_) ids.push_back(special_.sep);
    ids.insert(ids.end(), b->begin(), b->end());
    if (roberta_) ids.push_back(special_.sep);
  }
  return ids;
}

std::vector<std::int64_t> ByteLevelBpeTokenizer::token_type_ids_for(
    const std::vector<std::int64_t>& a, const std::optional<std::vector<std::int64_t>>& b) const {
  if (roberta_) {
    // RobertaTokenizer.create_token_type_ids_from_sequences: all zeros.
    return std::vector<std::int64_t>(a.size() + 2 + (b ? b->size() + 2 : 0), 0);
  }
  // GPT-2 keeps the base class's rule: 0 for the first text, 1 for the second.
  std::vector<std::int64_t> types(a.size(), 0);
  if (b) types.resize(a.size() + b->size(), 1);
  return types;
}

std::vector<int> ByteLevelBpeTokenizer::sequence_ids_for(
    const std::vector<std::int64_t>& a, const std::optional<std::vector<std::int64_t>>& b) const {
  std::vector<int> sequence_ids;
  if (roberta_) sequence_ids.push_back(-1);
  sequence_ids.insert(sequence_ids.end(), a.size(), 0);
  if (roberta_) sequence_ids.push_back(-1);
  if (b) {
    if (roberta_) sequence_ids.push_back(-1);
    sequence_ids.insert(sequence_ids.end(), b->size(), 1);
    if (roberta_) sequence_ids.push_back(-1);
  }
  return sequence_ids;
}

}  // namespace

std::unique_ptr<Tokenizer> make_byte_bpe(const std::filesystem::path& vocab_json,
                                         const std::filesystem::path& merges_txt, bool roberta,
                                         bool add_prefix_space) {
  return std::make_unique<ByteLevelBpeTokenizer>(vocab_json, merges_txt, roberta, add_prefix_space);
}

}  // namespace ptbench::tok
