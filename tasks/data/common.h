// Pieces every loader of the data layer shares: split names, the "data set not found" error,
// character-offset conversion, and the CoNLL bracket notation used by SRL arguments and
// OntoNotes named entities. Nothing here needs LibTorch; loaders return plain structs and the
// tasks turn them into batches later.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ptbench::data {

namespace fs = std::filesystem;

// The three roles a file can play. Every data set names them differently on disk
// (SuperGLUE val.jsonl, CoNLL-2003 valid.txt, CoNLL-2004 conll04_dev.json, OntoNotes
// development/); each loader maps them to its own official file names.
enum class Split { train, validation, test };

// "train", "validation", "test".
std::string_view split_name(Split split);
// Accepts "train", "validation"/"val"/"valid"/"dev"/"development", "test"; anything else is an
// Error listing the accepted names.
Split parse_split(std::string_view name);

// Where a data set officially comes from, for the error a missing file produces.
struct DataSource {
  std::string dataset;  // human name, e.g. "SuperGLUE BoolQ"
  std::string origin;   // official URL (or the catalogue entry for licensed corpora)
  std::string layout;   // what to put where, e.g. "unzip it so that <data-dir>/superglue/BoolQ/train.jsonl exists"
};

// Fails with an Error when `path` does not exist. The message names the path expected, the
// data set, where it comes from and how to point ptbench at a download (--data-dir or
// PTBENCH_DATA), as DESIGN.md section 5 asks.
void require_data_path(const fs::path& path, const DataSource& source);

// Byte offset in the UTF-8 `text` of the code point with index `char_offset` (offsets in the
// official json files are Python str indices, i.e. code points; our tokenizers work on bytes).
// `char_offset` equal to the number of code points gives text.size(); negative or larger gives
// nullopt. An invalid UTF-8 byte counts as one code point.
std::optional<std::size_t> utf8_byte_offset(std::string_view text, std::int64_t char_offset);

// Number of code points of a UTF-8 string (same counting as utf8_byte_offset).
std::int64_t utf8_length(std::string_view text);

// True for "O", "B-X" and "I-X" with a non-empty type X.
bool is_bio_tag(std::string_view tag);

// Converts one CoNLL bracket column to BIO tags, one per row. A cell is `*` (no change),
// `(LABEL*` (a span opens), `*)` or `*LABEL)` (the open span closes, CoNLL-2004 style repeats
// the label), or both at once: `(LABEL*)`, `(LABEL*LABEL)`, OntoNotes' `(LABEL)`. The first row
// of a span gets B-LABEL, the rest I-LABEL, rows outside every span O. Spans never nest in an
// SRL argument column or the OntoNotes name column; a nested open, a close without an open, a
// span still open after the last row, a closing label that differs from the open one or a cell
// that is none of the above is an Error naming `file` and the row's line from `lines`.
std::vector<std::string> brackets_to_bio(const std::vector<std::string>& cells, const fs::path& file,
                                         const std::vector<std::int64_t>& lines);

}  // namespace ptbench::data
