#include "backbones/pretrain/pretrain.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>

#include <torch/torch.h>

#include "backbones/factory.h"
#include "backbones/ops.h"
#include "backbones/pretrain/adamw.h"
#include "backbones/pretrain/corpus.h"
#include "backbones/pretrain/loss.h"
#include "backbones/pretrain/masking.h"
#include "backbones/pretrain/mlm_head.h"
#include "backbones/pretrain/model_dir.h"
#include "backbones/pretrain/span_corruption.h"
#include "common/error.h"
#include "common/files.h"
#include "common/paths.h"
#include "harness/config.h"

namespace ptbench::pretrain {

namespace fs = std::filesystem;

namespace {

constexpr int kCheckpointVersion = 1;
constexpr const char* kStateKey = "ptbench_pretrain_state";

// Purposes mixed into derived seeds, so the streams of one step never coincide.
constexpr std::uint64_t kInitPurpose = 1, kDropoutPurpose = 2, kMaskPurpose = 3, kEvalPurpose = 4;

// ---------------------------------------------------------------------------------------------
// Recipe

// Keys that may differ between a checkpoint and the run resuming it: they change neither the
// data, the model nor the arithmetic.
const std::vector<std::string> kResumableKeys = {"train.device",     "train.threads",    "train.max_minutes",
                                                 "train.log_every",  "train.eval_every", "train.checkpoint_every",
                                                 "train.eval_batch_size", "description"};

// Keys output_config may set: dropout only (they change no weight).
const std::vector<std::string> kOutputConfigKeys = {"hidden_dropout_prob", "attention_probs_dropout_prob",
                                                    "classifier_dropout", "dropout_rate"};

std::string default_tokenizer_dir(const std::string& arch) {
  if (arch == "t5") return (vocab_dir() / "t5").string();
  if (arch == "roberta") return (vocab_dir() / "gpt2").string();
  return (vocab_dir() / "bert-base-uncased").string();
}

// Flattened "a.b.c" → value, for comparing recipes key by key.
void flatten(const nlohmann::json& value, const std::string& path, std::map<std::string, nlohmann::json>& out) {
  if (value.is_object() && !value.empty() && path != "model_config") {
    for (const auto& [key, child] : value.items()) flatten(child, path.empty() ? key : path + "." + key, out);
  } else {
    out[path] = value;
  }
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

std::unique_ptr<tok::Tokenizer> load_pretrain_tokenizer(const std::string& arch, const fs::path& dir) {
  if (!fs::is_directory(dir)) fail("tokenizer folder ", dir.string(), " does not exist (recipe key tokenizer / --tokenizer)");
  std::unique_ptr<tok::Tokenizer> tokenizer;
  if (arch == "roberta") {
    // RoBERTa's byte-level BPE with <s> <pad> </s> <unk> <mask>, also from GPT-2's files.
    if (!fs::exists(dir / "vocab.json") || !fs::exists(dir / "merges.txt")) {
      fail("tokenizer folder ", dir.string(), " lacks vocab.json and merges.txt (arch roberta needs byte-level BPE)");
    }
    tokenizer = tok::make_byte_bpe(dir / "vocab.json", dir / "merges.txt", /*roberta=*/true, /*add_prefix_space=*/false);
  } else {
    tokenizer = tok::load_tokenizer(dir);
  }
  const std::string expected = arch == "t5" ? "sentencepiece" : arch == "roberta" ? "bpe" : "wordpiece";
  if (tokenizer->kind() != expected) {
    fail("tokenizer in ", dir.string(), " is ", tokenizer->kind(), "; arch ", arch, " needs ", expected,
         arch == "t5" ? " (spiece.model)" : arch == "bert" ? " (vocab.txt)" : " (vocab.json + merges.txt)");
  }
  return tokenizer;
}

// ---------------------------------------------------------------------------------------------
// Objectives

struct Batch {
  BackboneInput input;
  torch::Tensor labels;      // MLM: [N] original ids at the masked positions; T5: [B, T] targets
  torch::Tensor positions;   // MLM: [N] indices into the flattened [B·L] input
  std::int64_t label_count = 0;
  std::int64_t input_tokens = 0;
};

struct ForwardResult {
  torch::Tensor loss_sum;    // summed cross-entropy over the labels
  torch::Tensor correct;     // number of labels predicted exactly (argmax); undefined unless asked
};

torch::Tensor to_device_ids(std::vector<std::int64_t>& host, std::vector<std::int64_t> shape, const torch::Device& device) {
  torch::Tensor cpu = torch::from_blob(host.data(), shape, torch::kInt64).clone();
  return device.is_cpu() ? cpu : cpu.to(device);
}

class Objective {
 public:
  virtual ~Objective() = default;
  virtual torch::nn::Module& module() = 0;
  // Raw tokens per example taken from the stream.
  virtual std::int64_t chunk_tokens() const = 0;
  virtual std::int64_t document_separator() const = 0;
  virtual Batch make_batch(const std::vector<std::vector<std::int32_t>>& chunks, Rng& rng,
                           const torch::Device& device) const = 0;
  virtual ForwardResult forward(const Batch& batch, bool with_accuracy) = 0;
  // config.json and model.safetensors of the written folder.
  virtual nlohmann::json output_config() const = 0;
  TensorMap output_tensors() {
    TensorMap tensors;
    for (const auto& item : module().named_parameters(/*recurse=*/true)) tensors.emplace(item.key(), item.value().detach());
    return tensors;
  }
};

// BERT/RoBERTa masked-language modelling: [CLS] chunk [SEP] (RoBERTa <s> chunk </s>), masked as
// HF DataCollatorForLanguageModeling; the head runs only at the masked positions.
class MaskedLmObjective : public Objective {
 public:
  MaskedLmObjective(const nlohmann::json& config, const tok::Tokenizer& tokenizer, std::int64_t seq_length,
                    const MaskingOptions& masking)
      : config_(config),
        model_(config),
        masker_(MlmMasker::for_tokenizer(tokenizer, masking)),
        seq_length_(seq_length),
        cls_(tokenizer.special_tokens().cls),
        sep_(tokenizer.special_tokens().sep) {
    if (cls_ < 0 || sep_ < 0) fail("the tokenizer has no [CLS]/[SEP] (or <s>/</s>) tokens; masked-LM packing needs them");
    if (seq_length_ < 3) fail("data.seq_length must be at least 3 for masked-LM, got ", seq_length_);
  }

  torch::nn::Module& module() override { return *model_; }
  std::int64_t chunk_tokens() const override { return seq_length_ - 2; }
  std::int64_t document_separator() const override { return sep_; }

  Batch make_batch(const std::vector<std::vector<std::int32_t>>& chunks, Rng& rng, const torch::Device& device) const override {
    const auto batch = static_cast<std::int64_t>(chunks.size());
    std::vector<std::int64_t> ids(static_cast<std::size_t>(batch * seq_length_));
    std::vector<std::int64_t> labels(ids.size());
    for (std::int64_t b = 0; b < batch; ++b) {
      std::int64_t* row = ids.data() + b * seq_length_;
      row[0] = cls_;
      std::copy(chunks[static_cast<std::size_t>(b)].begin(), chunks[static_cast<std::size_t>(b)].end(), row + 1);
      row[seq_length_ - 1] = sep_;
      masker_.mask(std::span<std::int64_t>(row, static_cast<std::size_t>(seq_length_)),
                   std::span<std::int64_t>(labels.data() + b * seq_length_, static_cast<std::size_t>(seq_length_)), rng);
    }
    std::vector<std::int64_t> positions, selected_labels;
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (labels[i] == kIgnoreLabel) continue;
      positions.push_back(static_cast<std::int64_t>(i));
      selected_labels.push_back(labels[i]);
    }
    Batch out;
    out.input.input_ids = to_device_ids(ids, {batch, seq_length_}, device);
    out.input.attention_mask = torch::ones({batch, seq_length_}, torch::TensorOptions().dtype(torch::kInt64).device(device));
    out.input.token_type_ids = torch::zeros({batch, seq_length_}, torch::TensorOptions().dtype(torch::kInt64).device(device));
    out.label_count = static_cast<std::int64_t>(positions.size());
    out.positions = to_device_ids(positions, {out.label_count}, device);
    out.labels = to_device_ids(selected_labels, {out.label_count}, device);
    out.input_tokens = batch * seq_length_;
    return out;
  }

  ForwardResult forward(const Batch& batch, bool with_accuracy) override {
    torch::Tensor logits = model_->forward(batch.input, batch.positions);
    ForwardResult result;
    // HF BertForMaskedLM: CrossEntropyLoss over the positions whose label is not -100 — here the
    // logits exist only there, so the mean over them is the same number.
    result.loss_sum = batch.label_count > 0 ? cross_entropy_sum(logits, batch.labels) : logits.sum() * 0.0;
    if (with_accuracy) result.correct = logits.argmax(-1).eq(batch.labels).sum();
    return result;
  }

  nlohmann::json output_config() const override {
    nlohmann::json config = config_;
    config["architectures"] = {model_->prefix() == "roberta" ? "RobertaForMaskedLM" : "BertForMaskedLM"};
    return config;
  }

 private:
  nlohmann::json config_;
  MaskedLmModel model_;
  MlmMasker masker_;
  std::int64_t seq_length_, cls_, sep_;
};

// T5 span corruption: raw chunks sized so the inputs are exactly seq_length tokens (with </s>);
// every example has the same target length, so no padding.
class SpanCorruptionObjective : public Objective {
 public:
  SpanCorruptionObjective(const nlohmann::json& config, const tok::Tokenizer& tokenizer, std::int64_t seq_length,
                          const SpanCorruptionOptions& options)
      : config_(config), options_(options), lengths_(span_corruption_lengths(seq_length, options)) {
    backbone_ = make_backbone_from_config(config);
    if (backbone_->geometry().kind != BackboneKind::encoder_decoder) fail("arch t5 needs an encoder-decoder config");
    eos_ = tokenizer.special_tokens().eos;
    const std::vector<std::int64_t> sentinel = tokenizer.convert_tokens_to_ids({"<extra_id_0>"});
    first_sentinel_ = sentinel.empty() ? -1 : sentinel[0];
    if (eos_ < 0 || first_sentinel_ <= 0 || first_sentinel_ == tokenizer.special_tokens().unk) {
      fail("the T5 tokenizer has no </s> or <extra_id_0> sentinel; span corruption needs the T5 vocabulary");
    }
    max_sentinels_ = std::min<std::int64_t>(100, first_sentinel_ + 1);
    decoder_start_ = config.value("decoder_start_token_id", std::int64_t{0});
  }

  torch::nn::Module& module() override { return *backbone_; }
  std::int64_t chunk_tokens() const override { return lengths_.raw_tokens; }
  std::int64_t document_separator() const override { return eos_; }

  Batch make_batch(const std::vector<std::vector<std::int32_t>>& chunks, Rng& rng, const torch::Device& device) const override {
    const auto batch = static_cast<std::int64_t>(chunks.size());
    std::vector<std::int64_t> inputs, targets, decoder_inputs;
    for (const auto& chunk : chunks) {
      const std::vector<std::int64_t> tokens(chunk.begin(), chunk.end());
      const CorruptedSpans corrupted =
          corrupt_spans(tokens, random_spans_noise_mask(lengths_.raw_tokens, options_, rng), first_sentinel_, max_sentinels_, eos_);
      if (static_cast<std::int64_t>(corrupted.inputs.size()) != lengths_.inputs ||
          static_cast<std::int64_t>(corrupted.targets.size()) != lengths_.targets) {
        fail("span corruption produced ", corrupted.inputs.size(), "/", corrupted.targets.size(), " tokens, expected ",
             lengths_.inputs, "/", lengths_.targets);
      }
      inputs.insert(inputs.end(), corrupted.inputs.begin(), corrupted.inputs.end());
      targets.insert(targets.end(), corrupted.targets.begin(), corrupted.targets.end());
      // HF T5 _shift_right: the decoder reads the start token, then the targets but the last.
      decoder_inputs.push_back(decoder_start_);
      decoder_inputs.insert(decoder_inputs.end(), corrupted.targets.begin(), corrupted.targets.end() - 1);
    }
    Batch out;
    out.input.input_ids = to_device_ids(inputs, {batch, lengths_.inputs}, device);
    out.input.attention_mask = torch::ones({batch, lengths_.inputs}, torch::TensorOptions().dtype(torch::kInt64).device(device));
    out.input.decoder_input_ids = to_device_ids(decoder_inputs, {batch, lengths_.targets}, device);
    out.labels = to_device_ids(targets, {batch, lengths_.targets}, device);
    out.label_count = batch * lengths_.targets;
    out.input_tokens = batch * lengths_.inputs;
    return out;
  }

  ForwardResult forward(const Batch& batch, bool with_accuracy) override {
    const BackboneOutput output = backbone_->forward(batch.input, Injection{});
    const torch::Tensor logits = output.lm_logits.reshape({-1, output.lm_logits.size(-1)});
    const torch::Tensor labels = batch.labels.reshape({-1});
    ForwardResult result;
    result.loss_sum = cross_entropy_sum(logits, labels, kIgnoreLabel);
    if (with_accuracy) result.correct = logits.argmax(-1).eq(labels).sum();
    return result;
  }

  nlohmann::json output_config() const override {
    nlohmann::json config = backbone_->hf_config();
    config["architectures"] = {"T5ForConditionalGeneration"};
    return config;
  }

 private:
  nlohmann::json config_;
  SpanCorruptionOptions options_;
  SpanCorruptionLengths lengths_;
  Backbone backbone_;
  std::int64_t eos_ = 1, first_sentinel_ = -1, max_sentinels_ = 100, decoder_start_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Loop helpers

// HF get_linear_schedule_with_warmup: lr · step/warmup during warm-up, then linear decay to 0
// at the last step (`step` counts optimizer steps already taken).
double schedule_factor(std::int64_t step, std::int64_t total, std::int64_t warmup) {
  if (step < warmup) return static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(1, warmup));
  return std::max(0.0, static_cast<double>(total - step) / static_cast<double>(std::max<std::int64_t>(1, total - warmup)));
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

torch::Device parse_device(const std::string& name) {
  torch::Device device(torch::kCPU);
  try {
    device = torch::Device(name);
  } catch (const c10::Error&) {
    fail("train.device '", name, "' is not a device (cpu, cuda, cuda:N)");
  }
  if (device.is_cuda() && !torch::cuda::is_available()) {
    fail("train.device '", name, "': this LibTorch sees no CUDA device (torch::cuda::is_available() is false); ",
         "use a CUDA build of LibTorch on a GPU machine, or --device cpu");
  }
  if (!device.is_cpu() && !device.is_cuda()) fail("train.device '", name, "' is not supported (cpu, cuda, cuda:N)");
  return device;
}

struct CheckpointContents {
  std::int64_t step = 0;
  nlohmann::json state;
  TensorMap tensors;
};

TensorMap with_prefix(const TensorMap& tensors, const std::string& prefix) {
  TensorMap out;
  for (const auto& [name, tensor] : tensors) out.emplace(prefix + name, tensor);
  return out;
}

TensorMap strip_prefix(const TensorMap& tensors, const std::string& prefix) {
  TensorMap out;
  for (const auto& [name, tensor] : tensors)
    if (name.rfind(prefix, 0) == 0) out.emplace(name.substr(prefix.size()), tensor);
  return out;
}

torch::Tensor int32_tensor(const std::vector<std::int32_t>& values) {
  return torch::from_blob(const_cast<std::int32_t*>(values.data()), {static_cast<std::int64_t>(values.size())}, torch::kInt32)
      .clone();
}

std::vector<std::int32_t> int32_vector(const torch::Tensor& tensor) {
  const torch::Tensor t = tensor.to(torch::kInt32).contiguous();
  return {t.data_ptr<std::int32_t>(), t.data_ptr<std::int32_t>() + t.numel()};
}

// Keeps the log lines of steps up to `step` (a resumed run redoes the steps after its checkpoint).
void trim_log(const fs::path& log, std::int64_t step) {
  if (!fs::exists(log)) return;
  std::string kept;
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    nlohmann::json entry;
    try {
      entry = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      continue;  // a line cut short by a kill
    }
    if (entry.value("step", std::int64_t{0}) > step) continue;
    kept += line + "\n";
  }
  write_file_atomic(log, kept);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Recipe

nlohmann::json default_recipe() {
  return {
      {"description", ""},
      {"arch", "bert"},            // bert | roberta | t5
      {"geometry", ""},            // named geometry (backbones/factory.h), or empty
      {"model_config", nlohmann::json::object()},  // HF config.json keys, merged over the geometry's
      {"output_config", nlohmann::json::object()},  // dropout keys written into config.json instead of the trained ones
      {"tokenizer", ""},           // tokenizer folder; empty: the shared vocabulary of the arch
      {"data",
       {{"corpus", ""},            // corpus root; empty: <shared>/corpus
        {"sources", nlohmann::json::array()},  // source folders to train on; empty: all
        {"heldout_source", "wikipedia"},       // its first shard is held out for evaluation
        {"seq_length", 128},       // BERT: [CLS] + seq_length-2 tokens + [SEP]; T5: input tokens incl. </s>
        {"shuffle_buffer", 1024},  // chunks in the shuffle buffer
        {"eval_sequences", 256}}}, // held-out sequences evaluated
      {"objective",
       {{"mask_probability", 0.15},
        {"mask_token_share", 0.8},
        {"random_token_share", 0.1},
        {"whole_word_masking", false},
        {"noise_density", 0.15},
        {"mean_noise_span_length", 3.0}}},
      {"train",
       {{"steps", 1000},
        {"batch_size", 64},        // sequences per optimizer step
        {"micro_batch_size", 0},   // sequences per forward/backward; 0 = batch_size (no accumulation)
        {"lr", 5e-4},
        {"warmup_steps", 100},
        {"weight_decay", 0.01},
        {"beta1", 0.9},
        {"beta2", 0.999},
        {"eps", 1e-6},
        {"max_grad_norm", 1.0},    // 0 disables clipping
        {"seed", 0},
        {"threads", 0},            // 0 = LibTorch's default
        {"device", "cpu"},
        {"max_minutes", 0.0},      // time budget across resumes; 0 = none
        {"log_every", 10},
        {"eval_every", 100},       // 0 = only at the end
        {"checkpoint_every", 200}, // 0 = only at the end
        {"eval_batch_size", 0}}},  // 0 = micro_batch_size
  };
}

nlohmann::json resolve_recipe(const nlohmann::json& file, const std::vector<nlohmann::json>& patches) {
  nlohmann::json recipe = default_recipe();
  const nlohmann::json schema = default_recipe();
  check_known_keys(file, schema, "pretraining recipe");
  apply_merge_patch(recipe, file);
  for (const nlohmann::json& patch : patches) {
    check_known_keys(patch, schema, "pretraining options");
    apply_merge_patch(recipe, patch);
  }
  const std::string arch = recipe["arch"];
  if (arch != "bert" && arch != "roberta" && arch != "t5") fail("recipe key 'arch' must be bert, roberta or t5, got '", arch, "'");
  if (recipe["geometry"].get<std::string>().empty() && recipe["model_config"].empty()) {
    fail("the recipe names no model: set 'geometry' (e.g. bert-mini) or 'model_config' (a config.json object), "
         "or pass --geometry / --config");
  }
  if (recipe["tokenizer"].get<std::string>().empty()) recipe["tokenizer"] = default_tokenizer_dir(arch);
  if (recipe["data"]["corpus"].get<std::string>().empty()) recipe["data"]["corpus"] = (shared_dir() / "corpus").string();
  const nlohmann::json& train = recipe["train"];
  auto positive = [&](const char* key) {
    if (train[key].get<std::int64_t>() <= 0) fail("train.", key, " must be positive, got ", train[key].dump());
  };
  positive("steps");
  positive("batch_size");
  positive("log_every");
  if (train["micro_batch_size"].get<std::int64_t>() < 0) fail("train.micro_batch_size must be >= 0");
  const std::int64_t batch = train["batch_size"], micro = train["micro_batch_size"];
  if (micro > 0 && batch % micro != 0) {
    fail("train.batch_size ", batch, " is not a multiple of train.micro_batch_size ", micro, " (gradient accumulation)");
  }
  if (train["lr"].get<double>() <= 0) fail("train.lr must be positive");
  if (train["warmup_steps"].get<std::int64_t>() < 0) fail("train.warmup_steps must be >= 0");
  if (recipe["data"]["seq_length"].get<std::int64_t>() < 3) fail("data.seq_length must be at least 3");
  if (recipe["data"]["eval_sequences"].get<std::int64_t>() < 0) fail("data.eval_sequences must be >= 0");
  MaskingOptions{recipe["objective"]["mask_probability"], recipe["objective"]["mask_token_share"],
                 recipe["objective"]["random_token_share"], recipe["objective"]["whole_word_masking"]}
      .validate();
  SpanCorruptionOptions{recipe["objective"]["noise_density"], recipe["objective"]["mean_noise_span_length"]}.validate();
  (void)recipe_model_config(recipe);  // names a bad geometry or a model_type that contradicts arch
  // output_config: pretraining without dropout (Geiping & Goldstein 2023, "Cramming":
  // a single pass over the data needs no dropout) but fine-tuning with it; only dropout keys, so
  // the written config always describes the written weights.
  for (const auto& [key, value] : recipe["output_config"].items()) {
    if (std::find(kOutputConfigKeys.begin(), kOutputConfigKeys.end(), key) == kOutputConfigKeys.end()) {
      fail("output_config key '", key, "' is not allowed (only dropout settings: ", join(kOutputConfigKeys, ", "), ")");
    }
    if (!value.is_number() || value.get<double>() < 0 || value.get<double>() >= 1) {
      fail("output_config.", key, " must be a probability in [0, 1), got ", value.dump());
    }
  }
  return recipe;
}

nlohmann::json recipe_model_config(const nlohmann::json& recipe) {
  const std::string arch = recipe.at("arch");
  const std::string geometry = recipe.at("geometry");
  nlohmann::json config = geometry.empty() ? nlohmann::json::object() : geometry_config(geometry);
  apply_merge_patch(config, recipe.at("model_config"));
  const std::string type = config.value("model_type", std::string());
  if (type != arch) {
    fail("the model config has model_type '", type, "' but the recipe's arch is '", arch, "'",
         geometry.empty() ? std::string(" (model_config / --config)") : " (geometry " + geometry + ")");
  }
  if (arch != "t5") {
    const std::int64_t seq = recipe.at("data").at("seq_length");
    const std::int64_t needed = arch == "roberta" ? seq + 2 : seq;  // RoBERTa positions start at padding_idx + 1
    if (config.value("max_position_embeddings", std::int64_t{512}) < needed) {
      fail("data.seq_length ", seq, " needs max_position_embeddings >= ", needed, ", the model config has ",
           config.value("max_position_embeddings", std::int64_t{512}));
    }
  }
  return config;
}

fs::path checkpoint_path(const fs::path& out_dir) { return out_dir / "checkpoint" / "checkpoint.safetensors"; }

// ---------------------------------------------------------------------------------------------
// The loop

PretrainOutcome run_pretraining(const nlohmann::json& recipe, const PretrainRun& run) {
  const auto started = std::chrono::steady_clock::now();
  const std::string arch = recipe.at("arch");
  const nlohmann::json& data = recipe.at("data");
  const nlohmann::json& objective_keys = recipe.at("objective");
  const nlohmann::json& train = recipe.at("train");
  const std::uint64_t seed = train.at("seed").get<std::uint64_t>();
  const std::int64_t total_steps = train.at("steps");
  const std::int64_t batch_size = train.at("batch_size");
  const std::int64_t micro_batch = train.at("micro_batch_size").get<std::int64_t>() > 0 ? train.at("micro_batch_size").get<std::int64_t>() : batch_size;
  const std::int64_t accumulation = batch_size / micro_batch;
  const std::int64_t eval_batch = train.at("eval_batch_size").get<std::int64_t>() > 0 ? train.at("eval_batch_size").get<std::int64_t>() : micro_batch;
  const std::int64_t seq_length = data.at("seq_length");
  const std::int64_t log_every = train.at("log_every"), eval_every = train.at("eval_every");
  const std::int64_t checkpoint_every = train.at("checkpoint_every");
  const double max_minutes = train.at("max_minutes");
  if (train.at("threads").get<std::int64_t>() > 0) torch::set_num_threads(static_cast<int>(train.at("threads").get<std::int64_t>()));
  const torch::Device device = parse_device(train.at("device"));
  if (device.is_cuda()) {
    // TF32 tensor cores for fp32 GEMMs on Ampere and later (what PyTorch's pretraining recipes run).
    at::globalContext().setAllowTF32CuBLAS(true);
    at::globalContext().setAllowTF32CuDNN(true);
  }

  const fs::path out_dir = run.out_dir;
  const fs::path checkpoint_file = checkpoint_path(out_dir);
  const fs::path log_path = out_dir / "pretrain_log.jsonl";
  const bool have_checkpoint = fs::exists(checkpoint_file);
  if (!run.resume && have_checkpoint) {
    fail("output folder ", out_dir.string(), " already holds a pretraining checkpoint; pass --resume to continue it, ",
         "or choose another --out");
  }
  if (!run.resume && fs::exists(out_dir / "model.safetensors")) {
    fail("output folder ", out_dir.string(), " already holds a model (model.safetensors); choose another --out");
  }

  // Tokenizer, model, objective.
  const fs::path tokenizer_dir = recipe.at("tokenizer").get<std::string>();
  const std::unique_ptr<tok::Tokenizer> tokenizer = load_pretrain_tokenizer(arch, tokenizer_dir);
  nlohmann::json model_config = recipe_model_config(recipe);
  const std::int64_t model_vocab = model_config.value("vocab_size", std::int64_t{0});
  if (model_vocab < static_cast<std::int64_t>(tokenizer->vocab_size())) {
    fail("the model's vocab_size ", model_vocab, " is smaller than the tokenizer's ", tokenizer->vocab_size(), " (",
         tokenizer_dir.string(), "); set model_config.vocab_size");
  }
  torch::manual_seed(mix64(seed ^ kInitPurpose));
  std::unique_ptr<Objective> objective;
  if (arch == "t5") {
    objective = std::make_unique<SpanCorruptionObjective>(
        model_config, *tokenizer, seq_length,
        SpanCorruptionOptions{objective_keys.at("noise_density"), objective_keys.at("mean_noise_span_length")});
  } else {
    objective = std::make_unique<MaskedLmObjective>(
        model_config, *tokenizer, seq_length,
        MaskingOptions{objective_keys.at("mask_probability"), objective_keys.at("mask_token_share"),
                       objective_keys.at("random_token_share"), objective_keys.at("whole_word_masking")});
  }
  torch::nn::Module& model = objective->module();
  model.to(device);
  std::vector<std::pair<std::string, torch::Tensor>> named;
  std::int64_t parameter_count = 0;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    named.emplace_back(item.key(), item.value());
    parameter_count += item.value().numel();
  }
  NamedAdamW optimizer(named, AdamWOptions{train.at("beta1"), train.at("beta2"), train.at("eps"), train.at("weight_decay")});

  // Data.
  const CorpusShards shards =
      list_corpus_shards(data.at("corpus").get<std::string>(), data.at("sources").get<std::vector<std::string>>(),
                         data.at("heldout_source"));
  PackedStream stream(shards.root, shards.train, shards.train_bytes, *tokenizer,
                      PackingOptions{objective->chunk_tokens(), objective->document_separator(), data.at("shuffle_buffer"), seed});
  std::vector<Batch> eval_batches;
  if (!shards.heldout.empty() && data.at("eval_sequences").get<std::int64_t>() > 0) {
    const auto chunks = first_chunks(shards.heldout, *tokenizer, objective->chunk_tokens(), objective->document_separator(),
                                     data.at("eval_sequences"));
    for (std::size_t begin = 0; begin < chunks.size(); begin += static_cast<std::size_t>(eval_batch)) {
      const std::size_t end = std::min(chunks.size(), begin + static_cast<std::size_t>(eval_batch));
      Rng rng = Rng::derived({seed, kEvalPurpose, begin});
      eval_batches.push_back(objective->make_batch({chunks.begin() + static_cast<std::ptrdiff_t>(begin),
                                                    chunks.begin() + static_cast<std::ptrdiff_t>(end)},
                                                   rng, device));
    }
  }

  // Resume.
  std::int64_t step = 0, tokens_seen = 0;
  double elapsed_before = 0;
  if (run.resume && have_checkpoint) {
    const TensorMap tensors = load_safetensors(checkpoint_file);
    const nlohmann::json metadata = safetensors_metadata(checkpoint_file);
    if (!metadata.contains(kStateKey)) fail(checkpoint_file.string(), " is not a ptbench pretraining checkpoint (no ", kStateKey, ")");
    const nlohmann::json state = nlohmann::json::parse(metadata[kStateKey].get<std::string>());
    if (state.value("version", 0) != kCheckpointVersion) fail(checkpoint_file.string(), ": unsupported checkpoint version");
    // The checkpoint's recipe must match but for keys that change no arithmetic.
    std::map<std::string, nlohmann::json> before, now;
    flatten(state.at("recipe"), "", before);
    flatten(recipe, "", now);
    for (const auto& [key, value] : now) {
      if (std::find(kResumableKeys.begin(), kResumableKeys.end(), key) != kResumableKeys.end()) continue;
      if (key.rfind("output_config", 0) == 0) continue;
      auto found = before.find(key);
      if (found == before.end() || found->second != value) {
        fail("cannot resume ", out_dir.string(), ": recipe key '", key, "' was ",
             found == before.end() ? std::string("absent") : found->second.dump(), " in the checkpoint and is ", value.dump(),
             " now (resuming must not change the data, model or optimisation)");
      }
    }
    {
      torch::NoGradGuard no_grad;
      const TensorMap weights = strip_prefix(tensors, "model.");
      for (auto& [name, parameter] : named) {
        auto found = weights.find(name);
        if (found == weights.end()) fail(checkpoint_file.string(), ": missing tensor 'model.", name, "'");
        if (found->second.sizes() != parameter.sizes()) fail(checkpoint_file.string(), ": tensor 'model.", name, "' has another shape");
        parameter.copy_(found->second);
      }
    }
    optimizer.load_state(strip_prefix(tensors, "optimizer."), state.at("optimizer"), checkpoint_file.string());
    StreamState stream_state;
    stream_state.scalars = state.at("data");
    for (const auto& [name, tensor] : strip_prefix(tensors, "data.")) stream_state.arrays[name] = int32_vector(tensor);
    stream.restore(stream_state);
    step = state.at("step");
    tokens_seen = state.at("tokens_seen");
    elapsed_before = state.value("elapsed_s", 0.0);
    trim_log(log_path, step);
    if (!run.quiet) std::fprintf(stderr, "pretrain: resuming %s at step %lld\n", out_dir.string().c_str(), static_cast<long long>(step));
  } else {
    if (run.resume && !run.quiet) std::fprintf(stderr, "pretrain: no checkpoint in %s; starting fresh\n", out_dir.string().c_str());
    fs::create_directories(out_dir);
    write_file_atomic(log_path, "");
  }
  fs::create_directories(out_dir);
  write_json_atomic(out_dir / "pretrain_recipe.json", recipe);
  std::ofstream log(log_path, std::ios::app);
  auto write_log = [&](const nlohmann::json& entry) {
    log << entry.dump() << "\n";
    log.flush();
  };
  write_log({{"event", step == 0 ? "start" : "resume"},
             {"step", step},
             {"recipe", recipe},
             {"model_config", model_config},
             {"parameters", parameter_count},
             {"train_shards", shards.train.size()},
             {"heldout_shard", shard_name(shards.root, shards.heldout)},
             {"eval_sequences", [&] {
                std::int64_t n = 0;
                for (const Batch& b : eval_batches) n += b.input.input_ids.size(0);
                return n;
              }()},
             {"chunk_tokens", objective->chunk_tokens()},
             {"gemm_gflops", run.gemm_gflops},
             {"environment", run.environment}});

  auto save_checkpoint = [&]() {
    TensorMap tensors = with_prefix(objective->output_tensors(), "model.");
    for (auto& [name, tensor] : optimizer.state_tensors()) tensors.emplace("optimizer." + name, tensor);
    const StreamState stream_state = stream.state();
    for (const auto& [name, values] : stream_state.arrays)
      if (!values.empty()) tensors.emplace("data." + name, int32_tensor(values));
    const nlohmann::json state = {{"version", kCheckpointVersion},
                                  {"step", step},
                                  {"tokens_seen", tokens_seen},
                                  {"elapsed_s", elapsed_before + seconds_since(started)},
                                  {"recipe", recipe},
                                  {"optimizer", optimizer.state_json()},
                                  {"data", stream_state.scalars}};
    fs::create_directories(checkpoint_file.parent_path());
    save_safetensors(checkpoint_file, tensors, {{"format", "pt"}, {kStateKey, state.dump()}});
    write_log({{"event", "checkpoint"}, {"step", step}, {"file", checkpoint_file.string()}});
  };

  PretrainOutcome outcome;
  outcome.log_path = log_path;
  auto evaluate = [&]() {
    if (eval_batches.empty()) return;
    model.eval();
    torch::NoGradGuard no_grad;
    double loss_sum = 0, correct = 0, count = 0;
    for (const Batch& batch : eval_batches) {
      const ForwardResult result = objective->forward(batch, /*with_accuracy=*/true);
      loss_sum += result.loss_sum.item<double>();
      correct += result.correct.item<double>();
      count += static_cast<double>(batch.label_count);
    }
    model.train();
    outcome.eval_loss = count > 0 ? loss_sum / count : 0;
    outcome.eval_accuracy = count > 0 ? correct / count : 0;
    write_log({{"event", "eval"},
               {"step", step},
               {"eval_loss", outcome.eval_loss},
               {"eval_accuracy", outcome.eval_accuracy},
               {"eval_labels", count}});
    if (!run.quiet) {
      std::fprintf(stderr, "pretrain: step %lld eval loss %.4f accuracy %.4f\n", static_cast<long long>(step),
                   outcome.eval_loss, outcome.eval_accuracy);
    }
  };

  model.train();
  const std::int64_t warmup = train.at("warmup_steps");
  const double base_lr = train.at("lr");
  const double max_grad_norm = train.at("max_grad_norm");
  std::vector<double> interval_step_s, interval_flops, tokens_per_s_samples;
  double first_tokens_per_s = 0;
  auto steady_tokens_per_s = [&] { return tokens_per_s_samples.empty() ? first_tokens_per_s : median(tokens_per_s_samples); };
  std::int64_t interval_tokens = 0;
  std::int64_t steps_this_process = 0;
  while (step < total_steps) {
    const auto step_started = std::chrono::steady_clock::now();
    // Every random draw of this step comes from (seed, step): dropout through LibTorch's
    // generator, masks through their own; a resumed run draws the same.
    torch::manual_seed(mix64(seed ^ mix64(kDropoutPurpose ^ mix64(static_cast<std::uint64_t>(step)))));
    const double lr = base_lr * schedule_factor(step, total_steps, warmup);
    optimizer.zero_grad();
    double loss_sum = 0, label_count = 0;
    std::int64_t step_tokens = 0;
    ops::FlopScope flops;
    for (std::int64_t micro = 0; micro < accumulation; ++micro) {
      std::vector<std::vector<std::int32_t>> chunks;
      chunks.reserve(static_cast<std::size_t>(micro_batch));
      for (std::int64_t i = 0; i < micro_batch; ++i) chunks.push_back(stream.next());
      Rng rng = Rng::derived({seed, kMaskPurpose, static_cast<std::uint64_t>(step), static_cast<std::uint64_t>(micro)});
      const Batch batch = objective->make_batch(chunks, rng, device);
      const ForwardResult result = objective->forward(batch, /*with_accuracy=*/false);
      // Each micro-batch's mean loss weighs 1/accumulation (HF Trainer's accumulation).
      const double count = std::max<double>(1.0, static_cast<double>(batch.label_count));
      (result.loss_sum / (count * static_cast<double>(accumulation))).backward();
      loss_sum += result.loss_sum.item<double>() / count / static_cast<double>(accumulation);
      label_count += static_cast<double>(batch.label_count);
      step_tokens += batch.input_tokens;
    }
    double grad_norm = 0;
    if (max_grad_norm > 0) grad_norm = torch::nn::utils::clip_grad_norm_(optimizer.parameters(), max_grad_norm);
    optimizer.step(lr);
    if (device.is_cuda()) torch::cuda::synchronize();
    const ops::FlopCount counted = flops.count();
    ++step;
    ++steps_this_process;
    tokens_seen += step_tokens;
    interval_step_s.push_back(seconds_since(step_started));
    interval_flops.push_back(static_cast<double>(counted.forward + counted.backward));
    interval_tokens += step_tokens;
    if (!std::isfinite(loss_sum)) fail("pretraining diverged at step ", step, ": loss ", loss_sum, " (lower train.lr)");

    if (step % log_every == 0 || step == total_steps) {
      double seconds = 0, flop_total = 0;
      for (double s : interval_step_s) seconds += s;
      for (double f : interval_flops) flop_total += f;
      const double tokens_per_s = seconds > 0 ? static_cast<double>(interval_tokens) / seconds : 0;
      const double gflops = seconds > 0 ? flop_total / seconds / 1e9 : 0;
      // The first interval of a process grows the heap (page faults): not the steady rate, so it
      // counts only when it is the only one.
      if (steps_this_process <= log_every) {
        first_tokens_per_s = tokens_per_s;
      } else {
        tokens_per_s_samples.push_back(tokens_per_s);
      }
      write_log({{"event", "train"},
                 {"step", step},
                 {"loss", loss_sum},
                 {"lr", lr},
                 {"grad_norm", grad_norm},
                 {"masked_tokens", label_count},
                 {"tokens_seen", tokens_seen},
                 {"tokens_per_s", tokens_per_s},
                 {"step_s_median", median(interval_step_s)},
                 {"flops_per_step", flop_total / static_cast<double>(interval_flops.size())},
                 {"achieved_gflops", gflops},
                 {"achieved_over_gemm", run.gemm_gflops > 0 ? gflops / run.gemm_gflops : 0.0},
                 {"elapsed_s", elapsed_before + seconds_since(started)}});
      if (!run.quiet) {
        std::fprintf(stderr, "pretrain: step %lld/%lld loss %.4f lr %.2e %.0f tokens/s %.1f GFLOP/s\n",
                     static_cast<long long>(step), static_cast<long long>(total_steps), loss_sum, lr, tokens_per_s, gflops);
      }
      interval_step_s.clear();
      interval_flops.clear();
      interval_tokens = 0;
    }
    const bool out_of_time = max_minutes > 0 && (elapsed_before + seconds_since(started)) / 60.0 >= max_minutes;
    if (out_of_time && step < total_steps) {
      outcome.stopped_by_time = true;
      write_log({{"event", "time_budget"}, {"step", step}, {"max_minutes", max_minutes},
                 {"note", "stopped before train.steps; the learning rate had not decayed to 0"}});
      break;
    }
    if ((eval_every > 0 && step % eval_every == 0) || step == total_steps) evaluate();
    if ((checkpoint_every > 0 && step % checkpoint_every == 0) || step == total_steps) save_checkpoint();
    if (run.stop_after_steps > 0 && steps_this_process >= run.stop_after_steps && step < total_steps) {
      outcome.steps = step;
      outcome.tokens_per_second = steady_tokens_per_s();
      return outcome;
    }
  }
  if (outcome.stopped_by_time) {
    evaluate();
    save_checkpoint();
  }
  if (step > 0 && steps_this_process == 0 && eval_batches.size() > 0) evaluate();  // resumed a finished run

  // The Hugging Face folder: tokenizer files and config first, weights last.
  TokenizerFiles files;
  files.source_dir = tokenizer_dir;
  files.arch = arch;
  files.lower_case = tokenizer->kind() == "wordpiece" && !tokenizer->tokenize("A").empty() && tokenizer->tokenize("A")[0] == "a";
  files.model_max_length = arch == "t5" ? 512 : model_config.value("max_position_embeddings", std::int64_t{512}) - (arch == "roberta" ? 2 : 0);
  write_tokenizer_files(out_dir, files, *tokenizer);
  nlohmann::json output_config = objective->output_config();
  apply_merge_patch(output_config, recipe.at("output_config"));
  write_model_dir(out_dir, output_config, objective->output_tensors(),
                  {{"ptbench_pretrain", nlohmann::json{{"steps", step}, {"tokens_seen", tokens_seen},
                                                       {"eval_loss", outcome.eval_loss},
                                                       {"eval_accuracy", outcome.eval_accuracy}}.dump()}});
  outcome.steps = step;
  outcome.finished = true;
  outcome.tokens_per_second = steady_tokens_per_s();
  write_log({{"event", "end"},
             {"step", step},
             {"tokens_seen", tokens_seen},
             {"eval_loss", outcome.eval_loss},
             {"eval_accuracy", outcome.eval_accuracy},
             {"tokens_per_s_median", outcome.tokens_per_second},
             {"stopped_by_time", outcome.stopped_by_time},
             {"elapsed_s", elapsed_before + seconds_since(started)},
             {"model_dir", out_dir.string()}});
  return outcome;
}

}  // namespace ptbench::pretrain
