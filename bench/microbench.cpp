// Micro-benchmarks of the hot paths: tokenisation, the encoder forward, a training step, and the
// FLOP-counted linear against the plain one. Timings live here and in `ptbench bench`, never in
// unit tests. Inputs that need ../shared are skipped with a message when it is absent.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "backbones/factory.h"
#include "backbones/ops.h"
#include "backbones/tokenizers/tokenizer.h"
#include "common/files.h"
#include "common/paths.h"
#include "harness/model.h"

namespace ptbench {
namespace {

std::vector<std::string> rte_texts() {
  std::vector<std::string> texts;
  const auto file = data_dir() / "superglue" / "RTE" / "val.jsonl";
  if (!std::filesystem::exists(file)) return texts;
  for_each_jsonl(file, [&](const nlohmann::json& line, std::int64_t) { texts.push_back(line.value("premise", "")); });
  return texts;
}

void BM_WordPieceTokenize(benchmark::State& state) {
  const auto vocab = vocab_dir() / "bert-base-uncased" / "vocab.txt";
  const std::vector<std::string> texts = rte_texts();
  if (texts.empty() || !std::filesystem::exists(vocab)) {
    state.SkipWithError("needs ../shared (RTE val and the BERT vocabulary)");
    return;
  }
  auto tokenizer = tok::make_wordpiece(vocab, true);
  std::int64_t tokens = 0;
  for (auto _ : state) {
    for (const std::string& text : texts) tokens += static_cast<std::int64_t>(tokenizer->tokenize(text).size());
  }
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_WordPieceTokenize)->Unit(benchmark::kMillisecond);

void BM_EncoderForward(benchmark::State& state) {
  const std::int64_t batch = 8, seq = state.range(0);
  LoadedBackbone loaded = make_backbone_from_geometry("bert-mini", 0);
  loaded.backbone->eval();
  BackboneInput input;
  input.input_ids = torch::randint(1000, 2000, {batch, seq}, torch::kInt64);
  input.attention_mask = torch::ones({batch, seq}, torch::kInt64);
  torch::InferenceMode inference;
  for (auto _ : state) benchmark::DoNotOptimize(loaded.backbone->forward(input, Injection{}).sequence);
  state.counters["examples/s"] = benchmark::Counter(static_cast<double>(batch * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EncoderForward)->Arg(64)->Arg(128)->Unit(benchmark::kMillisecond);

void BM_TrainingStep(benchmark::State& state) {
  LoadedBackbone loaded = make_backbone_from_geometry("bert-mini", 0);
  Head head(HeadSpec{HeadKind::sequence_classification, 2}, loaded.backbone->geometry(), 0.1);
  Model model(loaded.backbone, make_method("full", nlohmann::json::object()), head);
  torch::optim::AdamW optimizer(model->trainable_parameters(), torch::optim::AdamWOptions(1e-4));
  BackboneInput input;
  input.input_ids = torch::randint(1000, 2000, {16, 128}, torch::kInt64);
  input.attention_mask = torch::ones({16, 128}, torch::kInt64);
  torch::Tensor labels = torch::randint(0, 2, {16}, torch::kInt64);
  model->train();
  for (auto _ : state) {
    optimizer.zero_grad();
    torch::nn::functional::cross_entropy(model->forward(input), labels).backward();
    optimizer.step();
  }
}
BENCHMARK(BM_TrainingStep)->Unit(benchmark::kMillisecond);

void BM_LinearCountedVsPlain(benchmark::State& state) {
  torch::Tensor x = torch::randn({2048, 256});
  torch::Tensor w = torch::randn({1024, 256});
  torch::Tensor b = torch::randn({1024});
  torch::NoGradGuard no_grad;
  const bool counted = state.range(0) == 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(counted ? ops::linear(x, w, b) : torch::nn::functional::linear(x, w, b));
  }
  state.SetLabel(counted ? "ops::linear (counted)" : "torch linear");
}
BENCHMARK(BM_LinearCountedVsPlain)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace ptbench

BENCHMARK_MAIN();
