// The SuperGLUE tasks (Wang et al. 2019) as the P-Tuning v2 code feeds them to an encoder
// (THUDM/P-tuning-v2 tasks/superglue/dataset.py, SuperGlueDataset.preprocess_function and
// record_preprocess_function; behaviour reproduced, code written anew). Label ids follow the
// Hugging Face super_glue data set that code loads (tasks/data/superglue.h).
//
//  task     head                     input (a || b = [CLS] a [SEP] b [SEP])                 metrics
//  boolq    sequence classification  question || passage                                  accuracy
//  cb       sequence classification  premise || hypothesis                                accuracy, macro_f1
//  copa     multiple choice (2)      per choice: "<premise> because" || choice (cause),   accuracy
//                                    "<premise> so" || choice (effect)
//  multirc  sequence classification  per answer option: paragraph || "<question> <answer>"
//                                    f1a, exact_match, macro_f1, f1m, accuracy
//  record   sequence classification  per candidate entity e of a query: the passage with
//                                    "@highlight\n" -> "- " || the query, @placeholder -> e
//                                    f1, exact_match
//  rte      sequence classification  premise || hypothesis                                accuracy
//  wic      sequence classification  accuracy; template 1 (BERT runs):
//                                    "<word>: <sentence1>" || "<word>: <sentence2>"; template 0
//                                    (RoBERTa runs): "<sentence1> <sentence2> Does <word> have the
//                                    same meaning in both sentences?"
//  wsc      sequence classification  accuracy; template 0 (all runs): "<span2 text>: <text>" ||
//                                    span1 text; template 1: the text with the pronoun at
//                                    span2_index starred ("*it*") || span1 text
//
// Primary metrics are the reference code's model-selection keys (its test_key): accuracy, and
// "f1" for MultiRC (sklearn binary F1 over all answer options = F1a) and ReCoRD.
//
// WiC target positions: the reference reads start1/end1/start2/end2 but does not use them — it
// marks the target by naming the word in front of each sentence (template 1) or in a question
// (template 0); we do the same. WSC: template 0 names the pronoun (span2_text) in front of the
// text and pairs it with the candidate referent (span1_text); template 1 marks the pronoun in
// place by its word index, i.e. by position.
//
// BoolQ: this mirror ships no train.jsonl. When it is missing the validation split stands in
// for training, a warning goes to stderr and data_notes() carries
// "boolq train split missing; validation used for training — scores are not comparable".
#pragma once

#include <memory>

#include "tasks/task.h"

namespace ptbench {

std::unique_ptr<Task> make_boolq_task();
std::unique_ptr<Task> make_cb_task();
std::unique_ptr<Task> make_copa_task();
std::unique_ptr<Task> make_multirc_task();
std::unique_ptr<Task> make_record_task();
std::unique_ptr<Task> make_rte_task();
std::unique_ptr<Task> make_wic_task();
std::unique_ptr<Task> make_wsc_task();

// The note BoolQ records when validation stands in for the missing train split.
inline constexpr const char* kBoolqFallbackWarning =
    "boolq train split missing; validation used for training \u2014 scores are not comparable";

// The P-Tuning v2 input texts, exposed for tests (template as in TaskContext::template_id,
// already resolved: 0 or 1).
namespace superglue_text {
// "<premise> because" (cause) / "<premise> so" (effect).
std::string copa_context(const std::string& premise, bool cause);
// "<question> <answer>".
std::string multirc_question_answer(const std::string& question, const std::string& answer);
// The passage with every "@highlight\n" replaced by "- ".
std::string record_passage(const std::string& passage);
// The query with every "@placeholder" replaced by `entity`.
std::string record_query(const std::string& query, const std::string& entity);
// Words of `text` split on whitespace runs (Python str.split()), word `index` wrapped in '*',
// joined by single spaces. Fails when index is outside the words.
std::string wsc_mark_word(const std::string& text, std::int64_t index);
}  // namespace superglue_text

}  // namespace ptbench
