// The one thing a method hands the backbone (DESIGN.md section 3, "Injection"). Backbones
// honour it without knowing which method produced it; methods never look at the backbone type
// beyond its geometry.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

namespace ptbench {

// Where input-level soft prompts enter the encoder.
enum class PromptInsertion {
  // PEFT: the prompts are concatenated with the word embeddings and then go through the
  // embedding layer, so they take positions 0..P-1, token type 0 and the embedding LayerNorm;
  // the real tokens get positions P..P+L-1.
  before_position_embeddings,
  // The P-Tuning v2 repository's prompt baseline: the prompts are concatenated after the
  // embedding layer (no position, no type, no LayerNorm); real tokens keep positions 0..L-1.
  after_embeddings,
};

std::string to_string(PromptInsertion insertion);
PromptInsertion parse_prompt_insertion(const std::string& name);

// Key and value prefixes for one attention block, each [B, heads, P, head_dim].
struct KeyValuePrefix {
  torch::Tensor key;
  torch::Tensor value;
};

struct Injection {
  // [B, P, H] embeddings prepended to the (encoder) input, or undefined.
  torch::Tensor input_prefix;
  PromptInsertion insertion = PromptInsertion::before_position_embeddings;

  // [B, P, H] embeddings prepended to the decoder input (PEFT seq2seq prompt tuning), or undefined.
  torch::Tensor decoder_input_prefix;

  // Per layer; an empty vector or std::nullopt entries mean "no prefix on that layer".
  std::vector<std::optional<KeyValuePrefix>> encoder_self;
  std::vector<std::optional<KeyValuePrefix>> decoder_self;   // T5 decoder self-attention
  std::vector<std::optional<KeyValuePrefix>> cross;          // T5 cross-attention

  // Hugging Face BERT/RoBERTa shift the real tokens' position ids by the prefix length when
  // past key/values are given (P-Tuning v2 ran it that way). false gives positions 0..L-1.
  bool shift_positions_under_layer_prefix = true;

  bool empty() const;
  // Length of the layer prefix (0 when none); all layers that have one must agree.
  std::int64_t layer_prefix_length() const;
};

}  // namespace ptbench
