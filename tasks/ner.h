// Named-entity recognition as token classification (tasks/tagging.h), on the corpora the
// P-Tuning v2 paper reports (Table 3): CoNLL-2003, CoNLL-2004 (entities of the SpERT json),
// OntoNotes 5.0 (CoNLL-2012 gold_conll names). Metric: seqeval entity micro F1 in default mode
// on first sub-tokens, what the P-Tuning v2 code reports (tasks/ner/dataset.py compute_metrics),
// plus strict IOB2, macro and per-type figures (ner_metrics in tasks/tagging.h).
//
//  task       files under the data root                                   primary
//  conll03    conll2003/{train,valid}.txt                                 f1
//  conll04    conll04/conll04_{train,dev}.json                            f1
//  ontonotes  conll-2012/v4/data/{train,development}/**/*gold_conll       f1
#pragma once

#include <memory>

#include "tasks/task.h"

namespace ptbench {

std::unique_ptr<Task> make_conll03_task();
std::unique_ptr<Task> make_conll04_task();
std::unique_ptr<Task> make_ontonotes_task();

}  // namespace ptbench
