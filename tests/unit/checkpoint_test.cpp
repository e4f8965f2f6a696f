// Checkpoint I/O: safetensors round-trip and every malformed-input error naming file and tensor.
#include <fstream>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "backbones/checkpoint.h"
#include "backbones/encoder.h"
#include "backbones/factory.h"
#include "common/error.h"
#include "common/files.h"
#include "tests/test_support.h"

namespace ptbench {
namespace {

namespace fs = std::filesystem;
using testing::golden_dir;
using testing::temp_dir;

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(Safetensors, RoundTripKeepsValuesAndDtypes) {
  const fs::path file = temp_dir("st") / "t.safetensors";
  TensorMap tensors{{"b.weight", torch::randn({3, 4})},
                    {"a.ids", torch::arange(6, torch::kInt64).view({2, 3})},
                    {"c.half", torch::randn({5}).to(torch::kFloat16)},
                    {"d.bf16", torch::randn({2, 2}).to(torch::kBFloat16)}};
  save_safetensors(file, tensors, {{"format", "pt"}, {"note", "x"}});
  TensorMap loaded = load_safetensors(file);
  ASSERT_EQ(loaded.size(), tensors.size());
  for (const auto& [name, tensor] : tensors) {
    EXPECT_EQ(loaded.at(name).scalar_type(), tensor.scalar_type()) << name;
    EXPECT_TRUE(torch::equal(loaded.at(name), tensor)) << name;
  }
  EXPECT_EQ(safetensors_metadata(file)["note"], "x");
}

TEST(Safetensors, GoldenFilesSurviveOurWriter) {
  // Files written by the reference writer load, and re-writing them with ours keeps every tensor.
  const fs::path golden = golden_dir() / "models" / "bert" / "inputs.safetensors";
  const fs::path copy = temp_dir("st-copy") / "inputs.safetensors";
  const TensorMap original = load_safetensors(golden);
  save_safetensors(copy, original, {{"format", "pt"}});
  const TensorMap reread = load_safetensors(copy);
  ASSERT_EQ(reread.size(), original.size());
  for (const auto& [name, tensor] : original) {
    EXPECT_EQ(reread.at(name).scalar_type(), tensor.scalar_type()) << name;
    EXPECT_TRUE(torch::equal(reread.at(name), tensor)) << name;
  }
  EXPECT_EQ(safetensors_metadata(golden)["format"], "pt");
}

TEST(Safetensors, TruncatedAndMalformedFilesAreNamed) {
  const fs::path dir = temp_dir("st-bad");
  const std::string bytes = read_text_file(golden_dir() / "models" / "bert" / "model.safetensors");
  write_bytes(dir / "half.safetensors", bytes.substr(0, bytes.size() / 2));
  std::string message = error_of([&] { load_safetensors(dir / "half.safetensors"); });
  EXPECT_NE(message.find("half.safetensors"), std::string::npos) << message;
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;

  write_bytes(dir / "tiny.safetensors", "abc");
  message = error_of([&] { load_safetensors(dir / "tiny.safetensors"); });
  EXPECT_NE(message.find("tiny.safetensors"), std::string::npos) << message;

  std::string header = R"({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}})";
  std::uint64_t size = header.size();
  write_bytes(dir / "shape.safetensors", std::string(reinterpret_cast<char*>(&size), 8) + header + std::string(8, '\0'));
  message = error_of([&] { load_safetensors(dir / "shape.safetensors"); });
  EXPECT_NE(message.find("'x'"), std::string::npos) << message;

  header = "{not json";
  size = header.size();
  write_bytes(dir / "json.safetensors", std::string(reinterpret_cast<char*>(&size), 8) + header);
  message = error_of([&] { load_safetensors(dir / "json.safetensors"); });
  EXPECT_NE(message.find("malformed"), std::string::npos) << message;
}

// A model folder built from the golden BERT with its tensors edited.
fs::path edited_model(const std::string& name, const std::function<void(TensorMap&)>& edit) {
  const fs::path dir = temp_dir(name);
  fs::copy_file(golden_dir() / "models" / "bert" / "config.json", dir / "config.json");
  TensorMap tensors = load_safetensors(golden_dir() / "models" / "bert" / "model.safetensors");
  edit(tensors);
  save_safetensors(dir / "model.safetensors", tensors);
  return dir;
}

TEST(ModelFolder, MissingUnexpectedAndMisshapenTensorsAreNamed) {
  fs::path dir = edited_model("missing", [](TensorMap& t) { t.erase("encoder.layer.1.output.dense.weight"); });
  std::string message = error_of([&] { load_backbone(dir); });
  EXPECT_NE(message.find("missing tensor 'encoder.layer.1.output.dense.weight'"), std::string::npos) << message;
  EXPECT_NE(message.find("model.safetensors"), std::string::npos) << message;

  dir = edited_model("unexpected", [](TensorMap& t) { t["encoder.layer.9.extra"] = torch::zeros({1}); });
  message = error_of([&] { load_backbone(dir); });
  EXPECT_NE(message.find("unexpected tensor 'encoder.layer.9.extra'"), std::string::npos) << message;

  dir = edited_model("shape", [](TensorMap& t) { t["embeddings.LayerNorm.weight"] = torch::ones({31}); });
  message = error_of([&] { load_backbone(dir); });
  EXPECT_NE(message.find("embeddings.LayerNorm.weight"), std::string::npos) << message;
  EXPECT_NE(message.find("shape"), std::string::npos) << message;
}

TEST(ModelFolder, AcceptsModelPrefixesAndOldLayerNormNames) {
  // HF checkpoints saved from task models carry "bert."; old TF conversions use gamma/beta.
  const fs::path dir = edited_model("renamed", [](TensorMap& t) {
    TensorMap renamed;
    for (auto& [name, tensor] : t) {
      std::string key = "bert." + name;
      if (key.size() > 7 && key.compare(key.size() - 7, 7, ".weight") == 0 && key.find("LayerNorm") != std::string::npos)
        key = key.substr(0, key.size() - 7) + ".gamma";
      else if (key.size() > 5 && key.compare(key.size() - 5, 5, ".bias") == 0 && key.find("LayerNorm") != std::string::npos)
        key = key.substr(0, key.size() - 5) + ".beta";
      renamed[key] = tensor;
    }
    t = renamed;
  });
  LoadedBackbone renamed = load_backbone(dir);
  LoadedBackbone original = load_backbone(golden_dir() / "models" / "bert");
  auto a = renamed.backbone->named_parameters();
  auto b = original.backbone->named_parameters();
  for (const auto& item : b) EXPECT_TRUE(torch::equal(a[item.key()], item.value())) << item.key();
}

TEST(ModelFolder, MissingFolderAndFilesAreExplained) {
  std::string message = error_of([] { load_backbone("/definitely/not/here"); });
  EXPECT_NE(message.find("/definitely/not/here"), std::string::npos) << message;
  const fs::path empty = temp_dir("empty-model");
  message = error_of([&] { load_backbone(empty); });
  EXPECT_NE(message.find("config.json"), std::string::npos) << message;
  fs::copy_file(golden_dir() / "models" / "bert" / "config.json", empty / "config.json");
  message = error_of([&] { load_backbone(empty); });
  EXPECT_NE(message.find("model.safetensors or pytorch_model.bin"), std::string::npos) << message;
}

TEST(ModelFolder, SafetensorsAndTorchBinAgree) {
  const TensorMap from_safetensors = load_safetensors(golden_dir() / "models" / "bert" / "model.safetensors");
  const TensorMap from_bin = load_torch_bin(golden_dir() / "models" / "bert" / "pytorch_model.bin");
  ASSERT_EQ(from_bin.size(), from_safetensors.size());
  for (const auto& [name, tensor] : from_safetensors) EXPECT_TRUE(torch::equal(from_bin.at(name), tensor)) << name;
}

}  // namespace
}  // namespace ptbench
