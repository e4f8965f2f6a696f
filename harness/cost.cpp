#include "harness/cost.h"

#include "common/error.h"

namespace ptbench {

FlopEstimate encoder_classification_flops(const BackboneGeometry& g, const EncoderCostInput& in) {
  if (g.kind != BackboneKind::encoder) fail("encoder_classification_flops needs an encoder geometry");
  const std::int64_t b = in.batch, h = g.hidden, i = g.intermediate;
  const std::int64_t queries = in.seq + in.input_prompt;  // positions that run through every layer
  const std::int64_t keys = queries + in.layer_prefix;
  const std::int64_t tokens = b * queries;
  // Per layer: Q, K, V and output projections (4 · 2·T·H·H), the FFN (2 · 2·T·H·I), and the two
  // attention products QKᵀ and PV (2 · 2·B·heads·Lq·Lk·hd = 2 · 2·B·Lq·Lk·H).
  const std::int64_t projections = 4 * 2 * tokens * h * h;
  const std::int64_t feed_forward = 2 * 2 * tokens * h * i;
  const std::int64_t attention = 2 * 2 * b * queries * keys * h;
  const std::int64_t per_layer = projections + feed_forward + attention;
  const std::int64_t pooler = 2 * b * h * h;
  const std::int64_t classifier = 2 * b * h * in.num_labels;
  FlopEstimate estimate;
  estimate.forward = g.layers * per_layer + pooler + classifier;
  if (in.backbone_trainable) {
    estimate.backward = 2 * estimate.forward;
  } else if (in.input_prompt == 0 && in.layer_prefix == 0) {
    estimate.backward = classifier;  // the head's weight gradient only
  } else {
    fail("encoder_classification_flops: the backward count with a frozen backbone and trainable inputs "
         "depends on the method; count it at run time");
  }
  return estimate;
}

}  // namespace ptbench
