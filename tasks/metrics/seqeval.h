// Entity-level sequence-labelling metrics with the semantics of chakki-works/seqeval (commit
// cd01b521, v1.2.2+4 — the version behind ../shared/golden/metrics/seqeval):
// seqeval/metrics/sequence_labeling.py (default mode), seqeval/metrics/v1.py and
// seqeval/scheme.py (strict mode), seqeval/reporters.py (report layout).
//
// Default mode (mode=None, "conlleval-like"): sentences are concatenated with an "O" between
// them; a chunk boundary is decided from the previous and current tag letters and types
// (get_entities / end_of_chunk / start_of_chunk), so an I-X after O or after another type
// starts a new chunk. The tag letter is the first character of the tag (the last one with
// `suffix`), the type what follows the first "-" (or "_" when empty).
// Strict mode (mode='strict' with a scheme): an entity counts only when it starts and ends
// by the scheme's patterns (IOB2: starts at B-X, continues with I-X of the same type), per
// sentence. Tags whose letter the scheme does not allow fail.
//
// Scores: per type p/r/F1/support; micro (summed counts), macro (mean over types), weighted
// (by support) — seqeval's _precision_recall_fscore_support with zero_division "warn" → 0.
// Types are sorted by code point, like Python's sorted().
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tasks/metrics/classification.h"

namespace ptbench::metrics {

using TagSequences = std::vector<std::vector<std::string>>;

enum class SeqevalMode {
  kDefault,  // seqeval mode=None (conlleval-like)
  kStrict,   // seqeval mode='strict' with `scheme`
};

// seqeval.scheme token classes. kAuto = seqeval's auto_detect on the gold tags (IOB2, IOE2,
// IOBES or BILOU from the set of prefixes seen).
enum class TagScheme { kAuto, kIOB1, kIOE1, kIOB2, kIOE2, kIOBES, kBILOU };

struct SeqevalOptions {
  SeqevalMode mode = SeqevalMode::kDefault;
  TagScheme scheme = TagScheme::kIOB2;  // strict mode only
  bool suffix = false;                  // tags like "PER-B" instead of "B-PER"
  double zero_division = 0.0;           // seqeval's "warn" behaves as 0
};

// One entity. Default mode: `sentence` is -1 and start/end are positions in the concatenation
// of all sentences with one "O" after each, `end` inclusive (seqeval get_entities). Strict
// mode: `sentence` is the sentence index, start/end are positions in it, `end` exclusive
// (seqeval.scheme.Entity).
struct Entity {
  std::int64_t sentence = -1;
  std::string type;
  std::int64_t start = 0;
  std::int64_t end = 0;
  bool operator==(const Entity&) const = default;
};

// seqeval get_entities for one flat tag sequence (default mode).
std::vector<Entity> get_entities(const std::vector<std::string>& tags, bool suffix = false);
// The default-mode entities of several sentences (joined with "O").
std::vector<Entity> get_entities(const TagSequences& sentences, bool suffix = false);
// seqeval.scheme.Tokens(...).entities for one sentence (strict mode).
std::vector<Entity> get_entities_strict(const std::vector<std::string>& tags, TagScheme scheme,
                                        bool suffix = false, std::int64_t sentence = 0);

// seqeval.scheme.auto_detect on the gold sequences.
TagScheme detect_scheme(const TagSequences& sequences, bool suffix = false);

struct TypeScores {
  std::string type;
  PrecisionRecallF1 scores;
};

// seqeval classification_report(output_dict=True) plus accuracy_score.
struct SeqevalReport {
  std::vector<TypeScores> per_type;  // sorted by type
  PrecisionRecallF1 micro;
  PrecisionRecallF1 macro;
  PrecisionRecallF1 weighted;
  double accuracy = 0.0;  // token level
};

// Gold and predicted sequences must have the same shape (else an Error naming the sentence).
SeqevalReport seqeval_report(const TagSequences& gold, const TagSequences& pred,
                             const SeqevalOptions& options = {});

// Per-type true-positive / predicted / gold entity counts, in `types` order (sorted).
std::vector<ClassCounts> seqeval_counts(const TagSequences& gold, const TagSequences& pred,
                                        const SeqevalOptions& options,
                                        std::vector<std::string>* types);

// The micro-averaged scores (seqeval's f1_score / precision_score / recall_score defaults).
PrecisionRecallF1 seqeval_micro(const TagSequences& gold, const TagSequences& pred,
                                const SeqevalOptions& options = {});

// seqeval accuracy_score: share of tokens whose tag equals the gold tag.
double seqeval_accuracy(const TagSequences& gold, const TagSequences& pred);

// classification_report(output_dict=True): {"LOC": {"precision", "recall", "f1-score",
// "support"}, ..., "micro avg": ..., "macro avg": ..., "weighted avg": ...}.
nlohmann::json to_json(const SeqevalReport& report);

// classification_report(digits=...) as text, byte for byte in seqeval's layout.
std::string format_seqeval_report(const SeqevalReport& report, int digits = 2);

}  // namespace ptbench::metrics
