#include "backbones/checkpoint.h"

#include <cstring>
#include <memory>
#include <sstream>

#include <boost/iostreams/device/mapped_file.hpp>
#include <torch/serialize.h>

#include "common/error.h"
#include "common/files.h"

namespace ptbench {
namespace fs = std::filesystem;

namespace {

struct DtypeInfo {
  const char* name;
  torch::ScalarType type;
  std::size_t bytes;
};

constexpr DtypeInfo kDtypes[] = {
    {"F64", torch::kFloat64, 8}, {"F32", torch::kFloat32, 4}, {"F16", torch::kFloat16, 2},
    {"BF16", torch::kBFloat16, 2}, {"I64", torch::kInt64, 8}, {"I32", torch::kInt32, 4},
    {"I16", torch::kInt16, 2},   {"I8", torch::kInt8, 1},     {"U8", torch::kUInt8, 1},
    {"BOOL", torch::kBool, 1},
};

const DtypeInfo* find_dtype(const std::string& name) {
  for (const DtypeInfo& info : kDtypes)
    if (name == info.name) return &info;
  return nullptr;
}

const DtypeInfo* find_dtype(torch::ScalarType type) {
  for (const DtypeInfo& info : kDtypes)
    if (type == info.type) return &info;
  return nullptr;
}

struct MappedSafetensors {
  std::shared_ptr<boost::iostreams::mapped_file_source> file;
  nlohmann::json header;
  const char* data = nullptr;
  std::size_t data_size = 0;
};

MappedSafetensors map_safetensors(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) fail("no safetensors file at ", path.string());
  const auto file_size = fs::file_size(path, ec);
  if (file_size < 8) fail(path.string(), ": truncated safetensors file (", file_size, " bytes; the 8-byte header size is missing)");
  MappedSafetensors mapped;
  try {
    mapped.file = std::make_shared<boost::iostreams::mapped_file_source>(path.string());
  } catch (const std::exception& e) {
    fail("cannot map ", path.string(), ": ", e.what());
  }
  const char* bytes = mapped.file->data();
  std::uint64_t header_size = 0;
  std::memcpy(&header_size, bytes, 8);  // little-endian on every platform LibTorch supports here
  if (header_size > file_size - 8) {
    fail(path.string(), ": truncated or malformed safetensors file (header claims ", header_size,
         " bytes, file has ", file_size - 8, " after the size field)");
  }
  try {
    mapped.header = nlohmann::json::parse(bytes + 8, bytes + 8 + header_size);
  } catch (const nlohmann::json::parse_error& e) {
    fail(path.string(), ": malformed safetensors header: ", e.what());
  }
  if (!mapped.header.is_object()) fail(path.string(), ": malformed safetensors header (not a JSON object)");
  mapped.data = bytes + 8 + header_size;
  mapped.data_size = file_size - 8 - header_size;
  return mapped;
}

}  // namespace

TensorMap load_safetensors(const fs::path& path) {
  MappedSafetensors mapped = map_safetensors(path);
  TensorMap tensors;
  for (const auto& [name, entry] : mapped.header.items()) {
    if (name == "__metadata__") continue;
    try {
      const DtypeInfo* dtype = find_dtype(entry.at("dtype").get<std::string>());
      if (!dtype) fail(path.string(), ": tensor '", name, "' has unsupported dtype ", entry.at("dtype").dump());
      const std::vector<std::int64_t> shape = entry.at("shape").get<std::vector<std::int64_t>>();
      const auto offsets = entry.at("data_offsets").get<std::vector<std::uint64_t>>();
      if (offsets.size() != 2 || offsets[0] > offsets[1]) fail(path.string(), ": tensor '", name, "' has bad data_offsets");
      std::uint64_t numel = 1;
      for (std::int64_t d : shape) {
        if (d < 0) fail(path.string(), ": tensor '", name, "' has a negative dimension");
        numel *= static_cast<std::uint64_t>(d);
      }
      if (offsets[1] - offsets[0] != numel * dtype->bytes) {
        fail(path.string(), ": tensor '", name, "' holds ", offsets[1] - offsets[0], " bytes but shape and dtype need ",
             numel * dtype->bytes);
      }
      if (offsets[1] > mapped.data_size) {
        fail(path.string(), ": truncated safetensors file: tensor '", name, "' ends at byte ", offsets[1],
             " of a data section of ", mapped.data_size, " bytes");
      }
      auto keep_alive = mapped.file;
      // from_blob wants a mutable pointer; the tensor is read-only in practice (the mapping is
      // read-only, so a write would fault rather than corrupt the file).
      void* start = const_cast<char*>(mapped.data + offsets[0]);
      torch::Tensor tensor = torch::from_blob(
          start, shape, [keep_alive](void*) {}, torch::TensorOptions().dtype(dtype->type));
      tensors.emplace(name, tensor);
    } catch (const nlohmann::json::exception& e) {
      fail(path.string(), ": malformed header entry for tensor '", name, "': ", e.what());
    }
  }
  return tensors;
}

nlohmann::json safetensors_metadata(const fs::path& path) {
  MappedSafetensors mapped = map_safetensors(path);
  return mapped.header.value("__metadata__", nlohmann::json::object());
}

void save_safetensors(const fs::path& path, const TensorMap& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> contiguous;
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    torch::Tensor cpu = tensor.detach().to(torch::kCPU).contiguous();
    const DtypeInfo* dtype = find_dtype(cpu.scalar_type());
    if (!dtype) fail("cannot save tensor '", name, "' of dtype ", cpu.scalar_type(), " to safetensors");
    const std::uint64_t bytes = static_cast<std::uint64_t>(cpu.numel()) * dtype->bytes;
    header[name] = {{"dtype", dtype->name}, {"shape", cpu.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    contiguous.push_back(cpu);
  }
  std::string header_text = header.dump();
  header_text.append((8 - header_text.size() % 8) % 8, ' ');
  std::string content;
  content.reserve(8 + header_text.size() + offset);
  const std::uint64_t header_size = header_text.size();
  content.append(reinterpret_cast<const char*>(&header_size), 8);
  content += header_text;
  for (const torch::Tensor& tensor : contiguous) {
    content.append(static_cast<const char*>(tensor.data_ptr()), tensor.numel() * tensor.element_size());
  }
  write_file_atomic(path, content);
}

TensorMap load_torch_bin(const fs::path& path) {
  const std::string bytes = read_text_file(path);
  if (bytes.size() < 4 || bytes.compare(0, 2, "PK") != 0) {
    fail(path.string(), ": not a PyTorch zip checkpoint (legacy pre-1.6 torch.save files are not supported; "
         "re-save it with a recent PyTorch or convert it to safetensors)");
  }
  torch::IValue value;
  try {
    value = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  } catch (const std::exception& e) {
    std::string what = e.what();
    fail(path.string(), ": cannot read PyTorch checkpoint: ", what.substr(0, what.find('\n')));
  }
  if (!value.isGenericDict()) fail(path.string(), ": expected a state dict (a mapping of names to tensors)");
  TensorMap tensors;
  for (const auto& item : value.toGenericDict()) {
    if (!item.key().isString() || !item.value().isTensor()) {
      fail(path.string(), ": state dict entry is not a name → tensor pair");
    }
    tensors.emplace(item.key().toStringRef(), item.value().toTensor());
  }
  return tensors;
}

ModelFolder load_model_folder(const fs::path& dir, const fs::path& weights_file) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    fail("backbone folder ", dir.string(), " does not exist (give a Hugging Face model folder with config.json and "
         "model.safetensors or pytorch_model.bin, a name under --models-dir/PTBENCH_MODELS, or pretrain one with "
         "`ptbench pretrain`)");
  }
  ModelFolder folder;
  folder.dir = dir;
  const fs::path config_path = dir / "config.json";
  if (!fs::is_regular_file(config_path, ec)) fail("model folder ", dir.string(), " has no config.json");
  folder.config = read_json_file(config_path);
  if (!weights_file.empty()) {
    folder.weights_path = weights_file.is_absolute() ? weights_file : dir / weights_file;
  } else if (fs::is_regular_file(dir / "model.safetensors", ec)) {
    folder.weights_path = dir / "model.safetensors";
  } else if (fs::is_regular_file(dir / "pytorch_model.bin", ec)) {
    folder.weights_path = dir / "pytorch_model.bin";
  } else {
    fail("model folder ", dir.string(), " has no model.safetensors or pytorch_model.bin");
  }
  folder.tensors = folder.weights_path.extension() == ".bin" ? load_torch_bin(folder.weights_path)
                                                             : load_safetensors(folder.weights_path);
  return folder;
}

}  // namespace ptbench
