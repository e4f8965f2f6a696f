#include "tasks/data/conll.h"

#include <set>
#include <sstream>

#include "common/error.h"
#include "common/files.h"
#include "tasks/data/gold_conll.h"
#include "tasks/data/json_fields.h"

namespace ptbench::data {

std::vector<std::string> entity_types(const std::vector<TaggedSentence>& sentences) {
  std::set<std::string> types;
  for (const auto& sentence : sentences) {
    for (const auto& tag : sentence.tags) {
      if (tag.size() > 2 && tag[1] == '-') types.insert(tag.substr(2));
    }
  }
  return {types.begin(), types.end()};
}

// ---------------------------------------------------------------- CoNLL-2003

std::vector<TaggedSentence> read_conll2003_file(const fs::path& file) {
  std::vector<TaggedSentence> sentences;
  TaggedSentence current;
  auto flush = [&] {
    if (!current.words.empty()) sentences.push_back(std::move(current));
    current = TaggedSentence{};
  };
  for_each_line(file, [&](const std::string& line, std::int64_t number) {
    std::istringstream in(line);
    std::vector<std::string> columns;
    for (std::string column; in >> column;) columns.push_back(std::move(column));
    if (columns.empty()) {
      flush();
      return;
    }
    if (columns[0] == "-DOCSTART-") {
      flush();
      return;
    }
    if (columns.size() != 4) {
      fail(file.string(), ":", number, ": ", columns.size(),
           " columns, a CoNLL-2003 line has 4 (token, POS, chunk, NER tag)");
    }
    const std::string& tag = columns[3];
    if (!is_bio_tag(tag)) {
      fail(file.string(), ":", number, ": tag '", tag, "' is not in the IOB2 scheme (O, B-TYPE, I-TYPE)");
    }
    if (tag[0] == 'I') {
      const std::string previous = current.tags.empty() ? "O" : current.tags.back();
      if (previous == "O" || previous.substr(2) != tag.substr(2)) {
        fail(file.string(), ":", number, ": tag '", tag, "' follows '", previous,
             "': IOB2 starts every entity with B- (this looks like the IOB1 tagging of the original CoNLL-2003 "
             "release; use the IOB2 version, e.g. the Hugging Face conll2003 data set)");
      }
    }
    current.words.push_back(columns[0]);
    current.tags.push_back(tag);
  });
  flush();
  return sentences;
}

fs::path conll2003_split_path(const fs::path& data_root, Split split) {
  const char* file = split == Split::train ? "train.txt" : split == Split::validation ? "valid.txt" : "test.txt";
  return data_root / "conll2003" / file;
}

std::vector<TaggedSentence> load_conll2003(const fs::path& data_root, Split split) {
  const fs::path file = conll2003_split_path(data_root, split);
  require_data_path(file, {"CoNLL-2003 English NER " + std::string(split_name(split)) + " split",
                           "https://www.clips.uantwerpen.be/conll2003/ner/ (annotations; the text needs Reuters RCV1), "
                           "in the IOB2 version of the Hugging Face conll2003 data set",
                           "put train.txt, valid.txt and test.txt in <data-dir>/conll2003/"});
  return read_conll2003_file(file);
}

// ---------------------------------------------------------------- CoNLL-2004 (SpERT json)

std::vector<TaggedSentence> read_conll04_file(const fs::path& file) {
  const nlohmann::json document = read_json_file(file);
  if (!document.is_array()) fail(file.string(), ": expected a JSON array of sentences (SpERT format)");
  std::vector<TaggedSentence> sentences;
  sentences.reserve(document.size());
  for (std::size_t i = 0; i < document.size(); ++i) {
    const detail::JsonFields record(document[i], file.string() + ": sentence " + std::to_string(i));
    TaggedSentence sentence;
    const auto& tokens = record.get("tokens");
    if (!tokens.is_array()) record.problem("tokens", "expected an array of strings");
    for (const auto& token : tokens) {
      if (!token.is_string()) record.problem("tokens", "expected an array of strings, found " + token.dump());
      sentence.words.push_back(token.get<std::string>());
    }
    sentence.tags.assign(sentence.words.size(), "O");
    const auto n = static_cast<std::int64_t>(sentence.words.size());
    record.for_each_object("entities", [&](const detail::JsonFields& entity, std::size_t) {
      const std::string type = entity.string("type");
      const std::int64_t start = entity.integer("start");
      const std::int64_t end = entity.integer("end");  // exclusive
      if (type.empty()) entity.problem("type", "empty entity type");
      if (start < 0 || end <= start || end > n) {
        entity.problem("end", "span [" + std::to_string(start) + ", " + std::to_string(end) + ") does not fit " +
                                  std::to_string(n) + " tokens");
      }
      for (std::int64_t k = start; k < end; ++k) {
        if (sentence.tags[k] != "O") {
          entity.problem("start", "entity overlaps another one at token " + std::to_string(k) +
                                      " (a BIO tagging cannot hold both)");
        }
      }
      sentence.tags[start] = "B-" + type;
      for (std::int64_t k = start + 1; k < end; ++k) sentence.tags[k] = "I-" + type;
    });
    sentences.push_back(std::move(sentence));
  }
  return sentences;
}

fs::path conll04_split_path(const fs::path& data_root, Split split) {
  const char* file = split == Split::train        ? "conll04_train.json"
                     : split == Split::validation ? "conll04_dev.json"
                                                  : "conll04_test.json";
  return data_root / "conll04" / file;
}

std::vector<TaggedSentence> load_conll04(const fs::path& data_root, Split split) {
  const fs::path file = conll04_split_path(data_root, split);
  require_data_path(file, {"CoNLL-2004 (SpERT json) " + std::string(split_name(split)) + " split",
                           "http://lavis.cs.hs-rm.de/storage/spert/public/datasets/conll04/ (SpERT's copy of Roth & "
                           "Yih's corpus)",
                           "put conll04_{train,dev,test}.json in <data-dir>/conll04/"});
  return read_conll04_file(file);
}

// ---------------------------------------------------------------- OntoNotes 5.0 (CoNLL-2012)

std::vector<TaggedSentence> read_ontonotes_ner(const fs::path& file_or_folder) {
  std::vector<TaggedSentence> sentences;
  detail::for_each_gold_conll_sentence(file_or_folder, [&](const detail::GoldConllSentence& s) {
    TaggedSentence sentence;
    std::vector<std::string> cells;
    for (const auto& row : s.rows) {
      sentence.words.push_back(row[detail::kGoldConllWord]);
      cells.push_back(row[detail::kGoldConllEntities]);
    }
    sentence.tags = brackets_to_bio(cells, s.file, s.lines);
    sentences.push_back(std::move(sentence));
  });
  return sentences;
}

fs::path ontonotes_split_dir(const fs::path& data_root, Split split) {
  const char* folder = split == Split::train ? "train" : split == Split::validation ? "development" : "test";
  return data_root / "conll-2012" / "v4" / "data" / folder;
}

std::vector<TaggedSentence> load_ontonotes_ner(const fs::path& data_root, Split split) {
  const fs::path folder = ontonotes_split_dir(data_root, split);
  require_data_path(folder, {"OntoNotes 5.0 (CoNLL-2012 format) " + std::string(split_name(split)) + " split",
                             "LDC2013T19 (https://catalog.ldc.upenn.edu/LDC2013T19, licensed) converted with the "
                             "CoNLL-2012 scripts of https://conll.cemantix.org/2012/data.html",
                             "the conversion writes <data-dir>/conll-2012/v4/data/{train,development,test}/"});
  return read_ontonotes_ner(folder);
}

}  // namespace ptbench::data
