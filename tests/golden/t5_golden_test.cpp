// The T5 encoder-decoder against ../shared/golden (transformers 4.28.1 T5ForConditionalGeneration,
// v1.0 and v1.1 tiny random models) and PEFT 0.3.0 seq2seq prompt tuning on v1.1.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "backbones/checkpoint.h"
#include "backbones/factory.h"
#include "backbones/t5.h"
#include "harness/model.h"
#include "methods/prompt.h"
#include "tests/test_support.h"

namespace ptbench {
namespace {

using testing::golden_dir;

// The golden README's tolerance for T5 (v1.1 logits reach |x| ≈ 25).
constexpr double kAtol = 5e-5;

void expect_close(const torch::Tensor& actual, const torch::Tensor& expected, const std::string& what,
                  double atol = kAtol) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const double max_diff = (actual.to(torch::kFloat64) - expected.to(torch::kFloat64)).abs().max().item<double>();
  EXPECT_LE(max_diff, atol) << what << ": max abs diff " << max_diff;
}

torch::Tensor seq2seq_loss(const torch::Tensor& logits, const torch::Tensor& labels) {
  return torch::nn::functional::cross_entropy(
      logits.reshape({-1, logits.size(-1)}), labels.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
}

class T5Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(T5Golden, EncoderDecoderLogitsLossAndGreedyGeneration) {
  const std::filesystem::path folder = golden_dir() / "models" / GetParam();
  LoadedBackbone loaded = load_backbone(folder);
  auto* t5 = loaded.backbone->as<T5BackboneImpl>();
  ASSERT_NE(t5, nullptr);
  EXPECT_EQ(t5->options().tie_word_embeddings, GetParam() == "t5_v1_0");
  loaded.backbone->eval();
  torch::NoGradGuard no_grad;
  const TensorMap inputs = load_safetensors(folder / "inputs.safetensors");
  const TensorMap expected = load_safetensors(folder / "outputs.safetensors");

  // HF _shift_right: start token 0, -100 → pad.
  EXPECT_TRUE(torch::equal(t5->shift_right(inputs.at("labels")), inputs.at("decoder_input_ids")));

  BackboneInput input;
  input.input_ids = inputs.at("input_ids");
  input.attention_mask = inputs.at("attention_mask");
  input.decoder_input_ids = inputs.at("decoder_input_ids");
  const BackboneOutput output = loaded.backbone->forward(input, Injection{});
  expect_close(output.sequence, expected.at("encoder_last_hidden_state"), "encoder_last_hidden_state");
  expect_close(output.decoder_sequence, expected.at("decoder_last_hidden_state"), "decoder_last_hidden_state");
  expect_close(output.lm_logits, expected.at("logits"), "logits");
  expect_close(seq2seq_loss(output.lm_logits, inputs.at("labels")), expected.at("loss"), "loss");

  GenerationOptions greedy;
  greedy.max_new_tokens = 6;
  const torch::Tensor generated = loaded.backbone->generate(input, Injection{}, greedy);
  EXPECT_TRUE(torch::equal(generated, expected.at("generated_ids")))
      << "ours " << generated << "\nexpected " << expected.at("generated_ids");

  // One beam is greedy search.
  GenerationOptions one_beam = greedy;
  one_beam.num_beams = 1;
  EXPECT_TRUE(torch::equal(loaded.backbone->generate(input, Injection{}, one_beam), generated));
}

INSTANTIATE_TEST_SUITE_P(Models, T5Golden, ::testing::Values("t5_v1_0", "t5_v1_1"));

TEST(T5Golden, PeftSeq2SeqPromptTuning) {
  const std::filesystem::path peft = golden_dir() / "peft" / "t5_v1_1_prompt_tuning";
  const std::filesystem::path model_folder = golden_dir() / "models" / "t5_v1_1";
  LoadedBackbone loaded = load_backbone(model_folder);
  Method method = make_method("prompt", {{"length", 5}, {"init", "normal"}, {"decoder_prompt", true}});
  Head head(HeadSpec{HeadKind::seq2seq, 0}, loaded.backbone->geometry(), 0.0);
  Model model(loaded.backbone, method, head);
  auto* prompt = dynamic_cast<PromptImpl*>(method.get());
  ASSERT_NE(prompt, nullptr);
  const TensorMap trainable = load_safetensors(peft / "trainable_params.safetensors");
  {
    torch::NoGradGuard no_grad;
    prompt->embedding->weight.copy_(trainable.at("prompt_encoder.default.embedding.weight"));
  }
  EXPECT_EQ(model->parameter_counts().trainable, 10 * 32);
  EXPECT_EQ(method->closed_form_parameters(loaded.backbone->geometry()), 10 * 32);
  model->eval();
  torch::NoGradGuard no_grad;
  const TensorMap inputs = load_safetensors(model_folder / "inputs.safetensors");
  const TensorMap expected = load_safetensors(peft / "outputs.safetensors");
  BackboneInput input;
  input.input_ids = inputs.at("input_ids");
  input.attention_mask = inputs.at("attention_mask");
  input.decoder_input_ids = inputs.at("decoder_input_ids");

  const Injection injection = method->inject(input, *loaded.backbone);
  expect_close(torch::cat({injection.input_prefix, injection.decoder_input_prefix}, 1).narrow(0, 0, 1),
               expected.at("virtual_token_embeddings"), "virtual_token_embeddings");
  const BackboneOutput output = loaded.backbone->forward(input, injection);
  expect_close(output.sequence_with_prefix, expected.at("encoder_last_hidden_state"), "encoder_last_hidden_state");
  // PEFT's logits include the 5 decoder prompt positions (their labels are -100); ours strip them.
  const torch::Tensor logits = model->forward(input);
  expect_close(logits, expected.at("logits").narrow(1, 5, 4), "logits at the label positions");
  expect_close(seq2seq_loss(logits, inputs.at("labels")), expected.at("loss"), "loss");
}

// Rank classification scores are the teacher-forced log-likelihoods of each candidate.
TEST(T5Golden, CandidateScoresAreSummedLogLikelihoods) {
  LoadedBackbone loaded = load_backbone(golden_dir() / "models" / "t5_v1_0");
  auto* t5 = loaded.backbone->as<T5BackboneImpl>();
  loaded.backbone->eval();
  torch::NoGradGuard no_grad;
  const TensorMap inputs = load_safetensors(golden_dir() / "models" / "t5_v1_0" / "inputs.safetensors");
  BackboneInput input;
  input.input_ids = inputs.at("input_ids");
  input.attention_mask = inputs.at("attention_mask");
  const std::vector<std::vector<std::int64_t>> candidates{{1465, 1}, {59, 834, 1}};
  const torch::Tensor scores = loaded.backbone->score_candidates(input, Injection{}, candidates);
  ASSERT_EQ(scores.sizes(), (std::vector<std::int64_t>{3, 2}));
  for (std::size_t c = 0; c < candidates.size(); ++c) {
    torch::Tensor labels = torch::tensor(candidates[c]).unsqueeze(0).expand({3, -1}).contiguous();
    BackboneInput with_target = input;
    with_target.decoder_input_ids = t5->shift_right(labels);
    const torch::Tensor logits = loaded.backbone->forward(with_target, Injection{}).lm_logits;
    // Mean CE over the candidate's tokens × their count = −(summed log-likelihood).
    for (std::int64_t b = 0; b < 3; ++b) {
      const double ce = seq2seq_loss(logits.narrow(0, b, 1), labels.narrow(0, b, 1)).item<double>();
      EXPECT_NEAR(scores[b][static_cast<std::int64_t>(c)].item<double>(), -ce * static_cast<double>(candidates[c].size()), 1e-4);
    }
  }
}

}  // namespace
}  // namespace ptbench
