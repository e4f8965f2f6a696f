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
  // The prompts are concatenated with the embedding layer's output (no position, no type, no
  // LayerNorm for them); real tokens keep positions 0..L-1 and pass the embedding layer once.
  after_embeddings,
  // What the P-Tuning v2 repository's prompt baseline really runs (THUDM/P-tuning-v2
  // model/sequence_classification.py, Bert/RobertaPromptForSequenceClassification): the real
  // tokens first pass the whole embedding layer (word + position 0..L-1 (RoBERTa: padding-aware)
  // + their token types, LayerNorm, dropout); the prompts are concatenated with that output and
  // the result is handed to BertModel/RobertaModel as inputs_embeds, which passes it through the
  // embedding layer a second time: every position, prompts included, gets the position
  // embeddings of the sequence 0..P+L-1 (RoBERTa: padding_idx+1 ... sequentially), token type 0,
  // LayerNorm and dropout again. So the real tokens get two position embeddings and two
  // LayerNorms, and the prompts one of each.
  after_embeddings_reembedded,
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
