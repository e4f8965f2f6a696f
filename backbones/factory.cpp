#include "backbones/factory.h"

#include <torch/torch.h>

#include "backbones/encoder.h"
#include "common/error.h"

namespace ptbench {

namespace {

struct NamedGeometry {
  const char* name;
  const char* arch;
  std::int64_t layers, hidden, heads, intermediate;
};

// BERT miniatures (Turc et al. 2019: tiny L2/H128, mini L4/H256, small L4/H512, medium L8/H512)
// and the original BERT/RoBERTa base and large sizes.
constexpr NamedGeometry kGeometries[] = {
    {"bert-tiny", "bert", 2, 128, 2, 512},         {"bert-mini", "bert", 4, 256, 4, 1024},
    {"bert-small", "bert", 4, 512, 8, 2048},       {"bert-medium", "bert", 8, 512, 8, 2048},
    {"bert-base", "bert", 12, 768, 12, 3072},      {"bert-large", "bert", 24, 1024, 16, 4096},
    {"roberta-base", "roberta", 12, 768, 12, 3072}, {"roberta-large", "roberta", 24, 1024, 16, 4096},
};

}  // namespace

std::vector<std::string> geometry_names() {
  std::vector<std::string> names;
  for (const NamedGeometry& g : kGeometries) names.emplace_back(g.name);
  return names;
}

nlohmann::json geometry_config(const std::string& name) {
  for (const NamedGeometry& g : kGeometries) {
    if (name != g.name) continue;
    EncoderOptions options;
    options.arch = g.arch;
    options.num_layers = g.layers;
    options.hidden_size = g.hidden;
    options.num_heads = g.heads;
    options.intermediate_size = g.intermediate;
    if (options.arch == "roberta") {
      options.vocab_size = 50265;
      options.max_positions = 514;
      options.type_vocab_size = 1;
      options.pad_token_id = 1;
      options.layer_norm_eps = 1e-5;
      options.positions = PositionScheme::padding_aware;
    }
    return options.to_hf_config();
  }
  std::string known;
  for (const std::string& n : geometry_names()) known += (known.empty() ? "" : ", ") + n;
  fail("unknown geometry '", name, "' (known: ", known, ")");
}

Backbone make_backbone_from_config(const nlohmann::json& config) {
  const std::string type = config.value("model_type", std::string());
  if (type == "bert" || type == "roberta") {
    return std::make_shared<EncoderBackboneImpl>(EncoderOptions::from_hf_config(config), config);
  }
  fail("config.json model_type '", type, "' is not supported (supported: bert, roberta)");
}

LoadedBackbone make_backbone_from_geometry(const std::string& name, std::uint64_t seed) {
  const nlohmann::json config = geometry_config(name);
  torch::manual_seed(seed);
  LoadedBackbone loaded;
  loaded.backbone = make_backbone_from_config(config);
  loaded.weights_file = "random (geometry " + name + ", seed " + std::to_string(seed) + ")";
  return loaded;
}

LoadedBackbone load_backbone(const std::filesystem::path& dir, const std::filesystem::path& weights_file) {
  ModelFolder folder = load_model_folder(dir, weights_file);
  LoadedBackbone loaded;
  loaded.source = dir;
  loaded.weights_file = folder.weights_path.string();
  loaded.backbone = make_backbone_from_config(folder.config);
  // Pretraining heads (cls.*, lm_head.*) and the position-id buffer are not part of the encoder;
  // task heads are handed to the head. A checkpoint without a pooler (token-level HF heads are
  // built with add_pooling_layer=False) gets a fresh one, as HF does.
  WeightLoadReport report = load_weights_into(
      *loaded.backbone, folder.tensors, folder.weights_path.string(), {"pooler."},
      {"cls.", "lm_head.", "embeddings.position_ids"}, {"classifier.", "qa_outputs."});
  loaded.head_tensors = std::move(report.leftover);
  if (!report.initialised_fresh.empty()) loaded.notes.push_back("pooler initialised fresh (not in checkpoint)");
  if (!report.ignored.empty()) {
    loaded.notes.push_back("ignored " + std::to_string(report.ignored.size()) +
                           " checkpoint tensors (pretraining heads, buffers)");
  }
  return loaded;
}

}  // namespace ptbench

namespace ptbench {
nlohmann::json BackboneGeometry::to_json() const {
  return {{"arch", arch},
          {"kind", kind == BackboneKind::encoder ? "encoder" : "encoder-decoder"},
          {"layers", layers},
          {"decoder_layers", decoder_layers},
          {"hidden", hidden},
          {"heads", heads},
          {"head_dim", head_dim},
          {"intermediate", intermediate},
          {"vocab", vocab},
          {"max_positions", max_positions}};
}
}  // namespace ptbench
