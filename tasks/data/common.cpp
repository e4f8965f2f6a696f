#include "tasks/data/common.h"

#include <system_error>

#include "common/error.h"

namespace ptbench::data {

std::string_view split_name(Split split) {
  switch (split) {
    case Split::train:
      return "train";
    case Split::validation:
      return "validation";
    case Split::test:
      return "test";
  }
  return "?";
}

Split parse_split(std::string_view name) {
  if (name == "train") return Split::train;
  if (name == "validation" || name == "val" || name == "valid" || name == "dev" || name == "development") {
    return Split::validation;
  }
  if (name == "test") return Split::test;
  fail("unknown split '", name, "' (known: train, validation (or val, valid, dev, development), test)");
}

void require_data_path(const fs::path& path, const DataSource& source) {
  std::error_code ec;
  if (fs::exists(path, ec)) return;
  fail(source.dataset, " not found: expected ", path.string(), ". The official files come from ", source.origin, "; ",
       source.layout,
       ", then point ptbench at that data folder with --data-dir <folder> or the environment variable PTBENCH_DATA");
}

namespace {
// Length of the UTF-8 sequence starting with `lead`; 1 for an invalid lead byte.
std::size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;
}
}  // namespace

std::optional<std::size_t> utf8_byte_offset(std::string_view text, std::int64_t char_offset) {
  if (char_offset < 0) return std::nullopt;
  std::size_t byte = 0;
  for (std::int64_t i = 0; i < char_offset; ++i) {
    if (byte >= text.size()) return std::nullopt;
    byte += sequence_length(static_cast<unsigned char>(text[byte]));
  }
  if (byte > text.size()) return std::nullopt;  // a truncated last sequence
  return byte;
}

std::int64_t utf8_length(std::string_view text) {
  std::int64_t count = 0;
  for (std::size_t byte = 0; byte < text.size(); byte += sequence_length(static_cast<unsigned char>(text[byte]))) {
    ++count;
  }
  return count;
}

bool is_bio_tag(std::string_view tag) {
  if (tag == "O") return true;
  return tag.size() > 2 && (tag[0] == 'B' || tag[0] == 'I') && tag[1] == '-';
}

namespace {
struct BracketCell {
  std::string open;  // label of a span opening here, empty if none
  bool close = false;
  std::string close_label;  // CoNLL-2004 style `*A0)`; empty when the cell only says `)`
};

// Parses `(LABEL`? `*`? `LABEL`? `)`? — at least the star or a bracket must be present.
bool parse_bracket_cell(std::string_view cell, BracketCell& out) {
  std::size_t pos = 0;
  if (pos < cell.size() && cell[pos] == '(') {
    ++pos;
    const std::size_t start = pos;
    while (pos < cell.size() && cell[pos] != '*' && cell[pos] != ')' && cell[pos] != '(') ++pos;
    out.open = std::string(cell.substr(start, pos - start));
    if (out.open.empty()) return false;
  }
  const bool star = pos < cell.size() && cell[pos] == '*';
  if (star) ++pos;
  const std::size_t label_start = pos;
  while (pos < cell.size() && cell[pos] != ')' && cell[pos] != '(' && cell[pos] != '*') ++pos;
  out.close_label = std::string(cell.substr(label_start, pos - label_start));
  if (pos < cell.size() && cell[pos] == ')') {
    out.close = true;
    ++pos;
  }
  if (pos != cell.size()) return false;
  if (!out.close_label.empty() && !out.close) return false;    // "*A0" without ')'
  if (!star && !(!out.open.empty() && out.close)) return false;  // only "(LABEL)" may omit the star
  return true;
}
}  // namespace

std::vector<std::string> brackets_to_bio(const std::vector<std::string>& cells, const fs::path& file,
                                         const std::vector<std::int64_t>& lines) {
  std::vector<std::string> tags;
  tags.reserve(cells.size());
  std::string current;  // label of the open span, empty when none
  std::int64_t opened_at = 0;
  auto line_of = [&](std::size_t row) { return row < lines.size() ? lines[row] : std::int64_t{0}; };
  for (std::size_t row = 0; row < cells.size(); ++row) {
    BracketCell cell;
    if (!parse_bracket_cell(cells[row], cell)) {
      fail(file.string(), ":", line_of(row), ": '", cells[row],
           "' is not a CoNLL bracket cell (expected *, (LABEL*, *), (LABEL*) or (LABEL))");
    }
    if (!cell.open.empty()) {
      if (!current.empty()) {
        fail(file.string(), ":", line_of(row), ": span '(", cell.open, "*' opens inside span '(", current,
             "*' opened on line ", opened_at, "; spans in this column cannot nest");
      }
      current = cell.open;
      opened_at = line_of(row);
      tags.push_back("B-" + current);
    } else {
      tags.push_back(current.empty() ? std::string("O") : "I-" + current);
    }
    if (cell.close) {
      if (current.empty())
        fail(file.string(), ":", line_of(row), ": '", cells[row], "' closes a span that was never opened");
      if (!cell.close_label.empty() && cell.close_label != current) {
        fail(file.string(), ":", line_of(row), ": '", cells[row], "' closes span ", cell.close_label, " but '(",
             current, "*' is the one open");
      }
      current.clear();
    }
  }
  if (!current.empty()) {
    fail(file.string(), ":", opened_at, ": span '(", current,
         "*' opened here is never closed before the sentence ends");
  }
  return tags;
}

}  // namespace ptbench::data
