// Text helpers shared by the three tokenizers (private to backbones/tokenizers/): UTF-8
// iteration with byte offsets, Python's notion of whitespace, the special-token splitting that
// transformers' PreTrainedTokenizer.tokenize does before any model-specific step, and the decode
// post-processing (clean_up_tokenization, bytes.decode(errors="replace")).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ptbench::tok::detail {

// Token string -> id, looked up by string_view without building a std::string.
struct StringViewHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};
using TokenIdMap = std::unordered_map<std::string, std::int64_t, StringViewHash, std::equal_to<>>;

// One code point decoded from UTF-8. Invalid or truncated sequences decode as U+FFFD of length
// 1, so iteration always advances and never reads past the end.
struct CodePoint {
  char32_t value = 0;
  std::uint32_t length = 1;  // bytes
};
CodePoint decode_code_point(std::string_view text, std::size_t pos);

// Start of the code point that ends at `pos` (pos > 0).
std::size_t previous_code_point_start(std::string_view text, std::size_t pos);

void append_utf8(std::string& out, char32_t code_point);

// Python's str.isspace() (what str.split() and str.strip() use).
bool is_python_space(char32_t code_point);

// Python's str.lstrip() / str.rstrip() on the byte range [begin, end) of `text`.
std::size_t skip_leading_space(std::string_view text, std::size_t begin, std::size_t end);
std::size_t skip_trailing_space(std::string_view text, std::size_t begin, std::size_t end);

// Python's str.strip().
std::string_view python_strip(std::string_view text);

// Python's str.replace(from, to): every non-overlapping occurrence, scanning left to right.
void replace_all(std::string& text, std::string_view from, std::string_view to);

// transformers' PreTrainedTokenizerBase.clean_up_tokenization (applied by decode with
// clean_up_tokenization_spaces=True, the 4.28 default): " ." -> "." and friends.
void clean_up_tokenization(std::string& text);

// bytes.decode("utf-8", errors="replace"): each maximal invalid subsequence becomes one U+FFFD,
// as CPython's decoder does.
std::string decode_utf8_lossy(std::string_view bytes);

// The special tokens a tokenizer keeps whole when they are written inside the text
// (transformers 4.28 PreTrainedTokenizer.tokenize: tokens_trie.split, then the neighbours of a
// special token are stripped of whitespace, then empty pieces are dropped).
class SpecialTokenSplitter {
 public:
  struct Special {
    std::string text;
    std::int64_t id = -1;
    // transformers strips the whitespace the text has next to a special token: for a plain
    // string special token on both sides; for an AddedToken only where lstrip (the left
    // neighbour's end) or rstrip (the right neighbour's start) is set.
    bool strip_left_neighbour = true;
    bool strip_right_neighbour = true;
  };
  struct Chunk {
    std::size_t begin = 0, end = 0;  // byte range in the text
    int special = -1;                // index into specials(), or -1 for ordinary text
  };

  SpecialTokenSplitter() = default;
  explicit SpecialTokenSplitter(std::vector<Special> specials);

  // Splits `text` into ordinary and special chunks; ordinary chunks are already stripped next to
  // special tokens and empty ones are left out. `out` is cleared first.
  void split(std::string_view text, std::vector<Chunk>& out) const;

  const std::vector<Special>& specials() const { return specials_; }
  // Index of the special token spelled exactly `text`, or -1.
  int find(std::string_view text) const;

 private:
  // The longest special token that starts at `pos`, or -1.
  int match_at(std::string_view text, std::size_t pos) const;

  std::vector<Special> specials_;
  bool first_byte_[256] = {};
};

}  // namespace ptbench::tok::detail
