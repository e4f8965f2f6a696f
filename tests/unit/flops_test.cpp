// The run-time FLOP counter (backbones/ops.h) against the closed-form count (harness/cost.h).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "backbones/factory.h"
#include "backbones/ops.h"
#include "harness/cost.h"
#include "harness/model.h"

namespace ptbench {
namespace {

struct Counted {
  ops::FlopCount count;
  BackboneGeometry geometry;
};

Counted count_step(const std::string& method, std::int64_t batch, std::int64_t seq, std::int64_t labels) {
  LoadedBackbone loaded = make_backbone_from_geometry("bert-tiny", 3);
  Head head(HeadSpec{HeadKind::sequence_classification, labels}, loaded.backbone->geometry(), 0.0);
  Model model(loaded.backbone, make_method(method, nlohmann::json::object()), head);
  model->train();
  BackboneInput input;
  input.input_ids = torch::randint(1000, 2000, {batch, seq}, torch::kInt64);
  input.attention_mask = torch::ones({batch, seq}, torch::kInt64);
  ops::FlopScope scope;
  torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(input), torch::zeros({batch}, torch::kInt64));
  loss.backward();
  return {scope.count(), loaded.backbone->geometry()};
}

TEST(Flops, FullFineTuningMatchesClosedForm) {
  const Counted counted = count_step("full", 3, 11, 4);
  const FlopEstimate expected =
      encoder_classification_flops(counted.geometry, EncoderCostInput{3, 11, 0, 0, 4, /*backbone_trainable=*/true});
  EXPECT_EQ(counted.count.forward, expected.forward);
  EXPECT_EQ(counted.count.backward, expected.backward);
}

TEST(Flops, InferenceCountsForwardOnly) {
  LoadedBackbone loaded = make_backbone_from_geometry("bert-tiny", 3);
  Head head(HeadSpec{HeadKind::sequence_classification, 2}, loaded.backbone->geometry(), 0.0);
  Model model(loaded.backbone, make_method("full", nlohmann::json::object()), head);
  model->eval();
  torch::InferenceMode inference;
  BackboneInput input;
  input.input_ids = torch::randint(1000, 2000, {2, 7}, torch::kInt64);
  input.attention_mask = torch::ones({2, 7}, torch::kInt64);
  ops::FlopScope scope;
  model->forward(input);
  const FlopEstimate expected = encoder_classification_flops(loaded.backbone->geometry(), EncoderCostInput{2, 7, 0, 0, 2, true});
  EXPECT_EQ(scope.count().forward, expected.forward);
  EXPECT_EQ(scope.count().backward, 0);
}

TEST(Flops, FrozenWeightsCostOnlyInputGradients) {
  // A frozen linear layer whose input needs a gradient: backward is one product, not two.
  torch::Tensor x = torch::randn({5, 8}, torch::requires_grad());
  torch::Tensor w = torch::randn({3, 8});
  ops::FlopScope scope;
  ops::linear(x, w, torch::Tensor()).sum().backward();
  EXPECT_EQ(scope.count().forward, 2 * 5 * 8 * 3);
  EXPECT_EQ(scope.count().backward, 2 * 5 * 8 * 3);
}

}  // namespace
}  // namespace ptbench
