#include "tasks/task.h"

#include <algorithm>
#include <numeric>

#include <torch/torch.h>

#include "common/error.h"

namespace ptbench {

torch::Tensor Task::loss(const torch::Tensor& logits, const Batch& batch) const {
  // Cross-entropy over the last dimension; label -100 is ignored (HF convention).
  return torch::nn::functional::cross_entropy(
      logits.reshape({-1, logits.size(-1)}), batch.labels.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
}

namespace task_util {

BackboneInput collate(const std::vector<const tok::Encoding*>& encodings, std::int64_t pad_id,
                      std::int64_t pad_to_length) {
  std::int64_t length = pad_to_length;
  for (const tok::Encoding* e : encodings) length = std::max<std::int64_t>(length, e->input_ids.size());
  const std::int64_t batch = static_cast<std::int64_t>(encodings.size());
  torch::Tensor ids = torch::full({batch, length}, pad_id, torch::kInt64);
  torch::Tensor types = torch::zeros({batch, length}, torch::kInt64);
  torch::Tensor mask = torch::zeros({batch, length}, torch::kInt64);
  auto ids_a = ids.accessor<std::int64_t, 2>();
  auto types_a = types.accessor<std::int64_t, 2>();
  auto mask_a = mask.accessor<std::int64_t, 2>();
  for (std::int64_t b = 0; b < batch; ++b) {
    const tok::Encoding& e = *encodings[b];
    for (std::size_t t = 0; t < e.input_ids.size(); ++t) {
      ids_a[b][t] = e.input_ids[t];
      types_a[b][t] = t < e.token_type_ids.size() ? e.token_type_ids[t] : 0;
      mask_a[b][t] = t < e.attention_mask.size() ? e.attention_mask[t] : 1;
    }
  }
  BackboneInput input;
  input.input_ids = ids;
  input.token_type_ids = types;
  input.attention_mask = mask;
  return input;
}

std::vector<std::int64_t> order(std::int64_t count, std::mt19937_64* rng) {
  std::vector<std::int64_t> indices(count);
  std::iota(indices.begin(), indices.end(), 0);
  if (rng) {
    // Fisher–Yates with our own draws: std::shuffle's algorithm is implementation-defined, and
    // run records must reproduce across standard libraries.
    for (std::int64_t i = count - 1; i > 0; --i) {
      const std::int64_t j = static_cast<std::int64_t>((*rng)() % static_cast<std::uint64_t>(i + 1));
      std::swap(indices[i], indices[j]);
    }
  }
  return indices;
}

void require_encoder(const TaskContext& context, const std::string& task) {
  if (!context.tokenizer) fail("task ", task, " needs a tokenizer");
  if (context.backbone_kind != BackboneKind::encoder) {
    fail("task ", task, " builds encoder inputs only; it has no text-to-text format for encoder-decoder backbones yet");
  }
}

std::int64_t pad_id(const tok::Tokenizer& tokenizer) {
  const std::int64_t pad = tokenizer.special_tokens().pad;
  return pad < 0 ? 0 : pad;
}

std::vector<std::vector<std::int64_t>> batch_groups(std::int64_t count, std::int64_t batch_size,
                                                    std::mt19937_64* rng) {
  TORCH_CHECK(batch_size > 0, "batch size must be positive, got ", batch_size);
  const std::vector<std::int64_t> indices = order(count, rng);
  std::vector<std::vector<std::int64_t>> groups;
  for (std::size_t start = 0; start < indices.size(); start += static_cast<std::size_t>(batch_size)) {
    const std::size_t stop = std::min(indices.size(), start + static_cast<std::size_t>(batch_size));
    groups.emplace_back(indices.begin() + static_cast<std::ptrdiff_t>(start),
                        indices.begin() + static_cast<std::ptrdiff_t>(stop));
  }
  return groups;
}

}  // namespace task_util
}  // namespace ptbench
