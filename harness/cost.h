// Closed-form cost model: FLOPs of the counted operations (linear layers and attention matrix
// products, backbones/ops.h) for an encoder forward and backward pass, from the geometry alone.
// Unit-tested against the run-time counter; `ptbench cost` builds on it.
#pragma once

#include <cstdint>

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

}  // namespace ptbench
