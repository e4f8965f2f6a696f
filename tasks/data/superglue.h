// SuperGLUE (Wang et al., NeurIPS 2019) from the official jsonl release: one folder per task
// under <data-dir>/superglue/ with train.jsonl, val.jsonl and test.jsonl, exactly as
// https://dl.fbaipublicfiles.com/glue/superglue/data/v2/<Task>.zip unpacks. Fields and label
// sets follow the release; label ids follow the order of the Hugging Face `super_glue` data set
// (the one the P-Tuning v2 and SMoP code load), so class index i here is class index i there.
//
// Labels are optional: the test files carry none. In train and validation files a missing or
// out-of-set label is an Error naming file and line, as is any missing field or bad JSON line.
//
// Every loader has two forms: read_X_file(file, labels_required) parses one file wherever it
// is; load_X(data_root, split) finds the official file under a data root (callers pass
// ptbench::data_dir() or the user's --data-dir) and fails with a message naming the file
// expected and its download URL when it is missing. Ask superglue_split_exists() first where a
// fallback is intended (this mirror ships no BoolQ train.jsonl).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tasks/data/common.h"

namespace ptbench::data {

enum class SuperGlueTask { boolq, cb, copa, multirc, record, rte, wic, wsc };

// Every task, in the order of the SuperGLUE paper's table.
const std::vector<SuperGlueTask>& superglue_tasks();
// The official folder / zip name: "BoolQ", "CB", "COPA", "MultiRC", "ReCoRD", "RTE", "WiC", "WSC".
std::string_view superglue_task_name(SuperGlueTask task);
// Case-insensitive official name ("boolq", "ReCoRD", ...); an unknown name is an Error listing them.
SuperGlueTask parse_superglue_task(std::string_view name);
// https://dl.fbaipublicfiles.com/glue/superglue/data/v2/<Task>.zip
std::string superglue_download_url(SuperGlueTask task);
// <data_root>/superglue/<Task>/{train,val,test}.jsonl
fs::path superglue_split_path(const fs::path& data_root, SuperGlueTask task, Split split);
// Whether that file exists (e.g. BoolQ train is not mirrored here: the task falls back to
// validation and records that it did).
bool superglue_split_exists(const fs::path& data_root, SuperGlueTask task, Split split);
// Fails with the "not found" message (path, URL, --data-dir / PTBENCH_DATA) when the split is missing.
void require_superglue_split(const fs::path& data_root, SuperGlueTask task, Split split);

// ---- BoolQ (Clark et al. 2019): yes/no question about a Wikipedia passage.
struct BoolqExample {
  std::int64_t idx = 0;
  std::string question;
  std::string passage;
  std::optional<bool> label;  // true = yes (class 1), false = no (class 0)
};

// ---- CB (CommitmentBank): three-way entailment.
enum class CbLabel { entailment = 0, contradiction = 1, neutral = 2 };
std::string_view cb_label_name(CbLabel label);  // "entailment", "contradiction", "neutral"
struct CbExample {
  std::int64_t idx = 0;
  std::string premise;
  std::string hypothesis;
  std::optional<CbLabel> label;
};

// ---- COPA (Choice of Plausible Alternatives).
enum class CopaQuestion { cause, effect };
std::string_view copa_question_name(CopaQuestion question);  // "cause", "effect"
struct CopaExample {
  std::int64_t idx = 0;
  std::string premise;
  std::string choice1;
  std::string choice2;
  CopaQuestion question = CopaQuestion::cause;
  std::optional<int> label;  // 0 = choice1, 1 = choice2
};

// ---- MultiRC: one example per answer option. The file nests paragraph → questions →
// answers; we flatten so the batching code sees (paragraph, question, answer) pairs. The metric
// (F1a over all options, EM per question) groups options by (paragraph_idx, question_idx).
struct MultircExample {
  std::int64_t paragraph_idx = 0;  // the record's "idx"
  std::int64_t question_idx = 0;   // passage.questions[i].idx (unique within a split)
  std::int64_t answer_idx = 0;     // passage.questions[i].answers[j].idx (unique within a split)
  std::string paragraph;           // passage.text
  std::string question;
  std::string answer;
  std::optional<bool> label;  // true = the answer option is correct (class 1)
};

// ---- ReCoRD: cloze-style queries over a news passage; the answer is one of the passage's
// entities. Kept per passage (as in the file) because every query of a passage shares its
// entity candidates.
struct RecordSpan {
  std::int64_t start = 0;      // first character, a code-point index into the passage as in the file
  std::int64_t end = 0;        // last character, INCLUSIVE as in the file
  std::size_t byte_begin = 0;  // the same span as [byte_begin, byte_end) bytes of the UTF-8 passage
  std::size_t byte_end = 0;
  std::string text;  // entities: cut from the passage; answers: the file's "text"
};
struct RecordQuery {
  std::int64_t idx = 0;
  std::string query;                               // contains "@placeholder" where the answer entity goes
  std::optional<std::vector<RecordSpan>> answers;  // absent in the test file
};
struct RecordPassage {
  std::int64_t idx = 0;
  std::string source;                // "Daily mail", "CNN", ...; empty if the file has none
  std::string text;                  // passage.text as in the file, with its "@highlight" lines
  std::vector<RecordSpan> entities;  // passage.entities, in file order, duplicates kept
  // The candidate answers of every query of this passage: the entity texts deduplicated by
  // text and sorted (Python's sorted(set(...)) = byte order of UTF-8), which is the candidate
  // list of the Hugging Face super_glue "record" builder the reference code uses.
  std::vector<std::string> candidates;
  std::vector<RecordQuery> queries;
};
// Queries in all passages (the size of the ReCoRD split as usually quoted).
std::size_t record_query_count(const std::vector<RecordPassage>& passages);

// ---- RTE: two-way entailment.
enum class RteLabel { entailment = 0, not_entailment = 1 };
std::string_view rte_label_name(RteLabel label);  // "entailment", "not_entailment"
struct RteExample {
  std::int64_t idx = 0;
  std::string premise;
  std::string hypothesis;
  std::optional<RteLabel> label;
};

// ---- WiC: does `word` have the same sense in both sentences?
struct WicExample {
  std::int64_t idx = 0;
  std::string word;
  std::string sentence1;
  std::string sentence2;
  // The word's occurrence in each sentence, [start, end) in code points as in the file ...
  std::int64_t start1 = 0, end1 = 0, start2 = 0, end2 = 0;
  // ... and the same spans in bytes of the UTF-8 sentences.
  std::size_t byte_start1 = 0, byte_end1 = 0, byte_start2 = 0, byte_end2 = 0;
  std::optional<bool> label;  // true = same sense (class 1)
};

// ---- WSC (Winograd Schema Challenge, SuperGLUE recast): does the pronoun span2 refer to span1?
struct WscExample {
  std::int64_t idx = 0;
  std::string text;
  std::int64_t span1_index = 0;  // word index into text split on spaces (target.span1_index)
  std::string span1_text;
  std::int64_t span2_index = 0;  // word index of the pronoun (target.span2_index)
  std::string span2_text;
  std::optional<bool> label;  // true = coreferent (class 1)
};

// Parse one file. With labels_required a record without a label is an Error; without it the
// label is read when present (test files have none).
std::vector<BoolqExample> read_boolq_file(const fs::path& file, bool labels_required);
std::vector<CbExample> read_cb_file(const fs::path& file, bool labels_required);
std::vector<CopaExample> read_copa_file(const fs::path& file, bool labels_required);
std::vector<MultircExample> read_multirc_file(const fs::path& file, bool labels_required);
std::vector<RecordPassage> read_record_file(const fs::path& file, bool labels_required);
std::vector<RteExample> read_rte_file(const fs::path& file, bool labels_required);
std::vector<WicExample> read_wic_file(const fs::path& file, bool labels_required);
std::vector<WscExample> read_wsc_file(const fs::path& file, bool labels_required);

// Load the official split under a data root; labels are required except in the test split.
std::vector<BoolqExample> load_boolq(const fs::path& data_root, Split split);
std::vector<CbExample> load_cb(const fs::path& data_root, Split split);
std::vector<CopaExample> load_copa(const fs::path& data_root, Split split);
std::vector<MultircExample> load_multirc(const fs::path& data_root, Split split);
std::vector<RecordPassage> load_record(const fs::path& data_root, Split split);
std::vector<RteExample> load_rte(const fs::path& data_root, Split split);
std::vector<WicExample> load_wic(const fs::path& data_root, Split split);
std::vector<WscExample> load_wsc(const fs::path& data_root, Split split);

}  // namespace ptbench::data
