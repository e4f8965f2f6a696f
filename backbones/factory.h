// Building backbones: from a Hugging Face model folder, or from a named geometry with random
// weights (for cost measurements at the papers' sizes without their checkpoints).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "backbones/backbone.h"
#include "backbones/checkpoint.h"

namespace ptbench {

struct LoadedBackbone {
  Backbone backbone;
  std::filesystem::path source;       // folder, or empty for a named geometry
  std::string weights_file;           // which file the weights came from
  TensorMap head_tensors;             // checkpoint tensors for task heads (classifier.*, qa_outputs.*)
  std::vector<std::string> notes;     // what was initialised fresh or ignored
};

// Loads config.json + weights from a model folder (BERT, RoBERTa; T5 where built in).
LoadedBackbone load_backbone(const std::filesystem::path& dir, const std::filesystem::path& weights_file = {});

// Named geometries with random weights: bert-tiny, bert-mini, bert-small, bert-medium, bert-base,
// bert-large, roberta-base, roberta-large (and t5-* where built in).
LoadedBackbone make_backbone_from_geometry(const std::string& name, std::uint64_t seed = 0);
std::vector<std::string> geometry_names();
// The HF config.json a named geometry stands for.
nlohmann::json geometry_config(const std::string& name);

// A backbone built from a config.json alone (random weights).
Backbone make_backbone_from_config(const nlohmann::json& config);

}  // namespace ptbench
