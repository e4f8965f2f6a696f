// Semantic role labelling as token classification (tasks/tagging.h), one example per
// predicate, as the P-Tuning v2 code runs it (tasks/srl/dataset.py): the input is the
// sentence's words followed by "[SEP]" and the predicate word once more
// (data::SrlExample::ptuning_v2_words()), one sequence, token_type_ids 0; each sentence word's
// BIO argument tag (B-A0, I-AM-TMP, B-V, B-C-A1, ...) sits on its first sub-token, the appended
// "[SEP] predicate" carries no label.
//
// Metrics: the seqeval default-mode micro precision / recall / f1 and token accuracy over the BIO
// tags, V included — the figures the P-Tuning v2 code reports and selects on (primary "f1") —
// and the CoNLL-2005 srl-eval.pl scores (verb excluded, continuations merged) under "srl_eval",
// with its F1 also at the top level as "srl_eval_f1".
//
//  task     files under the data root
//  conll05  CoNLL05/conll05.{train,devel}.txt (He et al. 2017 one-line format, P-Tuning v2's input)
//  conll12  CoNLL12/conll2012.{train,devel}.txt in that format when present, else the official
//           CoNLL-2012 gold_conll folders conll-2012/v4/data/{train,development}/ (OntoNotes 5.0)
#pragma once

#include <memory>

#include "tasks/metrics/seqeval.h"
#include "tasks/task.h"

namespace ptbench {

std::unique_ptr<Task> make_conll05_task();
std::unique_ptr<Task> make_conll12_task();

// The SRL metrics described above.
nlohmann::json srl_metrics(const metrics::TagSequences& gold, const metrics::TagSequences& predicted);

}  // namespace ptbench
