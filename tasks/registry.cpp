#include <mutex>

#include "common/error.h"
#include "harness/config.h"
#include "tasks/ner.h"
#include "tasks/qa.h"
#include "tasks/srl.h"
#include "tasks/superglue.h"
#include "tasks/task.h"
#include "tasks/text2text.h"

namespace ptbench {

namespace {

// A SuperGLUE task: its encoder format (tasks/superglue.h) on encoder backbones, its
// text-to-text format (tasks/text2text.h) on encoder-decoder ones, chosen at load().
std::function<std::unique_ptr<Task>()> superglue(std::unique_ptr<Task> (*make_encoder_task)(),
                                                 data::SuperGlueTask task) {
  return [make_encoder_task, task] {
    return make_backbone_dispatching_task(make_encoder_task(), make_text2text_task(task));
  };
}

// One explicit list (DESIGN.md section 6): name, one-line summary, factory. tasks/README.md
// describes every entry (files, source, metric, what the papers report).
std::vector<TaskEntry> build_registry() {
  std::vector<TaskEntry> entries = {
      // SuperGLUE (tasks/superglue.h; text-to-text on encoder-decoder backbones: tasks/text2text.h)
      {"boolq", "SuperGLUE BoolQ: yes/no question over a passage, accuracy",
       superglue(make_boolq_task, data::SuperGlueTask::boolq)},
      {"cb", "SuperGLUE CommitmentBank: three-way entailment, accuracy and macro F1",
       superglue(make_cb_task, data::SuperGlueTask::cb)},
      {"copa", "SuperGLUE COPA: choice of plausible alternative (multiple choice), accuracy",
       superglue(make_copa_task, data::SuperGlueTask::copa)},
      {"multirc", "SuperGLUE MultiRC: answer-option classification, F1a, EM, macro F1, F1m",
       superglue(make_multirc_task, data::SuperGlueTask::multirc)},
      {"record", "SuperGLUE ReCoRD: cloze entity ranking, max-over-gold F1 and EM",
       superglue(make_record_task, data::SuperGlueTask::record)},
      {"rte", "SuperGLUE RTE: two-way textual entailment, accuracy",
       superglue(make_rte_task, data::SuperGlueTask::rte)},
      {"wic", "SuperGLUE WiC: word sense in two contexts, accuracy",
       superglue(make_wic_task, data::SuperGlueTask::wic)},
      {"wsc", "SuperGLUE WSC: pronoun coreference, accuracy",
       superglue(make_wsc_task, data::SuperGlueTask::wsc)},
      // Named-entity recognition (tasks/ner.h)
      {"conll03", "CoNLL-2003 English NER: seqeval entity micro F1", make_conll03_task},
      {"conll04", "CoNLL-2004 entities (SpERT json): seqeval entity micro F1", make_conll04_task},
      {"ontonotes", "OntoNotes 5.0 NER (CoNLL-2012 files): seqeval entity micro F1", make_ontonotes_task},
      // Extractive question answering (tasks/qa.h)
      {"squad", "SQuAD 1.1: extractive QA, official exact match and F1", make_squad_task},
      {"squad_v2", "SQuAD 2.0: extractive QA with unanswerable questions, official exact and F1", make_squad_v2_task},
      // Semantic role labelling (tasks/srl.h)
      {"conll05", "CoNLL-2005 SRL: BIO argument tagging per predicate, seqeval F1 and srl-eval F1", make_conll05_task},
      {"conll12", "CoNLL-2012 SRL: BIO argument tagging per predicate, seqeval F1 and srl-eval F1", make_conll12_task},
  };
  for (std::size_t i = 0; i < entries.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (entries[i].name == entries[j].name) fail("task '", entries[i].name, "' is registered twice");
  return entries;
}

}  // namespace

const std::vector<TaskEntry>& task_registry() {
  static std::once_flag once;
  static std::vector<TaskEntry> entries;
  std::call_once(once, [] { entries = build_registry(); });
  return entries;
}

std::unique_ptr<Task> make_task(const std::string& name) {
  std::vector<std::string> known;
  for (const TaskEntry& entry : task_registry()) {
    if (entry.name == name) return entry.make();
    known.push_back(entry.name);
  }
  fail("unknown task '", name, "'", suggestion_suffix(name, known), " (known: ", join(known, ", "), ")");
}

}  // namespace ptbench
