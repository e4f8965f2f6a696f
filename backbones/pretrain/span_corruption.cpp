#include "backbones/pretrain/span_corruption.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace ptbench::pretrain {

namespace {

// Python's round() on the values these formulas meet (never an exact .5 tie in practice;
// ties round half to even as Python does).
std::int64_t py_round(double x) {
  const double floor = std::floor(x);
  const double fraction = x - floor;
  if (fraction > 0.5) return static_cast<std::int64_t>(floor) + 1;
  if (fraction < 0.5) return static_cast<std::int64_t>(floor);
  const auto even = static_cast<std::int64_t>(floor);
  return even % 2 == 0 ? even : even + 1;
}

// _random_segmentation: splits num_items into num_segments random non-empty runs; returns their
// lengths. A shuffled 0/1 vector of length num_items - 1 with num_segments - 1 ones marks the
// items that start a new run.
std::vector<std::int64_t> random_segmentation(std::int64_t num_items, std::int64_t num_segments, Rng& rng) {
  std::vector<char> first_in_segment(static_cast<std::size_t>(std::max<std::int64_t>(0, num_items - 1)), 0);
  for (std::int64_t i = 0; i < num_segments - 1 && i < num_items - 1; ++i) first_in_segment[static_cast<std::size_t>(i)] = 1;
  for (std::size_t i = first_in_segment.size(); i > 1; --i) std::swap(first_in_segment[i - 1], first_in_segment[rng.below(i)]);
  std::vector<std::int64_t> lengths(1, 1);  // item 0 always starts segment 0
  for (char starts : first_in_segment) {
    if (starts) {
      lengths.push_back(1);
    } else {
      ++lengths.back();
    }
  }
  return lengths;
}

}  // namespace

void SpanCorruptionOptions::validate() const {
  if (noise_density <= 0 || noise_density >= 1) fail("objective.noise_density must lie in (0, 1), got ", noise_density);
  if (mean_noise_span_length < 1) fail("objective.mean_noise_span_length must be >= 1, got ", mean_noise_span_length);
}

SpanCorruptionLengths span_corruption_lengths(std::int64_t inputs_length, const SpanCorruptionOptions& options) {
  options.validate();
  auto lengths_for = [&](std::int64_t tokens) {
    const std::int64_t noise = py_round(static_cast<double>(tokens) * options.noise_density);
    const std::int64_t nonnoise = tokens - noise;
    const std::int64_t spans = py_round(static_cast<double>(noise) / options.mean_noise_span_length);
    // One sentinel per span and </s> on both sides.
    return SpanCorruptionLengths{tokens, nonnoise + spans + 1, noise + spans + 1};
  };
  if (inputs_length < 3) fail("span corruption needs inputs of at least 3 tokens, got ", inputs_length);
  std::int64_t tokens = inputs_length;
  while (lengths_for(tokens + 1).inputs <= inputs_length) ++tokens;
  return lengths_for(tokens);
}

std::vector<bool> random_spans_noise_mask(std::int64_t length, const SpanCorruptionOptions& options, Rng& rng) {
  const std::int64_t original_length = length;
  length = std::max<std::int64_t>(length, 2);
  std::int64_t noise = py_round(static_cast<double>(length) * options.noise_density);
  noise = std::min(std::max<std::int64_t>(noise, 1), length - 1);
  const std::int64_t spans = std::max<std::int64_t>(py_round(static_cast<double>(noise) / options.mean_noise_span_length), 1);
  const std::int64_t nonnoise = length - noise;
  if (nonnoise < spans) fail("span corruption: ", spans, " noise spans need as many non-noise tokens, only ", nonnoise, " left");
  const std::vector<std::int64_t> noise_lengths = random_segmentation(noise, spans, rng);
  const std::vector<std::int64_t> nonnoise_lengths = random_segmentation(nonnoise, spans, rng);
  std::vector<bool> mask;
  mask.reserve(static_cast<std::size_t>(length));
  // Interleaved: non-noise span, noise span, non-noise span, …
  for (std::size_t s = 0; s < noise_lengths.size(); ++s) {
    mask.insert(mask.end(), static_cast<std::size_t>(nonnoise_lengths[s]), false);
    mask.insert(mask.end(), static_cast<std::size_t>(noise_lengths[s]), true);
  }
  mask.resize(static_cast<std::size_t>(original_length));
  return mask;
}

CorruptedSpans corrupt_spans(const std::vector<std::int64_t>& tokens, const std::vector<bool>& noise,
                             std::int64_t first_sentinel, std::int64_t max_sentinels, std::int64_t eos) {
  if (tokens.size() != noise.size()) fail("span corruption: tokens and noise mask differ in length");
  CorruptedSpans out;
  std::int64_t span = -1;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (!noise[i]) {
      out.inputs.push_back(tokens[i]);
      continue;
    }
    if (i == 0 || !noise[i - 1]) {
      ++span;
      if (span >= max_sentinels) fail("span corruption: more than ", max_sentinels, " noise spans (sequence too long)");
      out.inputs.push_back(first_sentinel - span);
      out.targets.push_back(first_sentinel - span);
    }
    out.targets.push_back(tokens[i]);
  }
  out.inputs.push_back(eos);
  out.targets.push_back(eos);
  return out;
}

std::vector<std::int64_t> merge_spans(const std::vector<std::int64_t>& inputs, const std::vector<std::int64_t>& targets,
                                      std::int64_t first_sentinel, std::int64_t max_sentinels, std::int64_t eos) {
  auto sentinel_index = [&](std::int64_t id) -> std::int64_t {
    const std::int64_t k = first_sentinel - id;
    return k >= 0 && k < max_sentinels ? k : -1;
  };
  if (inputs.empty() || inputs.back() != eos || targets.empty() || targets.back() != eos) {
    fail("merge_spans: inputs and targets must end with </s>");
  }
  // Spans of the target, by sentinel.
  std::vector<std::vector<std::int64_t>> spans;
  for (std::size_t i = 0; i + 1 < targets.size(); ++i) {
    const std::int64_t k = sentinel_index(targets[i]);
    if (k >= 0) {
      if (k != static_cast<std::int64_t>(spans.size())) fail("merge_spans: target sentinels out of order at ", i);
      spans.emplace_back();
    } else {
      if (spans.empty()) fail("merge_spans: target does not start with a sentinel");
      spans.back().push_back(targets[i]);
    }
  }
  std::vector<std::int64_t> merged;
  std::size_t used = 0;
  for (std::size_t i = 0; i + 1 < inputs.size(); ++i) {
    const std::int64_t k = sentinel_index(inputs[i]);
    if (k < 0) {
      merged.push_back(inputs[i]);
      continue;
    }
    if (k != static_cast<std::int64_t>(used) || used >= spans.size()) fail("merge_spans: input sentinel ", k, " has no target span");
    merged.insert(merged.end(), spans[used].begin(), spans[used].end());
    ++used;
  }
  if (used != spans.size()) fail("merge_spans: ", spans.size() - used, " target spans have no sentinel in the input");
  return merged;
}

}  // namespace ptbench::pretrain
