#include "tasks/data/gold_conll.h"

#include <algorithm>
#include <sstream>
#include <system_error>

#include "common/error.h"
#include "common/files.h"

namespace ptbench::data::detail {

namespace {
bool ends_with(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<std::string> split_whitespace(const std::string& line) {
  std::vector<std::string> columns;
  std::istringstream in(line);
  std::string column;
  while (in >> column) columns.push_back(std::move(column));
  return columns;
}
}  // namespace

std::vector<fs::path> gold_conll_files(const fs::path& path) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return {path};
  if (!fs::is_directory(path, ec)) fail("cannot read ", path.string(), ": no such file or folder");
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file() && ends_with(it->path().filename().string(), "gold_conll")) files.push_back(it->path());
  }
  if (ec) fail("cannot list ", path.string(), ": ", ec.message());
  if (files.empty()) fail(path.string(), " holds no *gold_conll files (CoNLL-2012 format expected)");
  std::sort(files.begin(), files.end());
  return files;
}

void for_each_gold_conll_sentence(const fs::path& path, const std::function<void(const GoldConllSentence&)>& visit) {
  for (const fs::path& file : gold_conll_files(path)) {
    GoldConllSentence sentence;
    sentence.file = file;
    bool in_document = false;
    std::int64_t document_line = 0;
    auto flush = [&] {
      if (!sentence.rows.empty()) visit(sentence);
      sentence.rows.clear();
      sentence.lines.clear();
    };
    for_each_line(file, [&](const std::string& line, std::int64_t number) {
      if (line.rfind("#begin document", 0) == 0) {
        if (in_document) {
          fail(file.string(), ":", number, ": #begin document inside the document opened on line ", document_line);
        }
        in_document = true;
        document_line = number;
        // "#begin document (nw/wsj/00/wsj_0001); part 000"
        const auto open = line.find('(');
        const auto close = line.find(')', open == std::string::npos ? 0 : open);
        sentence.document = open != std::string::npos && close != std::string::npos
                                ? line.substr(open + 1, close - open - 1)
                                : line.substr(std::string_view("#begin document").size());
        return;
      }
      if (line.rfind("#end document", 0) == 0) {
        if (!in_document) fail(file.string(), ":", number, ": #end document without a #begin document");
        flush();
        in_document = false;
        return;
      }
      if (line.find_first_not_of(" \t") == std::string::npos) {
        flush();
        return;
      }
      if (line[0] == '#')
        fail(file.string(), ":", number, ": unexpected line '", line, "' (only #begin/#end document)");
      if (!in_document)
        fail(file.string(), ":", number, ": word line outside a #begin document ... #end document block");
      std::vector<std::string> columns = split_whitespace(line);
      if (columns.size() < kGoldConllMinColumns) {
        fail(file.string(), ":", number, ": ", columns.size(), " columns, a *gold_conll word line has at least ",
             kGoldConllMinColumns,
             " (document, part, index, word, POS, parse, lemma, frameset, sense, speaker, "
             "entities, [arguments...], coreference)");
      }
      sentence.rows.push_back(std::move(columns));
      sentence.lines.push_back(number);
    });
    if (in_document) fail(file.string(), ":", document_line, ": document opened here is never closed (#end document)");
    flush();
  }
}

}  // namespace ptbench::data::detail
