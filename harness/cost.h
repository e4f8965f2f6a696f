// Closed-form cost model: FLOPs of the counted operations (linear layers and attention matrix
// products, backbones/ops.h) for a model forward and backward pass, trainable parameters, stored
// bytes and a training-memory estimate, from the geometry and the method options alone.
// Unit-tested against the run-time counter (tests/unit/cost_model_test.cpp); `ptbench cost`
// prints it (harness/cli_cost.cpp).
//
// What the run-time counter does not count, and so neither does this model: embedding lookups,
// LayerNorm, softmax, activations, dropout, the P-Tuning v1 LSTM (torch::nn::LSTM), the SMoP
// router's masked mean and top-k selection, and the loss. Everything else a forward multiplies
// goes through ops::linear / ops::matmul and is counted here exactly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backbones/backbone.h"
#include "backbones/heads.h"

namespace ptbench {

struct EncoderCostInput {
  std::int64_t batch = 1;
  std::int64_t seq = 128;             // real tokens per example (the padded length)
  std::int64_t input_prompt = 0;      // positions prepended to the input (prompt, P-Tuning, SMoP)
  std::int64_t layer_prefix = 0;      // key/value prefix length in every layer (P-Tuning v2)
  std::int64_t num_labels = 2;        // sequence-classification head
  bool backbone_trainable = true;     // full fine-tuning: every weight gets a gradient
};

struct FlopEstimate {
  std::int64_t forward = 0;
  std::int64_t backward = 0;
};

// Sequence-classification model (BERT pooler + linear head). Backward counts the products
// autograd computes: for full fine-tuning every weight and input gradient (so 2 × forward); for a
// frozen backbone without injected trainable inputs only the head's weight gradient.
FlopEstimate encoder_classification_flops(const BackboneGeometry& geometry, const EncoderCostInput& input);

// The batch a cost is computed for, and the task head on top of the backbone.
struct CostShape {
  std::int64_t batch = 1;              // examples per batch
  std::int64_t seq = 128;              // encoder input tokens per example (the padded length)
  std::int64_t target = 0;             // decoder tokens per example (encoder-decoder only; 0 = seq)
  HeadKind head = HeadKind::sequence_classification;  // encoder models; seq2seq for T5
  HeadPooling pooling = HeadPooling::automatic;       // sequence classification: pooler or first-token MLP
  std::int64_t num_labels = 2;         // classes (sequence/token classification)
  std::int64_t num_choices = 2;        // multiple choice: each example is num_choices rows
  void validate() const;
};

// Training memory in bytes (fp32 throughout). An estimate, not a measurement: see
// harness/cost.cpp (estimate_cost) for the activation formula and what it leaves out.
struct MemoryEstimate {
  std::int64_t parameters = 0;   // every parameter (backbone + method + head), 4 bytes each
  std::int64_t gradients = 0;    // trainable parameters' gradients
  std::int64_t optimizer = 0;    // AdamW first and second moments of the trainable parameters
  std::int64_t activations = 0;  // tensors autograd keeps for backward, one training batch
  std::int64_t total() const { return parameters + gradients + optimizer + activations; }
  nlohmann::json to_json() const;
};

struct CostEstimate {
  BackboneGeometry geometry;
  std::string method;
  nlohmann::json method_options;    // resolved (defaults filled in)
  CostShape shape;
  // Parameters, closed form: backbone, the method's own (MethodImpl::closed_form_parameters) and
  // the head; trainable = method + head (+ backbone when the method trains it).
  std::int64_t backbone_parameters = 0, method_parameters = 0, head_parameters = 0;
  std::int64_t trainable_parameters = 0, total_parameters = 0;
  std::int64_t stored_bytes = 0;    // the saved trainable state, fp32
  // Counted FLOPs of one batch: forward (training or inference, the same products) and the
  // backward products autograd runs in a training step (ops.h counting rule).
  FlopEstimate batch_flops;
  MemoryEstimate memory;
  std::vector<std::string> not_counted;  // operations of this model the counter skips
  double forward_flops_per_example() const;
  double training_flops_per_example() const;  // forward + backward
  nlohmann::json to_json() const;
};

// The cost of `method` (options as for `--set method.*`; missing ones take their defaults) on a
// model described by a Hugging Face config.json (encoders: bert, roberta; t5 where the model is
// supported). Errors name the unsupported architecture, method or shape.
CostEstimate estimate_cost(const nlohmann::json& hf_config, const std::string& method,
                           const nlohmann::json& method_options, const CostShape& shape);

// The config.json of a named geometry (bert-tiny, …) or of a model folder / config.json path.
nlohmann::json cost_model_config(const std::string& geometry_or_path);

}  // namespace ptbench
