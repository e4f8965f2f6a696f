// Sentence(-pair) classification: RTE, CB, BoolQ (encoder: [CLS] a [SEP] b [SEP] with
// longest_first truncation, as the P-Tuning v2 code's tokenizer call does).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tasks/task.h"

namespace ptbench {

struct PairExample {
  std::string text_a;
  std::string text_b;
  std::int64_t label = -1;  // -1 = unlabelled (test files)
};

struct PairTaskDefinition {
  std::string name;
  int version = 1;
  std::vector<std::string> labels;                 // label names by id
  std::vector<std::string> metrics{"accuracy"};    // "accuracy", "macro_f1"
  std::string primary_metric = "accuracy";
  // Loads a split as pair examples; `notes` receives data remarks for the record.
  std::function<std::vector<PairExample>(const std::filesystem::path& data_dir, Split split,
                                         nlohmann::json& notes)>
      load;
};

class PairClassificationTask : public Task {
 public:
  explicit PairClassificationTask(PairTaskDefinition definition) : definition_(std::move(definition)) {}
  std::string name() const override { return definition_.name; }
  int version() const override { return definition_.version; }
  HeadSpec head() const override;
  std::string primary_metric() const override { return definition_.primary_metric; }
  void load(const TaskContext& context) override;
  std::int64_t size(Split split) const override;
  std::vector<Batch> batches(Split split, std::int64_t batch_size, std::mt19937_64* rng) const override;
  nlohmann::json evaluate(Split split, const std::vector<Batch>& batches,
                          const std::vector<torch::Tensor>& logits) const override;
  nlohmann::json data_notes() const override { return notes_; }

 private:
  struct Encoded {
    std::vector<tok::Encoding> encodings;
    std::vector<std::int64_t> labels;
  };
  const Encoded& split_data(Split split) const;

  PairTaskDefinition definition_;
  TaskContext context_;
  std::int64_t pad_id_ = 0;
  Encoded train_, validation_;
  nlohmann::json notes_ = nlohmann::json::object();
};

}  // namespace ptbench
