// BERT/RoBERTa encoders and their HF heads against ../shared/golden/models (transformers 4.28.1).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "backbones/checkpoint.h"
#include "backbones/encoder.h"
#include "backbones/factory.h"
#include "backbones/heads.h"
#include "tests/test_support.h"

namespace ptbench {
namespace {

using testing::golden_dir;

// The golden README's suggested tolerance for an fp32 port.
constexpr double kAtol = 1e-5;

void expect_close(const torch::Tensor& actual, const torch::Tensor& expected, const std::string& what,
                  double atol = kAtol) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const double max_diff = (actual.to(torch::kFloat64) - expected.to(torch::kFloat64)).abs().max().item<double>();
  EXPECT_LE(max_diff, atol) << what << ": max abs diff " << max_diff;
}

struct Golden {
  TensorMap inputs, outputs;
  explicit Golden(const std::string& model) {
    inputs = load_safetensors(golden_dir() / "models" / model / "inputs.safetensors");
    outputs = load_safetensors(golden_dir() / "models" / model / "outputs.safetensors");
  }
};

BackboneInput input_of(const TensorMap& inputs) {
  BackboneInput input;
  input.input_ids = inputs.at("input_ids");
  input.attention_mask = inputs.at("attention_mask");
  if (inputs.count("token_type_ids")) input.token_type_ids = inputs.at("token_type_ids");
  return input;
}

Injection prefix_injection(const TensorMap& inputs, std::int64_t layers) {
  Injection injection;
  for (std::int64_t l = 0; l < layers; ++l) {
    injection.encoder_self.push_back(KeyValuePrefix{inputs.at("past_key_values." + std::to_string(l) + ".key"),
                                                    inputs.at("past_key_values." + std::to_string(l) + ".value")});
  }
  return injection;
}

class EncoderGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(EncoderGolden, PlainAndPrefixOutputs) {
  const std::string model = GetParam();
  const std::string weights = model == "bert_bin" ? "pytorch_model.bin" : "model.safetensors";
  const std::string folder = model == "bert_bin" ? "bert" : model;
  LoadedBackbone loaded = load_backbone(golden_dir() / "models" / folder, weights);
  loaded.backbone->eval();
  torch::NoGradGuard no_grad;
  Golden golden(folder);
  const BackboneInput input = input_of(golden.inputs);

  BackboneOutput plain = loaded.backbone->forward(input, Injection{});
  expect_close(plain.sequence, golden.outputs.at("last_hidden_state"), model + " last_hidden_state");
  expect_close(plain.pooled, golden.outputs.at("pooler_output"), model + " pooler_output");

  Injection injection = prefix_injection(golden.inputs, loaded.backbone->geometry().layers);
  BackboneOutput prefixed = loaded.backbone->forward(input, injection);
  expect_close(prefixed.sequence, golden.outputs.at("prefix_last_hidden_state"), model + " prefix_last_hidden_state");
  expect_close(prefixed.pooled, golden.outputs.at("prefix_pooler_output"), model + " prefix_pooler_output");

  if (golden.outputs.count("prefix_unshifted_pos_last_hidden_state")) {
    injection.shift_positions_under_layer_prefix = false;
    BackboneOutput unshifted = loaded.backbone->forward(input, injection);
    expect_close(unshifted.sequence, golden.outputs.at("prefix_unshifted_pos_last_hidden_state"),
                 model + " unshifted last_hidden_state");
    expect_close(unshifted.pooled, golden.outputs.at("prefix_unshifted_pos_pooler_output"),
                 model + " unshifted pooler_output");
  }
}

INSTANTIATE_TEST_SUITE_P(Models, EncoderGolden, ::testing::Values("bert", "bert_bin", "roberta"));

TEST(EncoderGolden, RobertaPositionIds) {
  LoadedBackbone loaded = load_backbone(golden_dir() / "models" / "roberta");
  Golden golden("roberta");
  auto* encoder = dynamic_cast<EncoderBackboneImpl*>(loaded.backbone.get());
  ASSERT_NE(encoder, nullptr);
  const auto& ids = golden.inputs.at("input_ids");
  const auto& mask = golden.inputs.at("attention_mask");
  EXPECT_TRUE(torch::equal(encoder->position_ids_for(ids, mask, 0), golden.inputs.at("position_ids_expected")));
  EXPECT_TRUE(torch::equal(encoder->position_ids_for(ids, mask, 3), golden.inputs.at("prefix_position_ids_expected")));
}

TensorMap head_checkpoint(const std::string& model) {
  // bert_tokcls and bert_qa store only their head; the encoder is models/bert (golden README).
  TensorMap head = load_safetensors(golden_dir() / "models" / model / "head.safetensors");
  return head;
}

TEST(HeadGolden, SequenceClassification) {
  LoadedBackbone loaded = load_backbone(golden_dir() / "models" / "bert_seqcls");
  Head head(HeadSpec{HeadKind::sequence_classification, 3}, loaded.backbone->geometry(), 0.1);
  EXPECT_EQ(head->load_from(loaded.head_tensors, 0.02), "head loaded from checkpoint");
  loaded.backbone->eval();
  head->eval();
  torch::NoGradGuard no_grad;
  Golden golden("bert_seqcls");
  torch::Tensor logits = head->forward(loaded.backbone->forward(input_of(golden.inputs), Injection{}));
  expect_close(logits, golden.outputs.at("logits"), "bert_seqcls logits");
}

TEST(HeadGolden, TokenClassificationAndSpanExtraction) {
  LoadedBackbone loaded = load_backbone(golden_dir() / "models" / "bert");
  loaded.backbone->eval();
  torch::NoGradGuard no_grad;
  {
    Head head(HeadSpec{HeadKind::token_classification, 9}, loaded.backbone->geometry(), 0.1);
    EXPECT_EQ(head->load_from(head_checkpoint("bert_tokcls"), 0.02), "head loaded from checkpoint");
    head->eval();
    Golden golden("bert_tokcls");
    torch::Tensor logits = head->forward(loaded.backbone->forward(input_of(golden.inputs), Injection{}));
    expect_close(logits, golden.outputs.at("logits"), "bert_tokcls logits");
  }
  {
    Head head(HeadSpec{HeadKind::span_extraction, 2}, loaded.backbone->geometry(), 0.1);
    EXPECT_EQ(head->load_from(head_checkpoint("bert_qa"), 0.02), "head loaded from checkpoint");
    head->eval();
    Golden golden("bert_qa");
    torch::Tensor logits = head->forward(loaded.backbone->forward(input_of(golden.inputs), Injection{}));
    expect_close(logits.select(-1, 0), golden.outputs.at("start_logits"), "bert_qa start_logits");
    expect_close(logits.select(-1, 1), golden.outputs.at("end_logits"), "bert_qa end_logits");
  }
}

}  // namespace
}  // namespace ptbench
