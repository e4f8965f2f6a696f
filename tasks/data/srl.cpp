#include "tasks/data/srl.h"

#include <algorithm>
#include <charconv>
#include <sstream>

#include "common/error.h"
#include "common/files.h"
#include "tasks/data/gold_conll.h"

namespace ptbench::data {

std::vector<std::string> SrlExample::ptuning_v2_words() const {
  std::vector<std::string> out = words;
  out.emplace_back(kPtuningV2PredicateSeparator);
  out.push_back(words.at(static_cast<std::size_t>(predicate_index)));
  return out;
}

namespace {

std::vector<std::string> split_whitespace(const std::string& line) {
  std::vector<std::string> columns;
  std::istringstream in(line);
  for (std::string column; in >> column;) columns.push_back(std::move(column));
  return columns;
}

// One CoNLL-2005 sentence: the words and, per word, the props columns (lemma + arguments).
struct PropsSentence {
  std::vector<std::string> words;
  std::vector<std::vector<std::string>> props;
  std::vector<std::int64_t> lines;  // line of each row in the props (or combined) file
};

void props_to_examples(const PropsSentence& s, const fs::path& props_file, std::vector<SrlExample>& out) {
  if (s.words.empty()) return;
  std::vector<std::size_t> predicates;  // rows whose lemma column is not "-"
  for (std::size_t row = 0; row < s.props.size(); ++row) {
    if (s.props[row][0] != "-") predicates.push_back(row);
  }
  for (std::size_t row = 0; row < s.props.size(); ++row) {
    const std::size_t arguments = s.props[row].size() - 1;
    if (arguments != predicates.size()) {
      fail(props_file.string(), ":", s.lines[row], ": ", arguments, " argument column", arguments == 1 ? "" : "s",
           " but the sentence has ", predicates.size(), " predicate", predicates.size() == 1 ? "" : "s",
           " (rows with a lemma in the first props column)");
    }
  }
  for (std::size_t j = 0; j < predicates.size(); ++j) {
    std::vector<std::string> cells;
    cells.reserve(s.props.size());
    for (const auto& row : s.props) cells.push_back(row[j + 1]);
    SrlExample example;
    example.words = s.words;
    example.predicate_index = static_cast<std::int64_t>(predicates[j]);
    example.predicate_lemma = s.props[predicates[j]][0];
    example.tags = brackets_to_bio(cells, props_file, s.lines);
    out.push_back(std::move(example));
  }
}

}  // namespace

std::vector<SrlExample> read_conll2005_srl(const fs::path& words_file, const fs::path& props_file) {
  std::vector<std::string> words_lines;
  for_each_line(words_file, [&](const std::string& line, std::int64_t) { words_lines.push_back(line); });
  std::vector<SrlExample> examples;
  PropsSentence sentence;
  std::int64_t props_lines = 0;
  auto flush = [&] {
    props_to_examples(sentence, props_file, examples);
    sentence = PropsSentence{};
  };
  for_each_line(props_file, [&](const std::string& line, std::int64_t number) {
    props_lines = number;
    if (static_cast<std::size_t>(number) > words_lines.size()) {
      fail(props_file.string(), ":", number, ": props file is longer than its words file ", words_file.string(), " (",
           words_lines.size(), " lines)");
    }
    const std::vector<std::string> word_columns = split_whitespace(words_lines[number - 1]);
    std::vector<std::string> props = split_whitespace(line);
    if (props.empty() != word_columns.empty()) {
      fail(props_file.string(), ":", number, ": words and props do not line up (", words_file.string(), ":", number,
           props.empty() ? " has a word where the props file ends the sentence)"
                         : " ends the sentence where the props file has a row)");
    }
    if (props.empty()) {
      flush();
      return;
    }
    sentence.words.push_back(word_columns[0]);
    sentence.props.push_back(std::move(props));
    sentence.lines.push_back(number);
  });
  flush();
  // Trailing blank lines in the words file are harmless; a trailing word is not.
  for (std::size_t i = static_cast<std::size_t>(props_lines); i < words_lines.size(); ++i) {
    if (!split_whitespace(words_lines[i]).empty()) {
      fail(words_file.string(), ":", i + 1, ": words file is longer than its props file ", props_file.string(), " (",
           props_lines, " lines)");
    }
  }
  return examples;
}

std::vector<SrlExample> read_conll2005_srl_combined(const fs::path& file, std::size_t word_column,
                                                    std::size_t props_column) {
  std::vector<SrlExample> examples;
  PropsSentence sentence;
  auto flush = [&] {
    props_to_examples(sentence, file, examples);
    sentence = PropsSentence{};
  };
  for_each_line(file, [&](const std::string& line, std::int64_t number) {
    std::vector<std::string> columns = split_whitespace(line);
    if (columns.empty()) {
      flush();
      return;
    }
    if (columns.size() <= std::max(word_column, props_column)) {
      fail(file.string(), ":", number, ": ", columns.size(), " columns, expected the word in column ", word_column + 1,
           " and the props (lemma, then arguments) from column ", props_column + 1);
    }
    sentence.words.push_back(columns[word_column]);
    sentence.props.emplace_back(columns.begin() + static_cast<std::ptrdiff_t>(props_column), columns.end());
    sentence.lines.push_back(number);
  });
  flush();
  return examples;
}

std::vector<SrlExample> read_conll2012_srl(const fs::path& file_or_folder) {
  using namespace detail;
  std::vector<SrlExample> examples;
  for_each_gold_conll_sentence(file_or_folder, [&](const GoldConllSentence& s) {
    auto is_verb_cell = [](const std::string& cell) { return cell.rfind("(V*", 0) == 0 || cell == "(V)"; };
    std::size_t predicates = 0;
    for (const auto& row : s.rows) {
      for (std::size_t c = kGoldConllFirstArgument; c + 1 < row.size(); ++c) {
        if (is_verb_cell(row[c])) {
          ++predicates;
          break;
        }
      }
    }
    for (std::size_t row = 0; row < s.rows.size(); ++row) {
      if (s.argument_columns(row) != predicates) {
        const std::size_t arguments = s.argument_columns(row);
        fail(s.file.string(), ":", s.lines[row], ": ", arguments, " argument column", arguments == 1 ? "" : "s",
             " but the sentence has ", predicates, " predicate", predicates == 1 ? "" : "s",
             " (words marked (V*) in an argument column)");
      }
    }
    for (std::size_t j = 0; j < predicates; ++j) {
      const std::size_t column = kGoldConllFirstArgument + j;
      std::vector<std::string> cells;
      std::int64_t predicate = -1;
      for (std::size_t row = 0; row < s.rows.size(); ++row) {
        cells.push_back(s.rows[row][column]);
        if (is_verb_cell(cells.back())) {
          if (predicate >= 0) {
            fail(s.file.string(), ":", s.lines[row], ": argument column ", j + 1, " marks a second predicate (V*) (",
                 "the first is on line ", s.lines[predicate], ")");
          }
          predicate = static_cast<std::int64_t>(row);
        }
      }
      if (predicate < 0) {
        fail(s.file.string(), ":", s.lines.front(), ": argument column ", j + 1,
             " of the sentence starting here marks no predicate (V*)");
      }
      SrlExample example;
      for (const auto& row : s.rows) example.words.push_back(row[kGoldConllWord]);
      example.predicate_index = predicate;
      example.predicate_lemma = s.rows[predicate][kGoldConllLemma];
      const std::string& sense = s.rows[predicate][kGoldConllFrameset];
      if (sense != "-") example.predicate_sense = sense;
      example.tags = brackets_to_bio(cells, s.file, s.lines);
      examples.push_back(std::move(example));
    }
  });
  return examples;
}

std::vector<SrlExample> read_srl_bio_file(const fs::path& file) {
  std::vector<SrlExample> examples;
  for_each_line(file, [&](const std::string& line, std::int64_t number) {
    const std::vector<std::string> columns = split_whitespace(line);
    if (columns.empty()) return;
    std::size_t bar = 0;
    while (bar < columns.size() && columns[bar] != "|||") ++bar;
    if (bar == columns.size()) fail(file.string(), ":", number, ": no '|||' between the words and the tags");
    SrlExample example;
    const std::string& index = columns[0];
    std::int64_t value = -1;
    const auto [end, error] = std::from_chars(index.data(), index.data() + index.size(), value);
    if (error != std::errc() || end != index.data() + index.size()) {
      fail(file.string(), ":", number, ": '", index, "' is not a predicate index (the line starts with one)");
    }
    example.words.assign(columns.begin() + 1, columns.begin() + static_cast<std::ptrdiff_t>(bar));
    example.tags.assign(columns.begin() + static_cast<std::ptrdiff_t>(bar) + 1, columns.end());
    if (example.words.empty()) fail(file.string(), ":", number, ": no words before '|||'");
    if (example.tags.size() != example.words.size()) {
      fail(file.string(), ":", number, ": ", example.words.size(), " words but ", example.tags.size(), " tags");
    }
    if (value < 0 || value >= static_cast<std::int64_t>(example.words.size())) {
      fail(file.string(), ":", number, ": predicate index ", value, " outside the ", example.words.size(), " words");
    }
    for (const auto& tag : example.tags) {
      if (!is_bio_tag(tag)) fail(file.string(), ":", number, ": tag '", tag, "' is not in the BIO scheme");
    }
    example.predicate_index = value;
    examples.push_back(std::move(example));
  });
  return examples;
}

fs::path srl_bio_split_path(const fs::path& data_root, SrlCorpus corpus, Split split) {
  if (corpus == SrlCorpus::conll2005) {
    const char* file = split == Split::train        ? "conll05.train.txt"
                       : split == Split::validation ? "conll05.devel.txt"
                                                    : "conll05.test.wsj.txt";
    return data_root / "CoNLL05" / file;
  }
  const char* file = split == Split::train        ? "conll2012.train.txt"
                     : split == Split::validation ? "conll2012.devel.txt"
                                                  : "conll2012.test.txt";
  return data_root / "CoNLL12" / file;
}

fs::path conll2005_brown_test_path(const fs::path& data_root) {
  return data_root / "CoNLL05" / "conll05.test.brown.txt";
}

std::vector<SrlExample> load_srl_bio(const fs::path& data_root, SrlCorpus corpus, Split split) {
  const fs::path file = srl_bio_split_path(data_root, corpus, split);
  const bool conll05 = corpus == SrlCorpus::conll2005;
  require_data_path(
      file, {std::string(conll05 ? "CoNLL-2005" : "CoNLL-2012") + " SRL " + std::string(split_name(split)) +
                 " split (one-line BIO format)",
             conll05 ? "https://www.cs.upc.edu/~srlconll/ (props; the words need the Penn Treebank, LDC99T42), "
                       "converted to one line per predicate with the scripts of https://github.com/luheng/deep_srl"
                     : "OntoNotes 5.0 (LDC2013T19) in CoNLL-2012 format (https://conll.cemantix.org/2012/data.html), "
                       "converted to one line per predicate with the scripts of https://github.com/luheng/deep_srl",
             conll05 ? "put conll05.{train,devel,test.wsj,test.brown}.txt in <data-dir>/CoNLL05/"
                     : "put conll2012.{train,devel,test}.txt in <data-dir>/CoNLL12/"});
  return read_srl_bio_file(file);
}

}  // namespace ptbench::data
