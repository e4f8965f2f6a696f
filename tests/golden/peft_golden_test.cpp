// Prompt tuning, P-tuning (MLP and LSTM) and prefix tuning against ../shared/golden/peft
// (peft 0.3.0 + transformers 4.28.1 on the tiny BERT/RoBERTa sequence classifiers). The
// reference weights of each case are loaded into our modules from trainable_params.safetensors
// (PEFT names → ours), then our model must reproduce PEFT's logits, its prompts or per-layer
// past_key_values, and the adapter's flat prompt_embeddings.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <iostream>
#include <set>

#include "backbones/checkpoint.h"
#include "backbones/factory.h"
#include "backbones/heads.h"
#include "common/error.h"
#include "harness/model.h"
#include "methods/method.h"
#include "methods/prefix.h"
#include "tests/test_support.h"

namespace ptbench {
namespace {

namespace fs = std::filesystem;
using testing::golden_dir;

// The golden README's tolerance for an fp32 port; the classifier logits differ with and without
// token types by about 1.5e-4, so 1e-5 tells them apart.
constexpr double kAtol = 1e-5;

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

void expect_close(const torch::Tensor& actual, const torch::Tensor& expected, const std::string& what) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const double diff = max_abs_diff(actual, expected);
  std::cout << "[peft golden] " << what << ": max abs diff " << diff << "\n";
  EXPECT_LE(diff, kAtol) << what;
}

struct PeftCase {
  std::string folder;      // under golden/peft
  std::string method;      // our method name
  nlohmann::json options;  // our options matching peft_config.json
  std::string backbone;    // under golden/models
};

std::vector<PeftCase> peft_cases() {
  return {
      {"bert_prompt_tuning", "prompt", {{"length", 5}, {"init", "normal"}}, "bert_seqcls"},
      {"bert_p_tuning_mlp", "ptuning", {{"length", 5}, {"encoder", "mlp"}, {"encoder_hidden_size", 16}}, "bert_seqcls"},
      {"bert_p_tuning_lstm",
       "ptuning",
       {{"length", 5}, {"encoder", "lstm"}, {"encoder_hidden_size", 16}},
       "bert_seqcls"},
      {"bert_prefix_tuning", "prefix", {{"length", 4}, {"projection", false}}, "bert_seqcls"},
      {"bert_prefix_tuning_projection",
       "prefix",
       {{"length", 4}, {"projection", true}, {"projection_hidden_size", 16}},
       "bert_seqcls"},
      {"roberta_prompt_tuning", "prompt", {{"length", 5}, {"init", "normal"}}, "roberta"},
  };
}

// PEFT's trainable names → ours: prompt_encoder.default.X → method X;
// base_model.classifier.modules_to_save.default.X → head classifier.X (the copy PEFT trains);
// base_model.classifier.original_module.* is the frozen original and is not used.
struct MappedWeights {
  TensorMap method, head;
};

MappedWeights map_peft_names(const TensorMap& peft) {
  const std::string method_prefix = "prompt_encoder.default.";
  const std::string head_prefix = "base_model.classifier.modules_to_save.default.";
  MappedWeights mapped;
  for (const auto& [name, tensor] : peft) {
    if (name.rfind(method_prefix, 0) == 0) {
      mapped.method.emplace(name.substr(method_prefix.size()), tensor);
    } else if (name.rfind(head_prefix, 0) == 0) {
      mapped.head.emplace("classifier." + name.substr(head_prefix.size()), tensor);
    } else if (name.rfind("base_model.classifier.original_module.", 0) != 0) {
      ADD_FAILURE() << "unexpected PEFT tensor " << name;
    }
  }
  return mapped;
}

void load_method_weights(MethodImpl& method, const TensorMap& weights) {
  auto params = method.named_parameters(true);
  ASSERT_EQ(params.size(), weights.size()) << "our method has another set of parameters than PEFT's";
  torch::NoGradGuard no_grad;
  for (const auto& item : params) {
    auto found = weights.find(item.key());
    ASSERT_NE(found, weights.end()) << "PEFT has no tensor for our parameter " << item.key();
    ASSERT_EQ(found->second.sizes(), item.value().sizes()) << item.key();
    item.value().copy_(found->second);
  }
}

BackboneInput golden_input(const std::string& backbone, bool with_types) {
  const TensorMap inputs = load_safetensors(golden_dir() / "models" / backbone / "inputs.safetensors");
  BackboneInput input;
  input.input_ids = inputs.at("input_ids");
  input.attention_mask = inputs.at("attention_mask");
  if (with_types && inputs.count("token_type_ids")) input.token_type_ids = inputs.at("token_type_ids");
  return input;
}

TEST(PeftGolden, EveryFolderHasACase) {
  std::set<std::string> covered;
  for (const PeftCase& c : peft_cases()) covered.insert(c.folder);
  for (const auto& entry : fs::directory_iterator(golden_dir() / "peft")) {
    if (!entry.is_directory()) continue;
    const std::string name = entry.path().filename().string();
    if (name == "t5_v1_1_prompt_tuning") continue;  // T5 comes with the encoder-decoder backbone
    EXPECT_TRUE(covered.count(name)) << "golden/peft/" << name << " has no test case";
  }
}

void PrintTo(const PeftCase& c, std::ostream* os) { *os << c.folder; }

class PeftGolden : public ::testing::TestWithParam<PeftCase> {};

TEST_P(PeftGolden, ReproducesPeft) {
  const PeftCase& c = GetParam();
  const fs::path folder = golden_dir() / "peft" / c.folder;
  LoadedBackbone loaded = load_backbone(golden_dir() / "models" / c.backbone);
  Method method = make_method(c.method, c.options);
  Head head(HeadSpec{HeadKind::sequence_classification, 3}, loaded.backbone->geometry(), 0.1);
  Model model(loaded.backbone, method, head);

  const MappedWeights weights = map_peft_names(load_safetensors(folder / "trainable_params.safetensors"));
  load_method_weights(*method, weights.method);
  ASSERT_EQ(head->load_from(weights.head, 0.02), "head loaded from checkpoint");
  model->eval();
  torch::NoGradGuard no_grad;

  const TensorMap expected = load_safetensors(folder / "outputs.safetensors");
  const TensorMap adapter = load_safetensors(folder / "adapter.safetensors");
  const BackboneInput input = golden_input(c.backbone == "roberta" ? "roberta" : "bert_seqcls", true);

  expect_close(model->forward(input), expected.at("logits"), c.folder + " logits");
  if (expected.count("logits_without_token_type_ids")) {
    BackboneInput without = input;
    without.token_type_ids = torch::Tensor();
    expect_close(model->forward(without), expected.at("logits_without_token_type_ids"),
                 c.folder + " logits_without_token_type_ids");
  }
  if (expected.count("base_model_logits")) {
    expect_close(head->forward(loaded.backbone->forward(input, Injection{})), expected.at("base_model_logits"),
                 c.folder + " base_model_logits");
  }

  const Injection injection = method->inject(input, *loaded.backbone);
  if (c.method == "prefix") {
    const std::int64_t layers = loaded.backbone->geometry().layers;
    ASSERT_EQ(static_cast<std::int64_t>(injection.encoder_self.size()), layers);
    for (std::int64_t l = 0; l < layers; ++l) {
      ASSERT_TRUE(injection.encoder_self[l].has_value()) << "layer " << l;
      const std::string name = "past_key_values." + std::to_string(l);
      expect_close(injection.encoder_self[l]->key.narrow(0, 0, 1), expected.at(name + ".key"),
                   c.folder + " " + name + ".key");
      expect_close(injection.encoder_self[l]->value.narrow(0, 0, 1), expected.at(name + ".value"),
                   c.folder + " " + name + ".value");
    }
    // The flat layout: prompt_embeddings[p, ((l·2 + kv)·heads + head)·hd + d] = kv_l[0, head, p, d].
    const auto& g = loaded.backbone->geometry();
    const torch::Tensor flat = adapter.at("prompt_embeddings");
    std::vector<torch::Tensor> per_layer;
    for (std::int64_t l = 0; l < layers; ++l) {
      for (const torch::Tensor& kv : {injection.encoder_self[l]->key, injection.encoder_self[l]->value}) {
        per_layer.push_back(kv[0].permute({1, 0, 2}).reshape({kv.size(2), g.heads * g.head_dim}));  // [P, heads·hd]
      }
    }
    expect_close(torch::cat(per_layer, 1), flat, c.folder + " adapter prompt_embeddings (from key/value layout)");
    auto* prefix = dynamic_cast<PrefixImpl*>(method.get());
    ASSERT_NE(prefix, nullptr);
    expect_close(prefix->flat_prefix(), flat, c.folder + " adapter prompt_embeddings (flat prefix)");
  } else {
    ASSERT_TRUE(injection.input_prefix.defined());
    expect_close(injection.input_prefix.narrow(0, 0, 1), expected.at("virtual_token_embeddings"),
                 c.folder + " virtual_token_embeddings");
    expect_close(injection.input_prefix[0], adapter.at("prompt_embeddings"), c.folder + " adapter prompt_embeddings");
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, PeftGolden, ::testing::ValuesIn(peft_cases()),
                         [](const ::testing::TestParamInfo<PeftCase>& info) { return info.param.folder; });

}  // namespace
}  // namespace ptbench
