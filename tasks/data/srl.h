// Semantic role labelling: one example per predicate, i.e. the sentence's words, the index of
// the predicate word and one BIO argument tag per word (B-A0, I-A0, B-V, B-AM-TMP, B-C-A1,
// B-R-A0, ... for CoNLL-2005; B-ARG0, B-ARGM-TMP, ... for CoNLL-2012). Three inputs:
//  - the CoNLL-2005 shared-task columns (Carreras & Màrquez 2005, https://www.cs.upc.edu/~srlconll/):
//    a words file (one word per line) and a props file (first column the predicate lemma or
//    "-", then one bracketed argument column per predicate, "(A0*", "*", "*)", "(V*)"), or one
//    file with both side by side;
//  - CoNLL-2012 `*gold_conll` files (OntoNotes 5.0): lemma in the 7th column, frameset id in the 8th,
//    one argument column per predicate from the 12th on, coreference last;
//  - the one-line format of He et al. (2017, github.com/luheng/deep_srl) that the P-Tuning v2
//    code reads: "<predicate index> w1 w2 ... wn ||| t1 t2 ... tn".
// Bracket columns become BIO the way that preprocessing's output reads (its label lists in
// P-Tuning v2's tasks/srl/datasets/*.py hold B-V, B-C-A1, I-R-A0, ...): the first word of an
// argument gets B-<label>, the others I-<label>, continuation (C-) and reference (R-) arguments
// keep their prefixed labels, words outside every argument get O.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tasks/data/common.h"

namespace ptbench::data {

// How the P-Tuning v2 code (THUDM/P-tuning-v2, tasks/srl/dataset.py,
// SRLDataset.tokenize_and_align_labels) tells the model which predicate an example is about:
//  - no marker tokens, no predicate-indicator embedding, no second segment: it appends to the
//    word list the literal word "[SEP]" and then the predicate word once more,
//      words + ["[SEP]"] + [words[predicate_index]]
//    and tokenizes that as ONE sequence of pre-split words (is_split_into_words=True), so a
//    BERT input reads  [CLS] w1 ... wn [SEP] predicate [SEP]  with token_type_ids all 0. BERT's
//    tokenizer turns the literal "[SEP]" into its [SEP] special token; RoBERTa's does not (the
//    five characters are byte-level BPE text), which is what that code ran.
//  - labels: word j's tag goes on the first sub-token of word j (sub-tokens counted by
//    encoding each word alone without special tokens); -100 on every other sub-token, on the
//    special tokens, on "[SEP]" (assumed one token) and on the appended predicate's sub-tokens.
//    The metric is seqeval on those first-sub-token labels.
// ptuning_v2_words() gives the word list above; only the first words.size() words carry labels.
inline constexpr std::string_view kPtuningV2PredicateSeparator = "[SEP]";

struct SrlExample {
  std::vector<std::string> words;
  std::int64_t predicate_index = 0;  // 0-based word index of the predicate
  std::string predicate_lemma;       // props column 1 / gold_conll 7th column; empty in the one-line format
  std::string predicate_sense;       // gold_conll frameset id (8th column, e.g. "01"); empty otherwise
  std::vector<std::string> tags;     // one BIO tag per word; the predicate's own span is B-V (I-V)

  // words + ["[SEP]"] + [words[predicate_index]]: the P-Tuning v2 model input (see above).
  std::vector<std::string> ptuning_v2_words() const;
};

// ---- CoNLL-2005 columns. Sentences end at blank lines; predicate j of a sentence is the j-th
// row whose first props column is not "-". A props line whose number of argument columns is
// not the number of predicates of its sentence, a bad bracket cell, or words and props files
// that do not line up are Errors naming file and line. Files may be gzipped (.gz).
std::vector<SrlExample> read_conll2005_srl(const fs::path& words_file, const fs::path& props_file);
// One file holding the word in column `word_column` and the props columns from `props_column`
// on (e.g. `paste -d' ' words props` gives 0 and 1).
std::vector<SrlExample> read_conll2005_srl_combined(const fs::path& file, std::size_t word_column = 0,
                                                    std::size_t props_column = 1);

// ---- CoNLL-2012 `*gold_conll` (one file, or every *gold_conll file under a folder, in path
// order). Predicate j is the word whose row carries "(V" in argument column j (as AllenNLP's
// Ontonotes reader finds them); a word with a lemma but no argument column (word-sense-only
// rows) is not a predicate. A line whose argument-column count differs from the number of
// predicates of its sentence is an Error naming file and line.
std::vector<SrlExample> read_conll2012_srl(const fs::path& file_or_folder);

// ---- He et al. (2017) one-line format, the input of the P-Tuning v2 SRL data scripts
// (tasks/srl/datasets/conll2005.py, conll2012.py): "<index> w1 ... wn ||| t1 ... tn" per
// example, blank lines skipped. A line without "|||", a non-integer or out-of-range index,
// a tag count different from the word count or a tag outside BIO is an Error naming file and line.
std::vector<SrlExample> read_srl_bio_file(const fs::path& file);

enum class SrlCorpus { conll2005, conll2012 };
// The file layout of the P-Tuning v2 repository's data folder:
//   <data_root>/CoNLL05/conll05.{train,devel,test.wsj}.txt   (Split::test = the WSJ test set)
//   <data_root>/CoNLL12/conll2012.{train,devel,test}.txt
fs::path srl_bio_split_path(const fs::path& data_root, SrlCorpus corpus, Split split);
// <data_root>/CoNLL05/conll05.test.brown.txt, the out-of-domain CoNLL-2005 test set.
fs::path conll2005_brown_test_path(const fs::path& data_root);
// Loads srl_bio_split_path(...); a missing file names the path and where the data come from.
std::vector<SrlExample> load_srl_bio(const fs::path& data_root, SrlCorpus corpus, Split split);

}  // namespace ptbench::data
