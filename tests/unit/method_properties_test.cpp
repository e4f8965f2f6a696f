// Properties that tie the methods to each other and to the plain backbone (DESIGN.md section 7),
// the prefix layout, and the option errors users see.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "backbones/checkpoint.h"
#include "backbones/factory.h"
#include "backbones/heads.h"
#include "common/error.h"
#include "harness/model.h"
#include "methods/method.h"
#include "methods/prefix.h"
#include "methods/prompt.h"
#include "methods/smop.h"
#include "tests/test_support.h"

namespace ptbench {
namespace {

using testing::golden_dir;

BackboneInput batch_of(const std::string& backbone) {
  const TensorMap inputs = load_safetensors(golden_dir() / "models" / backbone / "inputs.safetensors");
  BackboneInput input;
  input.input_ids = inputs.at("input_ids");
  input.attention_mask = inputs.at("attention_mask");
  if (inputs.count("token_type_ids")) input.token_type_ids = inputs.at("token_type_ids");
  return input;
}

// A model on the golden backbone with a head seeded identically, so two models differ only in
// their method.
Model model_with(const std::string& backbone, const std::string& method, const nlohmann::json& options) {
  LoadedBackbone loaded = load_backbone(golden_dir() / "models" / backbone);
  Method m = make_method(method, options);
  torch::manual_seed(42);
  Head head(HeadSpec{HeadKind::sequence_classification, 3}, loaded.backbone->geometry(), 0.1);
  Model model(loaded.backbone, m, head);
  model->eval();
  return model;
}

// The frozen backbone and the same head, without any method.
torch::Tensor plain_logits(const std::string& backbone, const BackboneInput& input) {
  LoadedBackbone loaded = load_backbone(golden_dir() / "models" / backbone);
  torch::manual_seed(42);
  Head head(HeadSpec{HeadKind::sequence_classification, 3}, loaded.backbone->geometry(), 0.1);
  loaded.backbone->eval();
  head->eval();
  return head->forward(loaded.backbone->forward(input, Injection{}));
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

class EncoderProperty : public ::testing::TestWithParam<std::string> {};

TEST_P(EncoderProperty, SmopWithOnePromptAndNoNoiseEqualsPromptTuning) {
  const std::string backbone = GetParam();
  torch::NoGradGuard no_grad;
  const BackboneInput input = batch_of(backbone);
  for (const char* routing : {"top1_no_noise", "top1"}) {
    Model smop = model_with(backbone, "smop", {{"num_prompts", 1}, {"prompt_length", 4}, {"routing", routing}});
    Model prompt = model_with(backbone, "prompt", {{"length", 4}});
    auto* smop_method = dynamic_cast<SmopImpl*>(smop->method.get());
    auto* prompt_method = dynamic_cast<PromptImpl*>(prompt->method.get());
    ASSERT_NE(smop_method, nullptr);
    ASSERT_NE(prompt_method, nullptr);
    prompt_method->embedding->weight.copy_(smop_method->embedding->weight);
    // One prompt: softmax probability 1, so the routed prompt is the prompt scaled by 1.
    EXPECT_EQ(max_abs_diff(smop->forward(input), prompt->forward(input)), 0.0) << routing;
    EXPECT_EQ(smop_method->evaluation_counts(), std::vector<std::int64_t>{input.input_ids.size(0)});
  }
}

TEST_P(EncoderProperty, PrefixOnNoLayerEqualsPlainBackbone) {
  const std::string backbone = GetParam();
  torch::NoGradGuard no_grad;
  const BackboneInput input = batch_of(backbone);
  Model model = model_with(backbone, "prefix", {{"length", 4}, {"layers", nlohmann::json::array()}});
  EXPECT_EQ(model->parameter_counts().method, 0);
  EXPECT_EQ(max_abs_diff(model->forward(input), plain_logits(backbone, input)), 0.0);
}

TEST_P(EncoderProperty, PrefixOfLengthZeroEqualsPlainBackbone) {
  const std::string backbone = GetParam();
  torch::NoGradGuard no_grad;
  const BackboneInput input = batch_of(backbone);
  for (bool projection : {false, true}) {
    Model model =
        model_with(backbone, "prefix", {{"length", 0}, {"projection", projection}, {"projection_hidden_size", 8}});
    const Injection injection = model->method->inject(input, *model->backbone);
    ASSERT_EQ(static_cast<std::int64_t>(injection.encoder_self.size()), model->backbone->geometry().layers);
    ASSERT_TRUE(injection.encoder_self[0].has_value());
    EXPECT_EQ(injection.encoder_self[0]->key.size(2), 0);
    EXPECT_LE(max_abs_diff(model->forward(input), plain_logits(backbone, input)), 1e-6) << "projection " << projection;
  }
}

TEST_P(EncoderProperty, AfterEmbeddingsReembeddedDiffersFromAfterEmbeddings) {
  // The two "after the embedding layer" variants must not be confused (see injection.h).
  const std::string backbone = GetParam();
  torch::NoGradGuard no_grad;
  const BackboneInput input = batch_of(backbone);
  Model once = model_with(backbone, "prompt", {{"length", 4}, {"insertion", "after_embeddings"}});
  Model twice = model_with(backbone, "prompt", {{"length", 4}, {"insertion", "after_embeddings_reembedded"}});
  dynamic_cast<PromptImpl*>(twice->method.get())
      ->embedding->weight.copy_(dynamic_cast<PromptImpl*>(once->method.get())->embedding->weight);
  EXPECT_GT(max_abs_diff(once->forward(input), twice->forward(input)), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Backbones, EncoderProperty, ::testing::Values("bert", "roberta"));

TEST(MethodProperties, PrefixLayoutPerLayerKeyValueHeadDim) {
  // Only the last layer gets a prefix: the flat vector covers that layer alone, laid out
  // ((s·2 + kv)·heads + head)·head_dim + d.
  LoadedBackbone loaded = load_backbone(golden_dir() / "models" / "bert");
  Method method = make_method("prefix", {{"length", 3}, {"layers", "last:1"}});
  Head head(HeadSpec{HeadKind::sequence_classification, 3}, loaded.backbone->geometry(), 0.1);
  Model model(loaded.backbone, method, head);
  model->eval();
  auto* prefix = dynamic_cast<PrefixImpl*>(method.get());
  ASSERT_NE(prefix, nullptr);
  const BackboneGeometry& g = loaded.backbone->geometry();
  ASSERT_EQ(prefix->embedding->weight.sizes(), torch::IntArrayRef({3, 2 * g.hidden}));
  torch::NoGradGuard no_grad;
  prefix->embedding->weight.copy_(torch::arange(3 * 2 * g.hidden, torch::kFloat32).view({3, 2 * g.hidden}));
  const Injection injection = method->inject(batch_of("bert"), *loaded.backbone);
  ASSERT_EQ(static_cast<std::int64_t>(injection.encoder_self.size()), g.layers);
  EXPECT_FALSE(injection.encoder_self[0].has_value());
  ASSERT_TRUE(injection.encoder_self[1].has_value());
  for (std::int64_t kv = 0; kv < 2; ++kv) {
    const torch::Tensor& t = kv == 0 ? injection.encoder_self[1]->key : injection.encoder_self[1]->value;
    for (std::int64_t p = 0; p < 3; ++p)
      for (std::int64_t head_index = 0; head_index < g.heads; ++head_index)
        for (std::int64_t d = 0; d < g.head_dim; ++d) {
          const std::int64_t flat = p * 2 * g.hidden + (kv * g.heads + head_index) * g.head_dim + d;
          ASSERT_EQ(t[2][head_index][p][d].item<float>(), static_cast<float>(flat));
        }
  }
}

TEST(MethodProperties, SmopCountsRoutingSeparatelyForTrainingAndEvaluation) {
  LoadedBackbone loaded = load_backbone(golden_dir() / "models" / "bert");
  Method method = make_method("smop", {{"num_prompts", 3}, {"prompt_length", 2}});
  Head head(HeadSpec{HeadKind::sequence_classification, 3}, loaded.backbone->geometry(), 0.1);
  Model model(loaded.backbone, method, head);
  const BackboneInput input = batch_of("bert");
  model->train();
  model->forward(input);
  model->forward(input);
  EXPECT_TRUE(method->auxiliary_loss().defined());
  model->eval();
  {
    torch::NoGradGuard no_grad;
    model->forward(input);
  }
  EXPECT_FALSE(method->auxiliary_loss().defined());
  const nlohmann::json report = method->run_report();
  std::int64_t training = 0, evaluation = 0;
  for (std::int64_t n : report.at("routed_examples").at("training").get<std::vector<std::int64_t>>()) training += n;
  for (std::int64_t n : report.at("routed_examples").at("evaluation").get<std::vector<std::int64_t>>()) evaluation += n;
  EXPECT_EQ(training, 6);
  EXPECT_EQ(evaluation, 3);
  EXPECT_EQ(report.at("routing"), "top1");
}

std::string error_of(const std::string& method, const nlohmann::json& options) {
  try {
    make_method(method, options);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(MethodProperties, UnknownOptionNamesItAndTheNearestValidOne) {
  const std::string prompt = error_of("prompt", {{"lenght", 5}});
  EXPECT_NE(prompt.find("'lenght'"), std::string::npos) << prompt;
  EXPECT_NE(prompt.find("did you mean 'length'"), std::string::npos) << prompt;
  const std::string prefix = error_of("prefix", {{"projecton", true}});
  EXPECT_NE(prefix.find("'projecton'"), std::string::npos) << prefix;
  EXPECT_NE(prefix.find("did you mean 'projection'"), std::string::npos) << prefix;
  const std::string smop = error_of("smop", {{"num_prompt", 4}});
  EXPECT_NE(smop.find("did you mean 'num_prompts'"), std::string::npos) << smop;
  const std::string ptuning = error_of("ptuning", {{"encoder_hiden_size", 4}});
  EXPECT_NE(ptuning.find("did you mean 'encoder_hidden_size'"), std::string::npos) << ptuning;
  const std::string full = error_of("full", {{"lr", 1}});
  EXPECT_NE(full.find("'lr'"), std::string::npos) << full;
  // Values of choice options get the same treatment.
  const std::string routing = error_of("smop", {{"routing", "top-1"}});
  EXPECT_NE(routing.find("did you mean 'top1'"), std::string::npos) << routing;
  const std::string insertion = error_of("prompt", {{"insertion", "after_embedding"}});
  EXPECT_NE(insertion.find("did you mean 'after_embeddings'"), std::string::npos) << insertion;
  const std::string layers = error_of("prefix", {{"layers", "frist:2"}});
  EXPECT_NE(layers.find("'layers'"), std::string::npos) << layers;
  // Type errors name the option.
  const std::string type = error_of("prompt", {{"length", "five"}});
  EXPECT_NE(type.find("'length'"), std::string::npos) << type;
  const std::string ids = error_of("prompt", {{"init", "text"}, {"init_token_ids", {"cat"}}});
  EXPECT_NE(ids.find("'init_token_ids'"), std::string::npos) << ids;
  // Invalid values are refused by validate().
  EXPECT_THROW(make_method("prompt", {{"length", 0}}), Error);
  EXPECT_THROW(make_method("prompt", {{"init", "text"}}), Error);
  EXPECT_THROW(make_method("smop", {{"routing", "topk"}, {"top_k", 9}}), Error);
  EXPECT_NO_THROW(make_method("prefix", {{"length", 0}}));
}

TEST(MethodProperties, RegistryHoldsTheFiveMethodsWithRoundTrippingDefaults) {
  std::vector<std::string> names;
  for (const MethodEntry& entry : method_registry()) {
    names.push_back(entry.name);
    Method method = entry.make(entry.default_options);
    EXPECT_EQ(method->name(), entry.name);
    EXPECT_EQ(method->options_json(), entry.default_options) << entry.name;
    // The resolved options rebuild the same method.
    EXPECT_EQ(entry.make(method->options_json())->options_json(), method->options_json()) << entry.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"full", "prompt", "ptuning", "prefix", "smop"}));
  const std::string unknown = [] {
    try {
      find_method("promt");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  }();
  EXPECT_NE(unknown.find("did you mean 'prompt'"), std::string::npos) << unknown;
}

TEST(MethodProperties, PTuningRecordsTheResolvedEncoderHiddenSize) {
  LoadedBackbone loaded = load_backbone(golden_dir() / "models" / "bert");
  for (const auto& [encoder, expected] : {std::pair{"lstm", 16}, std::pair{"mlp", 32}}) {
    Method method = make_method("ptuning", {{"length", 2}, {"encoder", encoder}});
    EXPECT_EQ(method->options_json().at("encoder_hidden_size"), 0);
    method->attach(*loaded.backbone);
    EXPECT_EQ(method->options_json().at("encoder_hidden_size"), expected) << encoder;
  }
}

TEST(MethodProperties, PrefixLayerSelections) {
  const std::string where = "test";
  EXPECT_EQ(LayerSelection::from_json("all", where).resolve(4, where), (std::vector<std::int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(LayerSelection::from_json("first:2", where).resolve(4, where), (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(LayerSelection::from_json("last:2", where).resolve(4, where), (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(LayerSelection::from_json(nlohmann::json::array({3, 1}), where).resolve(4, where),
            (std::vector<std::int64_t>{1, 3}));
  EXPECT_THROW(LayerSelection::from_json("last:5", where).resolve(4, where), Error);
  EXPECT_THROW(LayerSelection::from_json(nlohmann::json::array({1, 1}), where).resolve(4, where), Error);
  EXPECT_THROW(LayerSelection::from_json(nlohmann::json::array({4}), where).resolve(4, where), Error);
  EXPECT_EQ(LayerSelection::from_json("last:2", where).to_json(), "last:2");
}

}  // namespace
}  // namespace ptbench
