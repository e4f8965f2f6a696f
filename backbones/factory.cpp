#include "backbones/factory.h"

#include <torch/torch.h>

#include "backbones/encoder.h"
#include "backbones/t5.h"
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

struct NamedT5Geometry {
  const char* name;
  std::int64_t layers, d_model, heads, d_ff;
  bool v1_1;
};

// T5 (Raffel et al. 2020, Table 14 sizes) and T5 v1.1 (gated-GELU FFN, untied head; the
// google/t5-v1_1-* configs), all with d_kv 64 and the 32128-entry vocabulary of the HF configs.
// t5-mini is the shape experiments/pretrain/t5-mini.json pretrains (4+4 layers, d_model 256),
// so its random initialisation is the baseline the pretrained model is compared with.
constexpr NamedT5Geometry kT5Geometries[] = {
    {"t5-mini", 4, 256, 4, 1024, false},
    {"t5-small", 6, 512, 8, 2048, false},          {"t5-base", 12, 768, 12, 3072, false},
    {"t5-large", 24, 1024, 16, 4096, false},       {"t5-v1_1-small", 8, 512, 6, 1024, true},
    {"t5-v1_1-base", 12, 768, 12, 2048, true},     {"t5-v1_1-large", 24, 1024, 16, 2816, true},
};

}  // namespace

std::vector<std::string> geometry_names() {
  std::vector<std::string> names;
  for (const NamedGeometry& g : kGeometries) names.emplace_back(g.name);
  for (const NamedT5Geometry& g : kT5Geometries) names.emplace_back(g.name);
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
  for (const NamedT5Geometry& g : kT5Geometries) {
    if (name != g.name) continue;
    T5Options options;
    options.num_layers = options.num_decoder_layers = g.layers;
    options.d_model = g.d_model;
    options.num_heads = g.heads;
    options.d_ff = g.d_ff;
    options.d_kv = 64;
    if (g.v1_1) {
      options.feed_forward_proj = "gated-gelu";
      options.tie_word_embeddings = false;
      options.dropout_rate = 0.0;  // the v1.1 checkpoints were pretrained without dropout
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
  if (type == "t5") return std::make_shared<T5BackboneImpl>(T5Options::from_hf_config(config), config);
  fail("config.json model_type '", type, "' is not supported (supported: bert, roberta, t5)");
}

LoadedBackbone make_backbone_from_geometry(const std::string& name, std::uint64_t seed) {
  const nlohmann::json config = geometry_config(name);
  torch::manual_seed(seed);
  LoadedBackbone loaded;
  loaded.backbone = make_backbone_from_config(config);
  loaded.weights_file = "random (geometry " + name + ", seed " + std::to_string(seed) + ")";
  return loaded;
}

namespace {

// HF T5 shares one embedding table among shared, encoder.embed_tokens, decoder.embed_tokens and
// (tied, v1.0) lm_head; safetensors saving keeps one name of each alias group (4.28 keeps
// shared.weight), torch.save keeps them all. Tie them back: any alias fills `shared.weight`, the
// others are checked to be equal and dropped.
void load_t5_weights(LoadedBackbone& loaded, ModelFolder& folder) {
  TensorMap tensors = folder.tensors;
  const bool tied = loaded.backbone->as<T5BackboneImpl>()->options().tie_word_embeddings;
  std::vector<std::string> aliases{"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"};
  if (tied) aliases.push_back("lm_head.weight");
  for (const std::string& alias : aliases) {
    auto found = tensors.find(alias);
    if (found == tensors.end()) continue;
    auto shared = tensors.find("shared.weight");
    if (shared == tensors.end()) {
      tensors.emplace("shared.weight", found->second);
    } else if (!shared->second.sizes().equals(found->second.sizes()) || !torch::equal(shared->second, found->second)) {
      fail(folder.weights_path.string(), ": '", alias, "' differs from 'shared.weight' although the config ties them",
           tied ? "" : " (tie_word_embeddings is false only for lm_head)");
    }
    tensors.erase(alias);
  }
  WeightLoadReport report = load_weights_into(*loaded.backbone, tensors, folder.weights_path.string(), {}, {}, {});
  (void)report;
  loaded.notes.push_back(tied ? "embeddings tied: shared = encoder/decoder embed_tokens = lm_head (scaled by d_model^-0.5)"
                              : "embeddings shared by encoder and decoder; separate lm_head");
}

}  // namespace

LoadedBackbone load_backbone(const std::filesystem::path& dir, const std::filesystem::path& weights_file) {
  ModelFolder folder = load_model_folder(dir, weights_file);
  LoadedBackbone loaded;
  loaded.source = dir;
  loaded.weights_file = folder.weights_path.string();
  loaded.backbone = make_backbone_from_config(folder.config);
  if (loaded.backbone->geometry().arch == "t5") {
    load_t5_weights(loaded, folder);
    return loaded;
  }
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
torch::Tensor BackboneImpl::generate(const BackboneInput&, const Injection&, const GenerationOptions&) {
  fail("generation needs an encoder-decoder backbone; ", geometry().arch, " is an encoder");
}

torch::Tensor BackboneImpl::score_candidates(const BackboneInput&, const Injection&,
                                             const std::vector<std::vector<std::int64_t>>&) {
  fail("rank classification needs an encoder-decoder backbone; ", geometry().arch, " is an encoder");
}

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
