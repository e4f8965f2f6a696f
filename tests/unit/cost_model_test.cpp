// The closed-form cost model (harness/cost.h, `ptbench cost`) against the run-time FLOP counter
// (backbones/ops.h) and the model's own parameter count: for every method (with its option
// variants) and every encoder head on the golden tiny geometries, the counted forward and
// backward FLOPs of a real training forward equal the formula exactly.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "backbones/factory.h"
#include "backbones/ops.h"
#include "common/error.h"
#include "common/files.h"
#include "harness/cost.h"
#include "harness/model.h"
#include "tests/test_support.h"

namespace ptbench {
namespace {

struct Case {
  std::string model;  // golden model folder name
  std::string method;
  nlohmann::json options;
};

std::string case_name(const Case& c) { return c.model + " " + c.method + " " + c.options.dump(); }

const std::vector<Case>& method_cases() {
  static const std::vector<Case> cases = [] {
    const std::vector<std::pair<std::string, nlohmann::json>> methods = {
        {"full", nlohmann::json::object()},
        {"prompt", {{"length", 5}}},
        {"prompt", {{"length", 3}, {"insertion", "after_embeddings_reembedded"}}},
        {"ptuning", {{"length", 4}}},
        {"ptuning", {{"length", 4}, {"encoder", "mlp"}, {"encoder_hidden_size", 16}}},
        {"prefix", {{"length", 3}}},
        {"prefix", {{"length", 3}, {"projection", true}, {"projection_hidden_size", 16}}},
        {"prefix", {{"length", 2}, {"layers", "last:1"}}},
        {"prefix", {{"length", 2}, {"layers", nlohmann::json::array()}}},
        {"smop", nlohmann::json::object()},
        {"smop", {{"routing", "dense"}}},
        {"smop", {{"routing", "topk"}, {"top_k", 2}}},
        {"smop", {{"routing", "gumbel"}}},
        {"smop", {{"routing", "random"}}},
    };
    std::vector<Case> all;
    for (const char* model : {"bert", "roberta"})
      for (const auto& [method, options] : methods) all.push_back({model, method, options});
    return all;
  }();
  return cases;
}

struct Counted {
  ops::FlopCount training;   // a training-mode forward under autograd (backward counted at forward)
  ops::FlopCount inference;  // an evaluation forward under InferenceMode
  ParameterCounts parameters;
};

Counted count(const nlohmann::json& config, const std::string& method, const nlohmann::json& options,
              const CostShape& shape) {
  torch::manual_seed(7);
  Backbone backbone = make_backbone_from_config(config);
  HeadSpec head_spec{shape.head, shape.num_labels, shape.head == HeadKind::multiple_choice ? shape.num_choices : 0,
                     shape.pooling};
  Head head(head_spec, backbone->geometry(), 0.1);
  Model model(backbone, make_method(method, options), head);
  const std::int64_t rows = shape.head == HeadKind::multiple_choice ? shape.batch * shape.num_choices : shape.batch;
  BackboneInput input;
  input.input_ids = torch::randint(5, 200, {rows, shape.seq}, torch::kInt64);
  input.attention_mask = torch::ones({rows, shape.seq}, torch::kInt64);
  input.attention_mask.index_put_({0, shape.seq - 1}, 0);  // one padded position: masks do not change the count
  if (shape.head == HeadKind::seq2seq) {
    input.decoder_input_ids = torch::randint(5, 200, {rows, shape.target > 0 ? shape.target : shape.seq}, torch::kInt64);
    input.decoder_input_ids.index_put_({torch::indexing::Slice(), 0}, 0);  // the decoder start token
  }
  Counted counted;
  counted.parameters = model->parameter_counts();
  model->train();
  {
    ops::FlopScope scope;
    model->forward(input);
    counted.training = scope.count();
  }
  model->eval();
  {
    torch::InferenceMode inference;
    ops::FlopScope scope;
    model->forward(input);
    counted.inference = scope.count();
  }
  return counted;
}

nlohmann::json golden_config(const std::string& model) {
  return read_json_file(testing::golden_dir() / "models" / model / "config.json");
}

void expect_cost_matches_counter(const Case& c, const CostShape& shape) {
  const nlohmann::json config = golden_config(c.model);
  const CostEstimate cost = estimate_cost(config, c.method, c.options, shape);
  const Counted counted = count(config, c.method, c.options, shape);
  const std::string where = case_name(c) + " head " + to_string(shape.head);
  EXPECT_EQ(cost.batch_flops.forward, counted.training.forward) << where;
  EXPECT_EQ(cost.batch_flops.backward, counted.training.backward) << where;
  EXPECT_EQ(cost.batch_flops.forward, counted.inference.forward) << where;
  EXPECT_EQ(counted.inference.backward, 0) << where;
  EXPECT_EQ(cost.total_parameters, counted.parameters.total) << where;
  EXPECT_EQ(cost.trainable_parameters, counted.parameters.trainable) << where;
  EXPECT_EQ(cost.backbone_parameters, counted.parameters.backbone) << where;
  EXPECT_EQ(cost.method_parameters, counted.parameters.method) << where;
  EXPECT_EQ(cost.head_parameters, counted.parameters.head) << where;
  EXPECT_EQ(cost.stored_bytes, counted.parameters.stored_bytes) << where;
}

TEST(CostModel, EveryMethodMatchesTheCounterForSequenceClassification) {
  CostShape shape;
  shape.batch = 3;
  shape.seq = 9;
  shape.num_labels = 3;
  for (const Case& c : method_cases()) expect_cost_matches_counter(c, shape);
}

TEST(CostModel, EveryHeadMatchesTheCounter) {
  for (HeadKind head : {HeadKind::multiple_choice, HeadKind::token_classification, HeadKind::span_extraction}) {
    CostShape shape;
    shape.batch = 2;
    shape.seq = 7;
    shape.head = head;
    shape.num_labels = 5;
    shape.num_choices = 3;
    for (const Case& c : method_cases()) expect_cost_matches_counter(c, shape);
  }
  CostShape pooler_on_roberta;
  pooler_on_roberta.batch = 2;
  pooler_on_roberta.seq = 6;
  pooler_on_roberta.pooling = HeadPooling::pooler;
  expect_cost_matches_counter({"roberta", "prompt", {{"length", 2}}}, pooler_on_roberta);
}

// T5 v1.0 (ReLU FFN, tied scaled LM head) and v1.1 (gated GELU, separate lm_head): encoder,
// decoder with cross-attention, LM head; prompts on either side, prefixes on any stack.
TEST(CostModel, EveryMethodMatchesTheCounterOnT5) {
  const std::vector<std::pair<std::string, nlohmann::json>> methods = {
      {"full", nlohmann::json::object()},
      {"prompt", {{"length", 5}}},
      {"prompt", {{"length", 3}, {"decoder_prompt", true}}},
      {"ptuning", {{"length", 4}}},
      {"ptuning", {{"length", 4}, {"encoder", "mlp"}, {"encoder_hidden_size", 16}}},
      {"prefix", {{"length", 3}}},
      {"prefix", {{"length", 2}, {"stacks", {"cross"}}}},
      {"prefix", {{"length", 2}, {"projection", true}, {"projection_hidden_size", 16},
                  {"stacks", {"encoder", "decoder", "cross"}}, {"layers", "last:1"}}},
      {"smop", nlohmann::json::object()},
      {"smop", {{"routing", "dense"}}},
      {"smop", {{"routing", "random"}}},
  };
  CostShape shape;
  shape.batch = 2;
  shape.seq = 7;
  shape.target = 4;
  shape.head = HeadKind::seq2seq;
  for (const char* model : {"t5_v1_0", "t5_v1_1"})
    for (const auto& [method, options] : methods) expect_cost_matches_counter({model, method, options}, shape);
}

TEST(CostModel, NamedGeometryAgreesWithItsBuiltModel) {
  // bert-tiny by name: the same formula as its config.json, and the hand count of one layer.
  const CostEstimate cost = estimate_cost(cost_model_config("bert-tiny"), "full", nlohmann::json::object(), CostShape{});
  const std::int64_t h = 128, i = 512, t = 128;
  const std::int64_t per_layer = 4 * 2 * t * h * h + 2 * 2 * t * h * i + 2 * 2 * t * t * h;
  EXPECT_EQ(cost.batch_flops.forward, 2 * per_layer + 2 * h * h + 2 * h * 2);
  EXPECT_EQ(cost.batch_flops.backward, 2 * cost.batch_flops.forward);  // every weight and input gradient
  EXPECT_EQ(cost.trainable_parameters, cost.total_parameters);
  EXPECT_EQ(cost.memory.optimizer, 2 * cost.memory.gradients);
  EXPECT_GT(cost.memory.activations, 0);
}

TEST(CostModel, FrozenLayersBeforeThePrefixStoreNoActivations) {
  // A prefix on the last layer only: gradients never reach the first layer, so it saves nothing
  // for backward; a prefix on every layer saves activations in both.
  const nlohmann::json config = golden_config("bert");
  CostShape shape;
  shape.seq = 16;
  const CostEstimate last = estimate_cost(config, "prefix", {{"length", 4}, {"layers", "last:1"}}, shape);
  const CostEstimate all = estimate_cost(config, "prefix", {{"length", 4}}, shape);
  EXPECT_GT(all.memory.activations, last.memory.activations);
  EXPECT_LT(last.batch_flops.backward, all.batch_flops.backward);
}

TEST(CostModel, RejectsWhatItCannotModel) {
  EXPECT_THROW(estimate_cost(golden_config("bert"), "nosuch", nlohmann::json::object(), CostShape{}), Error);
  EXPECT_THROW(estimate_cost(golden_config("bert"), "prompt", {{"lenght", 3}}, CostShape{}), Error);
  CostShape bad;
  bad.batch = 0;
  EXPECT_THROW(estimate_cost(golden_config("bert"), "full", nlohmann::json::object(), bad), Error);
  EXPECT_THROW(cost_model_config("no-such-geometry"), Error);
}

}  // namespace
}  // namespace ptbench
