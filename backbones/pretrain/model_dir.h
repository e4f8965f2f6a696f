// Writes an ordinary Hugging Face model folder: config.json, model.safetensors and the
// tokenizer files, loadable by `load_backbone` here and by transformers' from_pretrained.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "backbones/checkpoint.h"
#include "backbones/tokenizers/tokenizer.h"

namespace ptbench::pretrain {

struct TokenizerFiles {
  std::filesystem::path source_dir;   // folder the tokenizer was loaded from
  std::string arch;                   // "bert", "roberta", "t5": picks the tokenizer class
  bool lower_case = true;             // WordPiece only (do_lower_case)
  std::int64_t model_max_length = 512;
};

// Copies vocab.txt / vocab.json + merges.txt / spiece.model (and tokenizer.json,
// special_tokens_map.json when present) and writes tokenizer_config.json and
// special_tokens_map.json when the source has none. Error when the source has no vocabulary.
void write_tokenizer_files(const std::filesystem::path& dir, const TokenizerFiles& files,
                           const tok::Tokenizer& tokenizer);

// config.json first, model.safetensors last (written atomically: its presence marks a complete
// folder). `metadata` goes into the safetensors header next to {"format": "pt"}.
void write_model_dir(const std::filesystem::path& dir, const nlohmann::json& config, const TensorMap& tensors,
                     const std::map<std::string, std::string>& metadata = {});

}  // namespace ptbench::pretrain
