// Extractive question answering: SQuAD 1.1 (Rajpurkar et al. 2016) and SQuAD 2.0 (Rajpurkar,
// Jia & Liang 2018) from the official json, https://rajpurkar.github.io/SQuAD-explorer/
// (train-v1.1.json, dev-v1.1.json, train-v2.0.json, dev-v2.0.json):
//   {"version": ..., "data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question",
//    "answers": [{"text", "answer_start"}], "is_impossible", "plausible_answers"}]}]}]}
// One example per question. SQuAD 1.1 has no is_impossible / plausible_answers (false / empty).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tasks/data/common.h"

namespace ptbench::data {

struct SquadAnswer {
  std::string text;
  std::int64_t answer_start = 0;  // as in the file: a code-point (Python str) index into the context
  std::size_t byte_start = 0;     // the same position in bytes of the UTF-8 context (tokenizers use bytes)
  // Whether context[byte_start, byte_start + text.size()) == text. True for every answer of the
  // official files we have checked; reference code that meets a mismatch drops the example
  // (BERT's run_squad.py "Could not find answer"), so the batching code decides.
  bool matches_context = true;
};

struct SquadExample {
  std::string id;
  std::string title;
  std::string context;
  std::string question;
  std::vector<SquadAnswer> answers;  // empty for unanswerable SQuAD 2.0 questions
  bool is_impossible = false;
  std::vector<SquadAnswer> plausible_answers;  // SQuAD 2.0 unanswerable questions only
};

// Parses one official file. A missing field, a field of the wrong type or an answer_start
// outside its context is an Error naming the file and the question id (json files have no
// useful line numbers: the official ones are a single line).
std::vector<SquadExample> read_squad_file(const fs::path& file);

enum class SquadVersion { v1_1, v2_0 };
// <data_root>/squad/{train,dev}-v1.1.json or <data_root>/squad_v2/{train,dev}-v2.0.json. The
// official release has no test split: Split::test is an Error. (The shared mirror ships only
// squad_v2/dev-v2.0-subset.json; read it with read_squad_file.)
fs::path squad_split_path(const fs::path& data_root, SquadVersion version, Split split);
std::vector<SquadExample> load_squad(const fs::path& data_root, SquadVersion version, Split split);

}  // namespace ptbench::data
