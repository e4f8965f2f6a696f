#include "tasks/multiple_choice.h"

#include <torch/torch.h>

#include <set>

#include "common/error.h"
#include "tasks/metrics/classification.h"

namespace ptbench {

HeadSpec MultipleChoiceTask::head() const {
  HeadSpec spec;
  spec.kind = HeadKind::multiple_choice;
  spec.num_labels = 1;  // one score per (context, choice) pair
  spec.num_choices = definition_.num_choices;
  return spec;
}

void MultipleChoiceTask::load(const TaskContext& context) {
  task_util::require_encoder(context, definition_.name);
  context_ = context;
  pad_id_ = task_util::pad_id(*context.tokenizer);
  auto encode = [&](Split split, std::int64_t limit) {
    const std::vector<ChoiceExample> examples = definition_.load(context, split, limit, notes_);
    Encoded encoded;
    for (std::size_t i = 0; i < examples.size(); ++i) {
      const ChoiceExample& example = examples[i];
      if (static_cast<std::int64_t>(example.choices.size()) != definition_.num_choices) {
        fail("task ", definition_.name, ": example ", i, " of the ", data::split_name(split), " split has ",
             example.choices.size(), " choices, expected ", definition_.num_choices);
      }
      std::vector<tok::Encoding> per_choice;
      for (const auto& [text_a, text_b] : example.choices) {
        per_choice.push_back(context.tokenizer->encode(text_a, std::string_view(text_b),
                                                       static_cast<std::size_t>(context.max_seq_length),
                                                       tok::Truncation::longest_first, tok::Padding::none));
      }
      encoded.encodings.push_back(std::move(per_choice));
      encoded.labels.push_back(example.label);
    }
    return encoded;
  };
  train_ = encode(Split::train, context.max_train_examples);
  validation_ = encode(Split::validation, context.max_eval_examples);
  notes_["train_examples"] = train_.labels.size();
  notes_["validation_examples"] = validation_.labels.size();
}

const MultipleChoiceTask::Encoded& MultipleChoiceTask::split_data(Split split) const {
  switch (split) {
    case Split::train:
      return train_;
    case Split::validation:
      return validation_;
    case Split::test:
      break;
  }
  fail("task ", definition_.name, " does not evaluate on the test split (its labels are not public)");
}

std::int64_t MultipleChoiceTask::size(Split split) const {
  return static_cast<std::int64_t>(split_data(split).labels.size());
}

std::vector<Batch> MultipleChoiceTask::batches(Split split, std::int64_t batch_size, std::mt19937_64* rng) const {
  const Encoded& data = split_data(split);
  const std::vector<std::vector<std::int64_t>> groups = task_util::batch_groups(static_cast<std::int64_t>(data.labels.size()), batch_size, rng);
  std::vector<Batch> result;
  for (const std::vector<std::int64_t>& group : groups) {
    Batch batch;
    std::vector<const tok::Encoding*> encodings;  // example-major, choice-minor: [B·C]
    std::vector<std::int64_t> labels;
    for (const std::int64_t id : group) {
      batch.example_ids.push_back(id);
      for (const tok::Encoding& encoding : data.encodings[id]) {
        encodings.push_back(&encoding);
        batch.real_tokens += static_cast<std::int64_t>(encoding.input_ids.size());
      }
      labels.push_back(data.labels[id] < 0 ? -100 : data.labels[id]);
    }
    batch.input = task_util::collate(encodings, pad_id_, context_.pad_to_max_length ? context_.max_seq_length : 0);
    batch.labels = torch::tensor(labels, torch::kInt64);
    batch.padded_tokens = batch.input.input_ids.numel();
    result.push_back(std::move(batch));
  }
  return result;
}

nlohmann::json MultipleChoiceTask::evaluate(Split split, const std::vector<Batch>& batches,
                                            const std::vector<torch::Tensor>& logits) const {
  const Encoded& data = split_data(split);
  TORCH_CHECK(batches.size() == logits.size(), "evaluate: ", batches.size(), " batches but ", logits.size(), " logits");
  std::vector<std::int64_t> gold, predicted;
  for (std::size_t b = 0; b < batches.size(); ++b) {
    TORCH_CHECK(
        logits[b].dim() == 2 && logits[b].size(0) == batches[b].size() && logits[b].size(1) == definition_.num_choices,
        "task ", definition_.name, ": logits of batch ", b, " have shape ", logits[b].sizes(), ", expected [",
        batches[b].size(), ", ", definition_.num_choices, "]");
    const torch::Tensor best = logits[b].detach().argmax(-1).to(torch::kCPU);
    auto best_a = best.accessor<std::int64_t, 1>();
    for (std::int64_t i = 0; i < batches[b].size(); ++i) {
      gold.push_back(data.labels[batches[b].example_ids[i]]);
      predicted.push_back(best_a[i]);
    }
  }
  nlohmann::json metrics = nlohmann::json::object();
  metrics["accuracy"] = metrics::accuracy(gold, predicted);
  std::set<std::int64_t> distinct(predicted.begin(), predicted.end());
  metrics["distinct_predictions"] = distinct.size();
  return metrics;
}

}  // namespace ptbench
