// The SuperGLUE tasks as text-to-text problems for encoder-decoder backbones (T5): the source is
// a task-prefixed string, the target the verbalised label, and a prediction is the decoded
// generation (or the best-scoring verbalised label). Two conventions are implemented, both
// reproduced from their code (behaviour reproduced, code written anew):
//
// - smop: jyjohnchoi/SMoP src/superglue_loader.py (text_to_text=True), what the SMoP paper's
//   T5 runs trained on. It covers boolq, cb, copa, multirc, rte and wic (its loader has no
//   ReCoRD or WSC). Predictions and labels are compared after SQuAD normalize_answer
//   (scripts/train.py evaluate_epoch: lower case, no punctuation, no articles, single spaces).
// - t5: google-research/text-to-text-transfer-transformer t5/data/preprocessors.py (glue(),
//   wsc(), record()) with the feature orders and label names of t5/data/glue_utils.py and the
//   TFDS super_glue builder — the super_glue_*_v102 tasks of the T5 paper. Predictions are
//   compared as strings (t5/data/postprocessors.py string_label_to_class_id), stripped of
//   surrounding white space.
//
//  task     smop source                                          t5 source                                                    labels
//  boolq    boolq passage: P question: Q                          boolq passage: P question: Q                                 False True
//  cb       cb hyopthesis: H. premise: P   (sic: SMoP's typo)     cb hypothesis: H premise: P                                  entailment contradiction neutral
//  copa     choice1: A choice2: B premise: P question: cause      copa choice1: A choice2: B premise: P question: cause        choice1 choice2
//  multirc  question: Q answer: A. paragraph: P                   multirc question: Q answer: A paragraph: P (<br> → space,    False True
//                                                                 <b> </b> removed)
//  record   —                                                     record query: Q entities: E1, E2 passage: P (@highlight      one gold entity
//                                                                 lines joined with ". ", or " " after . ? ! " ')
//  rte      rte sentence1: P sentence2: H                         rte hypothesis: H premise: P                                 entailment not_entailment
//  wic      wic sentence1: S1 sentence2: S2 word: W               wic sentence1: S1 sentence2: S2 word: W                      False True
//  wsc      —                                                     wsc text: T with "* span1 *" and "# span2 #" marked          False True
//
// Which convention: TaskContext::template_id — -1 (default) = smop where SMoP has the task,
// else t5; 0 = smop; 1 = t5. The choice is recorded in data_notes().
//
// Batches (HF T5ForConditionalGeneration's layout): input.input_ids / attention_mask = the
// source ending with </s>, truncated to max_seq_length keeping </s> (HF truncation; T5 seqio
// append_eos_after_trim); labels [B, T] = target ids ending with </s>, padded with -100;
// input.decoder_input_ids = labels shifted right after the decoder start token 0, -100 → 0.
// Head: seq2seq (the head output is the backbone's lm_logits [B, T, V]).
//
// Evaluation (TaskContext::text_scoring):
// - "generate": evaluate() receives [B, 1 + N] generated ids (HF generate layout); each row is
//   cut at the first </s>, decoded without special tokens, normalised per convention and
//   matched exactly against the label strings. A string that is no label is an invalid
//   prediction: it counts as wrong (and, for macro F1, as a class of its own, as sklearn does
//   on SMoP's strings) and is reported as invalid_predictions / invalid_predictions_share.
// - "rank": evaluate() receives [B, C] summed log-likelihoods of the C tokenised label
//   strings; the prediction is the argmax. Not for ReCoRD, whose candidates differ per query.
//
// Metrics use the encoder tasks' names (tasks/superglue.h): accuracy; CB also macro_f1;
// MultiRC f1a, exact_match, macro_f1, f1m, accuracy; ReCoRD f1, exact_match; plus
// distinct_predictions (not ReCoRD) and the invalid counts.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tasks/data/superglue.h"
#include "tasks/task.h"

namespace ptbench {

enum class TextToTextConvention { smop, t5 };

// "smop", "t5".
std::string_view to_string(TextToTextConvention convention);

// template_id (TaskContext) → convention for `task`: -1 = smop where SMoP has the task (all
// but record and wsc), else t5; 0 = smop (an Error for record and wsc); 1 = t5; anything else
// is an Error naming the accepted values.
TextToTextConvention resolve_text2text_convention(data::SuperGlueTask task, int template_id);

// The text-to-text version of a task. It is counted apart from the encoder format's version
// (tasks/superglue.cpp) and changes whenever a template, a label string, the normalisation or
// a metric here changes.
int text2text_version(data::SuperGlueTask task);

// One source/target pair.
struct TextToTextExample {
  std::string source;        // the input text, without </s>
  std::string target;        // the verbalised label (ReCoRD: one gold entity)
  std::int64_t label = -1;   // index into text2text_labels(); -1 for ReCoRD
  // Rows that a metric scores together: MultiRC (paragraph idx, question idx), ReCoRD
  // (passage idx, query idx).
  std::int64_t group = 0;
  std::int64_t subgroup = 0;
  // ReCoRD: every gold answer text of the query (sorted, unique) and the passage's candidate
  // entities (what a valid generation must be, after SQuAD normalisation).
  std::vector<std::string> answers;
  std::shared_ptr<const std::vector<std::string>> candidates;
};

// The verbalised labels by class id (empty for ReCoRD).
std::vector<std::string> text2text_labels(data::SuperGlueTask task, TextToTextConvention convention);

// The formats, exposed for tests. Labels must be present (train and validation files).
namespace text2text {
TextToTextExample format_boolq(const data::BoolqExample& example, TextToTextConvention convention);
TextToTextExample format_cb(const data::CbExample& example, TextToTextConvention convention);
TextToTextExample format_copa(const data::CopaExample& example, TextToTextConvention convention);
TextToTextExample format_multirc(const data::MultircExample& example, TextToTextConvention convention);
TextToTextExample format_rte(const data::RteExample& example, TextToTextConvention convention);
TextToTextExample format_wic(const data::WicExample& example, TextToTextConvention convention);
// T5 wsc(): "wsc text: " + the text with span1 marked "* span1 *" and span2 "# span2 #" at
// their word indices (T5's regex ^((?:\S+\s){N})(W) with W taken literally). A span whose
// text does not stand at its index is left unmarked, as T5's regex then leaves the text;
// `marked` (optional) receives how many of the two spans were marked.
TextToTextExample format_wsc(const data::WscExample& example, int* marked = nullptr);
// T5 record(): with `one_per_answer` (training, as T5's process_answers) one example per
// distinct gold answer; otherwise one per query (its target the first answer, for the loss;
// scoring uses every answer).
std::vector<TextToTextExample> format_record(const data::RecordPassage& passage, bool one_per_answer);
// T5 record()'s passage: "\n@highlight\n" after . ? ! " ' becomes " ", elsewhere ". ".
std::string record_passage(const std::string& passage);
// T5 glue() for multirc: "<br>" → " ", "<b>" and "</b>" removed.
std::string remove_multirc_markup(const std::string& text);
// How a decoded generation is compared: smop = SQuAD normalize_answer; t5 = stripped of
// surrounding ASCII white space.
std::string normalise_prediction(std::string_view text, TextToTextConvention convention);
}  // namespace text2text

// The text-to-text task for one SuperGLUE task (name() = the encoder task's name).
std::unique_ptr<Task> make_text2text_task(data::SuperGlueTask task);

// A task that picks its implementation at load() time from TaskContext::backbone_kind:
// `encoder` for encoder backbones, `encoder_decoder` for encoder-decoder ones. Before load()
// (and for name()) it answers as the encoder implementation. The registry uses it so that
// `--task rte` means the encoder format on BERT and the text-to-text format on T5.
std::unique_ptr<Task> make_backbone_dispatching_task(std::unique_ptr<Task> encoder,
                                                     std::unique_ptr<Task> encoder_decoder);
// The implementation such a dispatching task chose at load() (before load(): the encoder one);
// any other task itself. For code and tests that need the concrete type, e.g.
// dynamic_cast<const PairClassificationTask*>(&loaded_implementation(*make_task("record"))).
const Task& loaded_implementation(const Task& task);

}  // namespace ptbench
