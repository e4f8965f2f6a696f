#include "backbones/tokenizers/text_utils.h"

#include <algorithm>
#include <utility>

namespace ptbench::tok::detail {

namespace {
constexpr char32_t kReplacementCharacter = 0xFFFD;

bool is_continuation_byte(unsigned char byte) { return (byte & 0xC0) == 0x80; }
}  // namespace

CodePoint decode_code_point(std::string_view text, std::size_t pos) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(pos);
  if (lead < 0x80) return {lead, 1};
  std::uint32_t length = 0;
  char32_t value = 0;
  // Second-byte ranges exclude overlong forms, surrogates and values above U+10FFFF.
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    value = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    value = lead & 0x0F;
    if (lead == 0xE0) second_min = 0xA0;
    if (lead == 0xED) second_max = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    value = lead & 0x07;
    if (lead == 0xF0) second_min = 0x90;
    if (lead == 0xF4) second_max = 0x8F;
  } else {
    return {kReplacementCharacter, 1};
  }
  if (pos + length > text.size()) return {kReplacementCharacter, 1};
  for (std::uint32_t i = 1; i < length; ++i) {
    const unsigned char next = byte(pos + i);
    const bool ok =
        i == 1 ? (next >= second_min && next <= second_max) : is_continuation_byte(next);
    if (!ok) return {kReplacementCharacter, 1};
    value = (value << 6) | (next & 0x3F);
  }
  return {value, length};
}

std::size_t previous_code_point_start(std::string_view text, std::size_t pos) {
  // A lead byte 2 to 4 bytes back whose sequence decodes to exactly that span starts the code
  // point; otherwise the last byte stands alone, as decode_code_point treats it.
  if (!is_continuation_byte(text[pos - 1])) return pos - 1;
  for (std::size_t length = 2; length <= 4 && length <= pos; ++length) {
    const std::size_t candidate = pos - length;
    if (is_continuation_byte(text[candidate])) continue;
    return decode_code_point(text, candidate).length == length ? candidate : pos - 1;
  }
  return pos - 1;
}

void append_utf8(std::string& out, char32_t code_point) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

bool is_python_space(char32_t c) {
  // CPython's _PyUnicode_IsWhitespace: bidirectional class WS, B or S, or category Zs.
  if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
  switch (c) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

std::size_t skip_leading_space(std::string_view text, std::size_t begin, std::size_t end) {
  while (begin < end) {
    const CodePoint cp = decode_code_point(text, begin);
    if (!is_python_space(cp.value)) break;
    begin += cp.length;
  }
  return begin;
}

std::size_t skip_trailing_space(std::string_view text, std::size_t begin, std::size_t end) {
  while (end > begin) {
    const std::size_t start = std::max(begin, previous_code_point_start(text, end));
    if (!is_python_space(decode_code_point(text, start).value)) break;
    end = start;
  }
  return end;
}

std::string_view python_strip(std::string_view text) {
  const std::size_t begin = skip_leading_space(text, 0, text.size());
  const std::size_t end = skip_trailing_space(text, begin, text.size());
  return text.substr(begin, end - begin);
}

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  std::size_t pos = text.find(from);
  if (pos == std::string::npos) return;
  std::string result;
  result.reserve(text.size());
  std::size_t copied = 0;
  while (pos != std::string::npos) {
    result.append(text, copied, pos - copied);
    result.append(to);
    copied = pos + from.size();
    pos = text.find(from, copied);
  }
  result.append(std::string_view(text).substr(copied));
  text = std::move(result);
}

void clean_up_tokenization(std::string& text) {
  // The replacements and their order are those of transformers 4.28
  // (tokenization_utils_base.py, PreTrainedTokenizerBase.clean_up_tokenization).
  static constexpr std::pair<std::string_view, std::string_view> kReplacements[] = {
      {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
  };
  for (const auto& [from, to] : kReplacements) replace_all(text, from, to);
}

std::string decode_utf8_lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const CodePoint cp = decode_code_point(bytes, pos);
    if (cp.value != kReplacementCharacter || cp.length != 1) {
      out.append(bytes.substr(pos, cp.length));
      pos += cp.length;
      continue;
    }
    // Invalid: CPython replaces the maximal prefix of a valid sequence (a lead byte followed by
    // the continuation bytes that still fit) by one U+FFFD and resumes after it.
    const unsigned char lead = static_cast<unsigned char>(bytes[pos]);
    std::size_t length = 1;
    std::size_t expected = lead >= 0xF0 && lead <= 0xF4   ? 4
                           : lead >= 0xE0 && lead <= 0xEF ? 3
                           : lead >= 0xC2 && lead <= 0xDF ? 2
                                                          : 1;
    while (length < expected && pos + length < bytes.size()) {
      const unsigned char next = static_cast<unsigned char>(bytes[pos + length]);
      unsigned char low = 0x80;
      unsigned char high = 0xBF;
      if (length == 1) {
        if (lead == 0xE0) low = 0xA0;
        if (lead == 0xED) high = 0x9F;
        if (lead == 0xF0) low = 0x90;
        if (lead == 0xF4) high = 0x8F;
      }
      if (next < low || next > high) break;
      ++length;
    }
    append_utf8(out, kReplacementCharacter);
    pos += length;
  }
  return out;
}

SpecialTokenSplitter::SpecialTokenSplitter(std::vector<Special> specials)
    : specials_(std::move(specials)) {
  for (const Special& special : specials_) {
    if (!special.text.empty()) first_byte_[static_cast<unsigned char>(special.text[0])] = true;
  }
}

int SpecialTokenSplitter::find(std::string_view text) const {
  for (std::size_t i = 0; i < specials_.size(); ++i) {
    if (specials_[i].text == text) return static_cast<int>(i);
  }
  return -1;
}

int SpecialTokenSplitter::match_at(std::string_view text, std::size_t pos) const {
  int best = -1;
  std::size_t best_length = 0;
  const std::string_view rest = text.substr(pos);
  for (std::size_t i = 0; i < specials_.size(); ++i) {
    const std::string& candidate = specials_[i].text;
    if (!candidate.empty() && candidate.size() > best_length && rest.starts_with(candidate)) {
      best = static_cast<int>(i);
      best_length = candidate.size();
    }
  }
  return best;
}

void SpecialTokenSplitter::split(std::string_view text, std::vector<Chunk>& out) const {
  out.clear();
  // Leftmost matches, the longest at each position: what transformers' Trie.split gives for
  // special-token sets in which no token contains another (true of BERT, GPT-2, RoBERTa, T5).
  std::size_t plain_start = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const int special =
        first_byte_[static_cast<unsigned char>(text[pos])] ? match_at(text, pos) : -1;
    if (special < 0) {
      ++pos;
      continue;
    }
    if (pos > plain_start) out.push_back({plain_start, pos, -1});
    const std::size_t end = pos + specials_[special].text.size();
    out.push_back({pos, end, special});
    pos = plain_start = end;
  }
  if (text.size() > plain_start || out.empty()) out.push_back({plain_start, text.size(), -1});

  // Strip ordinary chunks next to special tokens, then drop the ones left empty.
  for (std::size_t i = 0; i < out.size(); ++i) {
    Chunk& chunk = out[i];
    if (chunk.special >= 0) continue;
    if (i > 0 && out[i - 1].special >= 0 && specials_[out[i - 1].special].strip_right_neighbour) {
      chunk.begin = skip_leading_space(text, chunk.begin, chunk.end);
    }
    if (i + 1 < out.size() && out[i + 1].special >= 0 &&
        specials_[out[i + 1].special].strip_left_neighbour) {
      chunk.end = skip_trailing_space(text, chunk.begin, chunk.end);
    }
  }
  std::erase_if(out,
                [](const Chunk& chunk) { return chunk.special < 0 && chunk.begin == chunk.end; });
}

}  // namespace ptbench::tok::detail
