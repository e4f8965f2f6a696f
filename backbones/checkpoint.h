// Checkpoint I/O for Hugging Face model folders: config.json + model.safetensors (memory-mapped)
// or pytorch_model.bin (PyTorch zip format), and a safetensors writer.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/types.h>

namespace ptbench {

using TensorMap = std::map<std::string, torch::Tensor>;

// Reads a .safetensors file. The returned tensors view a shared memory mapping of the file
// (no copy); they stay valid after the call. Supported dtypes: F64, F32, F16, BF16, I64, I32,
// I16, I8, U8, BOOL. A truncated or malformed file is an Error naming the file (and tensor).
TensorMap load_safetensors(const std::filesystem::path& path);

// The `__metadata__` object of a .safetensors file (empty object when absent).
nlohmann::json safetensors_metadata(const std::filesystem::path& path);

// Writes tensors (any device; copied to CPU, made contiguous) in sorted-name order with
// `__metadata__` (string values only, as the format requires). Written atomically.
void save_safetensors(const std::filesystem::path& path, const TensorMap& tensors,
                      const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

// Reads a pytorch_model.bin written by torch.save(state_dict) (zip format).
TensorMap load_torch_bin(const std::filesystem::path& path);

// A model folder: its config.json and all its weights. Prefers model.safetensors, then
// pytorch_model.bin; `weights_file` overrides the choice. Errors name the folder and what is
// missing in it.
struct ModelFolder {
  std::filesystem::path dir;
  std::filesystem::path weights_path;
  nlohmann::json config;
  TensorMap tensors;
};
ModelFolder load_model_folder(const std::filesystem::path& dir,
                              const std::filesystem::path& weights_file = {});

}  // namespace ptbench
