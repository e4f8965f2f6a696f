// Multiple choice (COPA): every example is encoded once per choice as a (context, choice) pair,
// the batch flattens them to [B·C, L] in choice order, and the multiple-choice head scores each
// pair from its pooled output and returns [B, C] (BertForMultipleChoice; the P-Tuning v2 code's
// multiple-choice models). The label is the index of the right choice.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tasks/task.h"

namespace ptbench {

struct ChoiceExample {
  std::vector<std::pair<std::string, std::string>> choices;  // (text_a, text_b) per choice
  std::int64_t label = -1;                                    // -1 = unlabelled (test files)
};

struct MultipleChoiceTaskDefinition {
  std::string name;
  int version = 1;
  std::int64_t num_choices = 2;
  // Loads a split (at most `limit` examples when limit > 0); `notes` receives data remarks.
  std::function<std::vector<ChoiceExample>(const TaskContext& context, Split split, std::int64_t limit,
                                           nlohmann::json& notes)>
      load;
};

class MultipleChoiceTask : public Task {
 public:
  explicit MultipleChoiceTask(MultipleChoiceTaskDefinition definition) : definition_(std::move(definition)) {}
  std::string name() const override { return definition_.name; }
  int version() const override { return definition_.version; }
  HeadSpec head() const override;
  std::string primary_metric() const override { return "accuracy"; }
  void load(const TaskContext& context) override;
  std::int64_t size(Split split) const override;
  std::vector<Batch> batches(Split split, std::int64_t batch_size, std::mt19937_64* rng) const override;
  nlohmann::json evaluate(Split split, const std::vector<Batch>& batches,
                          const std::vector<torch::Tensor>& logits) const override;
  nlohmann::json data_notes() const override { return notes_; }

 private:
  struct Encoded {
    std::vector<std::vector<tok::Encoding>> encodings;  // [example][choice]
    std::vector<std::int64_t> labels;
  };
  const Encoded& split_data(Split split) const;

  MultipleChoiceTaskDefinition definition_;
  TaskContext context_;
  std::int64_t pad_id_ = 0;
  Encoded train_, validation_;
  nlohmann::json notes_ = nlohmann::json::object();
};

}  // namespace ptbench
