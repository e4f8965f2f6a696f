// T5 span corruption (Raffel et al. 2020, section 3.1.4 "Unsupervised objective", and
// t5.data.preprocessors: random_spans_noise_mask, noise_span_to_unique_sentinel,
// nonnoise_span_to_unique_sentinel, random_spans_helper). 15 % of the tokens are dropped in
// spans of mean length 3; the input keeps the rest with one sentinel per dropped span
// (<extra_id_0>, <extra_id_1>, … = the vocabulary's top ids counting down), the target lists
// each sentinel followed by the tokens it stands for, and both end with </s>:
//   text     Thank you for inviting me to your party last week .
//   inputs   Thank you <X> me to your party <Y> week . </s>
//   targets  <X> for inviting <Y> last </s>
#pragma once

#include <cstdint>
#include <vector>

#include "backbones/pretrain/random.h"

namespace ptbench::pretrain {

struct SpanCorruptionOptions {
  double noise_density = 0.15;          // share of tokens dropped (T5 section 3.1.4)
  double mean_noise_span_length = 3.0;  // mean span length
  void validate() const;
};

// The raw chunk length that yields exactly `inputs_length` input tokens (with </s>), and the
// target length that comes with it (t5 random_spans_helper / HF
// compute_input_and_target_lengths): 512 → 568 raw tokens and 114 targets; 128 → 141 and 29.
struct SpanCorruptionLengths {
  std::int64_t raw_tokens = 0;
  std::int64_t inputs = 0;
  std::int64_t targets = 0;
};
SpanCorruptionLengths span_corruption_lengths(std::int64_t inputs_length, const SpanCorruptionOptions& options);

// random_spans_noise_mask: a boolean mask of `length` with round(length · density) noise tokens
// in round(noise / mean) spans; it starts with a non-noise span and ends with a noise span
// (for length >= 2), span lengths random partitions (each at least 1).
std::vector<bool> random_spans_noise_mask(std::int64_t length, const SpanCorruptionOptions& options, Rng& rng);

struct CorruptedSpans {
  std::vector<std::int64_t> inputs;   // non-noise tokens, a sentinel per noise span, </s>
  std::vector<std::int64_t> targets;  // per noise span: its sentinel and its tokens; then </s>
};

// Applies a noise mask. Sentinel k has id first_sentinel - k (T5: <extra_id_0> = 32099);
// `max_sentinels` (T5: 100 extra ids) bounds the number of spans.
CorruptedSpans corrupt_spans(const std::vector<std::int64_t>& tokens, const std::vector<bool>& noise,
                             std::int64_t first_sentinel, std::int64_t max_sentinels, std::int64_t eos);

// The inverse: puts every target span back in place of its sentinel and drops the final </s>
// of both. Error when the two do not fit together.
std::vector<std::int64_t> merge_spans(const std::vector<std::int64_t>& inputs, const std::vector<std::int64_t>& targets,
                                      std::int64_t first_sentinel, std::int64_t max_sentinels, std::int64_t eos);

}  // namespace ptbench::pretrain
