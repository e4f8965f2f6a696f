#include "tasks/pair_classification.h"

#include <torch/torch.h>

#include "common/error.h"
#include "tasks/metrics/classification.h"

namespace ptbench {

HeadSpec PairClassificationTask::head() const {
  HeadSpec spec;
  spec.kind = HeadKind::sequence_classification;
  spec.num_labels = static_cast<std::int64_t>(definition_.labels.size());
  return spec;
}

void PairClassificationTask::load(const TaskContext& context) {
  if (!context.tokenizer) fail("task ", definition_.name, " needs a tokenizer");
  context_ = context;
  pad_id_ = context.tokenizer->special_tokens().pad;
  if (pad_id_ < 0) pad_id_ = 0;
  auto encode = [&](Split split, std::int64_t limit) {
    std::vector<PairExample> examples = definition_.load(context.data_dir, split, notes_);
    task_util::limit(examples, limit);
    Encoded encoded;
    for (const PairExample& example : examples) {
      encoded.encodings.push_back(context.tokenizer->encode(
          example.text_a, example.text_b, static_cast<std::size_t>(context.max_seq_length),
          tok::Truncation::longest_first, tok::Padding::none));
      encoded.labels.push_back(example.label);
    }
    return encoded;
  };
  train_ = encode(Split::train, context.max_train_examples);
  validation_ = encode(Split::validation, context.max_eval_examples);
  notes_["train_examples"] = train_.labels.size();
  notes_["validation_examples"] = validation_.labels.size();
}

const PairClassificationTask::Encoded& PairClassificationTask::split_data(Split split) const {
  switch (split) {
    case Split::train: return train_;
    case Split::validation: return validation_;
    case Split::test: break;
  }
  fail("task ", definition_.name, " does not evaluate on the test split (its labels are not public)");
}

std::int64_t PairClassificationTask::size(Split split) const {
  return static_cast<std::int64_t>(split_data(split).labels.size());
}

std::vector<Batch> PairClassificationTask::batches(Split split, std::int64_t batch_size, std::mt19937_64* rng) const {
  const Encoded& data = split_data(split);
  const std::vector<std::int64_t> order = task_util::order(static_cast<std::int64_t>(data.labels.size()), rng);
  std::vector<Batch> result;
  for (std::size_t start = 0; start < order.size(); start += batch_size) {
    Batch batch;
    std::vector<const tok::Encoding*> encodings;
    std::vector<std::int64_t> labels;
    for (std::size_t i = start; i < std::min(order.size(), start + batch_size); ++i) {
      batch.example_ids.push_back(order[i]);
      encodings.push_back(&data.encodings[order[i]]);
      labels.push_back(data.labels[order[i]] < 0 ? -100 : data.labels[order[i]]);
      batch.real_tokens += static_cast<std::int64_t>(data.encodings[order[i]].input_ids.size());
    }
    batch.input = task_util::collate(encodings, pad_id_, context_.pad_to_max_length ? context_.max_seq_length : 0);
    batch.labels = torch::tensor(labels, torch::kInt64);
    batch.padded_tokens = batch.input.input_ids.numel();
    result.push_back(std::move(batch));
  }
  return result;
}

nlohmann::json PairClassificationTask::evaluate(Split split, const std::vector<Batch>& batches,
                                                const std::vector<torch::Tensor>& logits) const {
  const Encoded& data = split_data(split);
  std::vector<std::int64_t> gold, predicted;
  for (std::size_t b = 0; b < batches.size(); ++b) {
    torch::Tensor best = logits[b].argmax(-1).to(torch::kCPU);
    for (std::int64_t i = 0; i < batches[b].size(); ++i) {
      gold.push_back(data.labels[batches[b].example_ids[i]]);
      predicted.push_back(best[i].item<std::int64_t>());
    }
  }
  nlohmann::json metrics = nlohmann::json::object();
  for (const std::string& metric : definition_.metrics) {
    if (metric == "accuracy") metrics["accuracy"] = metrics::accuracy(gold, predicted);
    if (metric == "macro_f1") metrics["macro_f1"] = metrics::macro_f1(gold, predicted);
  }
  // Degenerate-run check (DESIGN.md "RunRecord" status): every prediction one class.
  std::set<std::int64_t> distinct(predicted.begin(), predicted.end());
  metrics["distinct_predictions"] = distinct.size();
  return metrics;
}

}  // namespace ptbench
