// Internal to tasks/data: the CoNLL-2011/2012 `*gold_conll` reader shared by the OntoNotes
// named-entity loader (conll.cpp) and the CoNLL-2012 SRL loader (srl.cpp).
//
// Format (Pradhan et al., CoNLL-2012 shared task; conll.cemantix.org/2012/data.html): a file
// holds documents between `#begin document (<id>); part <nnn>` and `#end document` lines;
// sentences are separated by blank lines; every word line has whitespace-separated columns
//   0 document id   1 part   2 word index   3 word   4 POS   5 parse bit   6 predicate lemma
//   7 predicate frameset id   8 word sense   9 speaker   10 named entities
//   11 .. N-2 one argument column per predicate   N-1 coreference
// so a line has at least 12 columns (the SRL loader checks that every line of a sentence has
// one argument column per predicate).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace ptbench::data::detail {

namespace fs = std::filesystem;

inline constexpr std::size_t kGoldConllWord = 3;
inline constexpr std::size_t kGoldConllLemma = 6;
inline constexpr std::size_t kGoldConllFrameset = 7;
inline constexpr std::size_t kGoldConllEntities = 10;
inline constexpr std::size_t kGoldConllFirstArgument = 11;
inline constexpr std::size_t kGoldConllMinColumns = 12;

struct GoldConllSentence {
  fs::path file;
  std::string document;                        // from the #begin document line
  std::vector<std::vector<std::string>> rows;  // columns of each word line
  std::vector<std::int64_t> lines;             // line number of each row
  // Number of argument columns (columns 11 .. N-2) of row `row`.
  std::size_t argument_columns(std::size_t row) const { return rows[row].size() - kGoldConllMinColumns; }
};

// The `*gold_conll` files to read: `path` itself when it is a file, else every regular file
// under it (recursively) whose name ends in "gold_conll" (`.gold_conll`, `.v4_gold_conll`),
// sorted by path so the order never depends on the file system. A folder without any is an Error.
std::vector<fs::path> gold_conll_files(const fs::path& path);

// Calls visit(sentence) for every sentence of every file. Errors (naming file and line): a word
// line outside a document, fewer than 12 columns, `#begin document` inside an open document,
// `#end document` without a begin, a document left open at the end of its file.
void for_each_gold_conll_sentence(const fs::path& path, const std::function<void(const GoldConllSentence&)>& visit);

}  // namespace ptbench::data::detail
