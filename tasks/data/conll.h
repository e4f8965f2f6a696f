// Named-entity recognition corpora as sentences of words with one BIO (IOB2) tag per word:
//  - CoNLL-2003 English (Tjong Kim Sang & De Meulder 2003), the IOB2 version the Hugging Face
//    `conll2003` data set distributes: <data-dir>/conll2003/{train,valid,test}.txt;
//  - CoNLL-2004 entities (Roth & Yih 2004) in the SpERT json (Eberts & Ulges 2020):
//    <data-dir>/conll04/conll04_{train,dev,test}.json;
//  - OntoNotes 5.0 in the CoNLL-2012 `*gold_conll` format (Pradhan et al. 2012/2013).
// As everywhere in tasks/data, paths come from the caller; read_* parse a given file or folder,
// load_* find the official files under a data root and name the expected file when missing.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tasks/data/common.h"

namespace ptbench::data {

struct TaggedSentence {
  std::vector<std::string> words;
  std::vector<std::string> tags;  // same length as words: "O", "B-PER", "I-PER", ...
};

// Entity types seen in the tags (the X of B-X/I-X), sorted. The label list of a tagging head is
// "O" followed by B-/I- of each type; tasks build it from the training split.
std::vector<std::string> entity_types(const std::vector<TaggedSentence>& sentences);

// ---- CoNLL-2003: lines "token POS chunk NER" separated by single spaces, a blank line after
// each sentence, "-DOCSTART- -X- -X- O" lines between documents (skipped). Tags must be IOB2:
// O, B-X or I-X, and I-X only after B-X or I-X. A tag outside the scheme (including an I-X that
// starts a span, i.e. the original IOB1 release) or a line without 4 columns is an Error
// naming file and line.
std::vector<TaggedSentence> read_conll2003_file(const fs::path& file);
// <data_root>/conll2003/{train,valid,test}.txt
fs::path conll2003_split_path(const fs::path& data_root, Split split);
std::vector<TaggedSentence> load_conll2003(const fs::path& data_root, Split split);

// ---- CoNLL-2004 (SpERT json): a JSON array of {"tokens": [...], "entities": [{"type", "start",
// "end"}], "relations": [...]} with `end` exclusive. Entities become B-<type>/I-<type> (B-Loc,
// I-Peop, B-Org, B-Other); relations are not needed for tagging and are ignored. Overlapping or
// out-of-range entities are an Error naming file and sentence index.
std::vector<TaggedSentence> read_conll04_file(const fs::path& file);
// <data_root>/conll04/conll04_{train,dev,test}.json
fs::path conll04_split_path(const fs::path& data_root, Split split);
std::vector<TaggedSentence> load_conll04(const fs::path& data_root, Split split);

// ---- OntoNotes 5.0 NER from CoNLL-2012 `*gold_conll` files (one file, or every *gold_conll
// file under a folder, in path order). The 11th column holds the names in bracket notation —
// "(PERSON*", "*", "*)", single-word "(GPE)" — converted to BIO (B-PERSON, I-PERSON, B-GPE, ...).
// Words are kept as in the files (e.g. "/." and "-LRB-").
std::vector<TaggedSentence> read_ontonotes_ner(const fs::path& file_or_folder);
// The layout the CoNLL-2012 scripts produce: <data_root>/conll-2012/v4/data/{train,development,test}
fs::path ontonotes_split_dir(const fs::path& data_root, Split split);
std::vector<TaggedSentence> load_ontonotes_ner(const fs::path& data_root, Split split);

}  // namespace ptbench::data
