// Pretraining with LibTorch: the MLM head's names and arithmetic against a direct computation,
// the gathered MLM loss against HF's full-sequence loss, AdamW against torch::optim::AdamW, a
// bit-for-bit resume after a stop, written model folders loading back with identical outputs,
// and recipe errors.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include <boost/iostreams/filter/gzip.hpp>
#include <boost/iostreams/filtering_stream.hpp>

#include "backbones/checkpoint.h"
#include "backbones/factory.h"
#include "backbones/pretrain/adamw.h"
#include "backbones/pretrain/loss.h"
#include "backbones/pretrain/mlm_head.h"
#include "backbones/pretrain/model_dir.h"
#include "backbones/pretrain/pretrain.h"
#include "common/error.h"
#include "common/files.h"
#include "tests/test_support.h"

namespace ptbench::pretrain {
namespace {

namespace fs = std::filesystem;
namespace F = torch::nn::functional;

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

nlohmann::json tiny_bert_config() {
  nlohmann::json config = read_json_file(testing::golden_dir() / "models" / "bert" / "config.json");
  config["hidden_dropout_prob"] = 0.1;
  return config;  // 2 layers, hidden 32, 4 heads, vocab 30522
}

TEST(MlmHead, HuggingFaceNamesAndATiedDecoder) {
  torch::manual_seed(0);
  MaskedLmModel model(tiny_bert_config());
  const auto params = model->named_parameters();
  for (const char* name : {"bert.embeddings.word_embeddings.weight", "bert.encoder.layer.1.output.dense.weight",
                           "cls.predictions.transform.dense.weight", "cls.predictions.transform.dense.bias",
                           "cls.predictions.transform.LayerNorm.weight", "cls.predictions.transform.LayerNorm.bias",
                           "cls.predictions.bias"}) {
    EXPECT_TRUE(params.contains(name)) << name;
  }
  for (const auto& item : params) EXPECT_EQ(item.key().find("decoder"), std::string::npos) << item.key();

  nlohmann::json roberta = tiny_bert_config();
  roberta["model_type"] = "roberta";
  roberta["pad_token_id"] = 1;
  MaskedLmModel roberta_model(roberta);
  const auto roberta_params = roberta_model->named_parameters();
  for (const char* name : {"roberta.embeddings.word_embeddings.weight", "lm_head.dense.weight", "lm_head.layer_norm.weight",
                           "lm_head.bias"}) {
    EXPECT_TRUE(roberta_params.contains(name)) << name;
  }
}

TEST(MlmHead, LogitsAndLossMatchTheFullSequenceComputation) {
  torch::manual_seed(1);
  MaskedLmModel model(tiny_bert_config());
  model->eval();
  const auto params = model->named_parameters();
  {
    torch::NoGradGuard no_grad;
    params["cls.predictions.bias"].normal_();  // non-zero so the bias is exercised
  }
  BackboneInput input;
  input.input_ids = torch::randint(1000, 30000, {3, 10}, torch::kInt64);
  input.attention_mask = torch::ones({3, 10}, torch::kInt64);
  torch::Tensor labels = torch::full({3, 10}, -100, torch::kInt64);
  labels.index_put_({0, 2}, 17);
  labels.index_put_({1, 5}, 2000);
  labels.index_put_({2, 9}, 29999);
  labels.index_put_({2, 0}, 5);
  const torch::Tensor positions = labels.reshape({-1}).ne(-100).nonzero().reshape({-1});
  const torch::Tensor gathered = model->forward(input, positions);

  // HF BertOnlyMLMHead on every position: dense → gelu → LayerNorm → ·Eᵀ + bias; loss = mean CE
  // over labels != -100.
  const torch::Tensor hidden = model->encoder()->forward(input, Injection{}).sequence;
  torch::Tensor x = torch::linear(hidden, params["cls.predictions.transform.dense.weight"],
                                  params["cls.predictions.transform.dense.bias"]);
  x = F::gelu(x);
  x = torch::layer_norm(x, {32}, params["cls.predictions.transform.LayerNorm.weight"],
                        params["cls.predictions.transform.LayerNorm.bias"], 1e-12);
  const torch::Tensor full = torch::matmul(x, params["bert.embeddings.word_embeddings.weight"].t()) + params["cls.predictions.bias"];
  const torch::Tensor expected_logits = full.reshape({-1, 30522}).index_select(0, positions);
  EXPECT_TRUE(torch::allclose(gathered, expected_logits, 1e-5, 1e-5));
  const torch::Tensor hf_loss = F::cross_entropy(full.reshape({-1, 30522}), labels.reshape({-1}),
                                                 F::CrossEntropyFuncOptions().ignore_index(-100));
  const torch::Tensor ours = F::cross_entropy(gathered, labels.reshape({-1}).index_select(0, positions));
  EXPECT_NEAR(ours.item<double>(), hf_loss.item<double>(), 1e-5);
}

TEST(CrossEntropySum, ValueAndGradientMatchLibTorch) {
  torch::manual_seed(6);
  const torch::Tensor logits = (3 * torch::randn({9, 50})).requires_grad_(true);
  const torch::Tensor reference_logits = logits.detach().clone().requires_grad_(true);
  const torch::Tensor labels = torch::tensor({3, -100, 49, 0, 7, 7, -100, 12, 30}, torch::kInt64);
  const torch::Tensor ours = cross_entropy_sum(logits, labels);
  const torch::Tensor reference = F::cross_entropy(reference_logits, labels,
                                                   F::CrossEntropyFuncOptions().reduction(torch::kSum).ignore_index(-100));
  EXPECT_NEAR(ours.item<double>(), reference.item<double>(), 1e-4);
  (ours * 0.37).backward();
  (reference * 0.37).backward();
  EXPECT_TRUE(torch::allclose(logits.grad(), reference_logits.grad(), 1e-5, 1e-6));
  EXPECT_TRUE(torch::equal(logits.grad()[1], torch::zeros({50})));  // ignored rows get no gradient
}

TEST(NamedAdamW, MatchesTorchAdamW) {
  torch::manual_seed(2);
  torch::Tensor a = torch::randn({5, 4}).requires_grad_(true);
  torch::Tensor b = torch::randn({7}).requires_grad_(true);
  torch::Tensor a_ref = a.detach().clone().requires_grad_(true);
  torch::Tensor b_ref = b.detach().clone().requires_grad_(true);
  // Both names decay ("w1", "w2": neither a bias nor a LayerNorm weight), as one torch group does.
  NamedAdamW ours({{"w1", a}, {"w2", b}}, AdamWOptions{0.9, 0.98, 1e-6, 0.05});
  torch::optim::AdamW reference({a_ref, b_ref}, torch::optim::AdamWOptions(1e-2).betas({0.9, 0.98}).eps(1e-6).weight_decay(0.05));
  for (int step = 0; step < 5; ++step) {
    const torch::Tensor target = torch::randn({5, 4});
    ours.zero_grad();
    reference.zero_grad();
    ((a - target).pow(2).sum() + b.sin().sum()).backward();
    ((a_ref - target).pow(2).sum() + b_ref.sin().sum()).backward();
    ours.step(1e-2);
    reference.step();
  }
  EXPECT_TRUE(torch::allclose(a, a_ref, 1e-6, 1e-7));
  EXPECT_TRUE(torch::allclose(b, b_ref, 1e-6, 1e-7));
  EXPECT_FALSE(decays_weight("bert.encoder.layer.0.output.LayerNorm.weight"));
  EXPECT_FALSE(decays_weight("cls.predictions.bias"));
  EXPECT_FALSE(decays_weight("encoder.block.0.layer.0.layer_norm.weight"));
  EXPECT_TRUE(decays_weight("bert.embeddings.word_embeddings.weight"));
}

// ---------------------------------------------------------------------------------------------
// The loop on a tiny corpus

void write_gz(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream file(path, std::ios::binary);
  boost::iostreams::filtering_ostream out;
  out.push(boost::iostreams::gzip_compressor());
  out.push(file);
  out << text;
}

// Two sources of plain English; "news/0000" is held out.
fs::path tiny_corpus() {
  static const fs::path root = [] {
    const fs::path dir = testing::temp_dir("pretrain-corpus");
    const char* sentences[] = {"the cat sat on the mat and looked at the dog .",
                               "a man walked into the bank to open an account .",
                               "rain fell over the city for three days in march .",
                               "the committee voted to approve the new budget on friday .",
                               "she played the piano while her brother sang a song ."};
    for (const char* name : {"news/0000.txt.gz", "news/0001.txt.gz", "books/0000.txt.gz"}) {
      std::string text;
      for (int d = 0; d < 12; ++d) {
        text += "document " + std::to_string(d) + "\n";
        for (int p = 0; p < 4; ++p) text += std::string(sentences[(d + p) % 5]) + " " + sentences[(d * p + 1) % 5] + "\n";
        text += "\n";
      }
      write_gz(dir / name, text);
    }
    return dir;
  }();
  return root;
}

nlohmann::json tiny_recipe() {
  nlohmann::json model = tiny_bert_config();
  model["intermediate_size"] = 64;
  return resolve_recipe({{"arch", "bert"},
                         {"model_config", model},
                         {"data", {{"corpus", tiny_corpus().string()}, {"heldout_source", "news"}, {"seq_length", 24},
                                   {"shuffle_buffer", 8}, {"eval_sequences", 6}}},
                         {"train", {{"steps", 6}, {"batch_size", 4}, {"micro_batch_size", 2}, {"lr", 1e-3}, {"warmup_steps", 2},
                                    {"log_every", 1}, {"eval_every", 3}, {"checkpoint_every", 2}, {"seed", 3}}}},
                        {});
}

std::vector<nlohmann::json> curve(const fs::path& log) {
  std::vector<nlohmann::json> entries;
  for_each_jsonl(log, [&](const nlohmann::json& entry, std::int64_t) {
    const std::string event = entry.value("event", "");
    if (event == "train") {
      entries.push_back({{"step", entry["step"]}, {"loss", entry["loss"]}, {"lr", entry["lr"]}, {"grad_norm", entry["grad_norm"]},
                         {"masked_tokens", entry["masked_tokens"]}});
    } else if (event == "eval") {
      entries.push_back({{"step", entry["step"]}, {"eval_loss", entry["eval_loss"]}, {"eval_accuracy", entry["eval_accuracy"]}});
    }
  });
  return entries;
}

TEST(PretrainLoop, ResumeAfterAStopReproducesTheCurveBitForBit) {
  const nlohmann::json recipe = tiny_recipe();
  const fs::path whole = testing::temp_dir("pretrain-whole") / "model";
  const fs::path split = testing::temp_dir("pretrain-split") / "model";
  const PretrainOutcome uninterrupted = run_pretraining(recipe, PretrainRun{.out_dir = whole, .quiet = true});
  ASSERT_TRUE(uninterrupted.finished);

  // Stopped after step 3 (the last checkpoint is step 2), so step 3 is redone on resume.
  const PretrainOutcome first = run_pretraining(recipe, PretrainRun{.out_dir = split, .stop_after_steps = 3, .quiet = true});
  EXPECT_FALSE(first.finished);
  EXPECT_EQ(first.steps, 3);
  EXPECT_FALSE(fs::exists(split / "model.safetensors"));
  // A second start without --resume is refused.
  EXPECT_NE(error_of([&] { run_pretraining(recipe, PretrainRun{.out_dir = split, .quiet = true}); }).find("--resume"),
            std::string::npos);
  // Resuming with another learning rate is refused, naming the key.
  nlohmann::json changed = recipe;
  changed["train"]["lr"] = 2e-3;
  EXPECT_NE(error_of([&] { run_pretraining(changed, PretrainRun{.out_dir = split, .resume = true, .quiet = true}); })
                .find("train.lr"),
            std::string::npos);
  const PretrainOutcome resumed = run_pretraining(recipe, PretrainRun{.out_dir = split, .resume = true, .quiet = true});
  ASSERT_TRUE(resumed.finished);
  EXPECT_EQ(resumed.steps, 6);

  const auto expected = curve(whole / "pretrain_log.jsonl");
  const auto got = curve(split / "pretrain_log.jsonl");
  ASSERT_EQ(expected.size(), 8u);  // 6 train lines, evals at steps 3 and 6
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(got[i], expected[i]) << "entry " << i;
  EXPECT_EQ(expected.front()["lr"], 0.0);  // HF linear warm-up starts at 0

  const TensorMap a = load_safetensors(whole / "model.safetensors");
  const TensorMap b = load_safetensors(split / "model.safetensors");
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) EXPECT_TRUE(torch::equal(tensor, b.at(name))) << name;
}

TEST(PretrainLoop, WrittenFolderLoadsWithTheStandardKeys) {
  nlohmann::json recipe = tiny_recipe();
  recipe["train"]["steps"] = 2;
  recipe["output_config"] = {{"hidden_dropout_prob", 0.2}};
  const fs::path out = testing::temp_dir("pretrain-folder") / "model";
  const PretrainOutcome outcome = run_pretraining(recipe, PretrainRun{.out_dir = out, .quiet = true});
  ASSERT_TRUE(outcome.finished);
  EXPECT_GT(outcome.eval_loss, 0);
  const nlohmann::json config = read_json_file(out / "config.json");
  EXPECT_EQ(config["architectures"][0], "BertForMaskedLM");
  EXPECT_EQ(config["hidden_dropout_prob"], 0.2);  // output_config, not the trained value
  for (const char* key : {"model_type", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                          "intermediate_size", "max_position_embeddings", "type_vocab_size", "hidden_act", "layer_norm_eps",
                          "pad_token_id"}) {
    EXPECT_TRUE(config.contains(key)) << key;
  }
  EXPECT_TRUE(fs::exists(out / "vocab.txt"));
  EXPECT_EQ(read_json_file(out / "tokenizer_config.json")["do_lower_case"], true);
  const TensorMap tensors = load_safetensors(out / "model.safetensors");
  EXPECT_TRUE(tensors.contains("bert.embeddings.word_embeddings.weight"));
  EXPECT_TRUE(tensors.contains("cls.predictions.transform.dense.weight"));
  // Our loader takes the MLM checkpoint: bert. prefix stripped, cls.* ignored with a note.
  LoadedBackbone loaded = load_backbone(out);
  EXPECT_EQ(loaded.backbone->geometry().layers, 2);
  EXPECT_FALSE(loaded.notes.empty());
}

TEST(ModelDir, MaskedLmFolderLoadsBackWithIdenticalOutputs) {
  torch::manual_seed(4);
  MaskedLmModel model(tiny_bert_config());
  const fs::path out = testing::temp_dir("mlm-folder");
  TensorMap tensors;
  for (const auto& item : model->named_parameters()) tensors.emplace(item.key(), item.value());
  nlohmann::json config = tiny_bert_config();
  config["architectures"] = {"BertForMaskedLM"};
  write_model_dir(out, config, tensors);
  LoadedBackbone loaded = load_backbone(out);
  model->eval();
  loaded.backbone->eval();
  BackboneInput input;
  input.input_ids = torch::randint(1000, 30000, {2, 9}, torch::kInt64);
  input.attention_mask = torch::ones({2, 9}, torch::kInt64);
  torch::NoGradGuard no_grad;
  const BackboneOutput ours = model->encoder()->forward(input, Injection{});
  const BackboneOutput reloaded = loaded.backbone->forward(input, Injection{});
  EXPECT_TRUE(torch::equal(ours.sequence, reloaded.sequence));
  EXPECT_TRUE(torch::equal(ours.pooled, reloaded.pooled));
}

TEST(ModelDir, T5FolderLoadsBackWithIdenticalOutputs) {
  nlohmann::json config = read_json_file(testing::golden_dir() / "models" / "t5_v1_0" / "config.json");
  torch::manual_seed(5);
  Backbone model = make_backbone_from_config(config);
  const fs::path out = testing::temp_dir("t5-folder");
  TensorMap tensors;
  for (const auto& item : model->named_parameters()) tensors.emplace(item.key(), item.value());
  write_model_dir(out, config, tensors);
  LoadedBackbone loaded = load_backbone(out);
  model->eval();
  loaded.backbone->eval();
  BackboneInput input;
  input.input_ids = torch::randint(3, 32000, {2, 7}, torch::kInt64);
  input.attention_mask = torch::ones({2, 7}, torch::kInt64);
  input.decoder_input_ids = torch::randint(3, 32000, {2, 4}, torch::kInt64);
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(model->forward(input, Injection{}).lm_logits, loaded.backbone->forward(input, Injection{}).lm_logits));
}

TEST(PretrainLoop, T5SpanCorruptionTrainsAndWritesAFolder) {
  nlohmann::json model = read_json_file(testing::golden_dir() / "models" / "t5_v1_0" / "config.json");
  const nlohmann::json recipe = resolve_recipe(
      {{"arch", "t5"},
       {"model_config", model},
       {"data", {{"corpus", tiny_corpus().string()}, {"heldout_source", "news"}, {"seq_length", 20}, {"shuffle_buffer", 4},
                 {"eval_sequences", 4}}},
       {"train", {{"steps", 3}, {"batch_size", 2}, {"lr", 1e-3}, {"warmup_steps", 1}, {"log_every", 1}, {"eval_every", 0},
                  {"checkpoint_every", 0}}}},
      {});
  const fs::path out = testing::temp_dir("pretrain-t5") / "model";
  const PretrainOutcome outcome = run_pretraining(recipe, PretrainRun{.out_dir = out, .quiet = true});
  ASSERT_TRUE(outcome.finished);
  EXPECT_TRUE(std::isfinite(outcome.eval_loss));
  EXPECT_GT(outcome.eval_loss, 0);
  EXPECT_EQ(read_json_file(out / "config.json")["architectures"][0], "T5ForConditionalGeneration");
  EXPECT_TRUE(fs::exists(out / "spiece.model"));
  LoadedBackbone loaded = load_backbone(out);
  EXPECT_EQ(loaded.backbone->geometry().arch, "t5");
}

TEST(PretrainRecipe, ErrorsNameTheKey) {
  EXPECT_NE(error_of([] { resolve_recipe({{"train", {{"stpes", 3}}}, {"geometry", "bert-mini"}}, {}); }).find("did you mean 'steps'"),
            std::string::npos);
  EXPECT_NE(error_of([] { resolve_recipe({{"geometry", "bert-mini"}, {"train", {{"batch_size", 64}, {"micro_batch_size", 24}}}}, {}); })
                .find("multiple"),
            std::string::npos);
  EXPECT_NE(error_of([] { resolve_recipe({{"arch", "t5"}, {"geometry", "bert-mini"}}, {}); }).find("model_type"), std::string::npos);
  EXPECT_NE(error_of([] { resolve_recipe({{"arch", "bert"}}, {}); }).find("geometry"), std::string::npos);
  EXPECT_NE(error_of([] { resolve_recipe({{"geometry", "bert-mini"}, {"output_config", {{"hidden_size", 64}}}}, {}); })
                .find("output_config key 'hidden_size'"),
            std::string::npos);
  EXPECT_NE(error_of([] { resolve_recipe({{"geometry", "bert-mini"}, {"data", {{"seq_length", 1024}}}}, {}); })
                .find("max_position_embeddings"),
            std::string::npos);
}

TEST(PretrainRecipe, ShippedRecipesResolve) {
  const fs::path dir = testing::source_dir() / "experiments" / "pretrain";
  int count = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().string());
    const nlohmann::json recipe = resolve_recipe(read_json_file(entry.path()), {});
    EXPECT_NO_THROW(recipe_model_config(recipe));
    ++count;
  }
  EXPECT_GE(count, 4);
}

}  // namespace
}  // namespace ptbench::pretrain
