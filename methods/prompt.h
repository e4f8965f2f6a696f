// Prompt tuning (Lester et al., EMNLP 2021): P trainable soft tokens prepended to the input;
// the backbone is frozen.
//
// Trainable parameters (head excluded): the prompt table only,
//   closed_form = P · H  (2 · P · H with decoder_prompt on an encoder-decoder backbone)
// (P = length, H = hidden size). Stored under "embedding.weight" [P, H], which is PEFT's
// prompt_encoder.<adapter>.embedding.weight.
//
// Insertion (see backbones/injection.h): `before_position_embeddings` is PEFT's (peft 0.3.0
// peft_model.py: the prompts are concatenated with the word embeddings and pass the embedding
// layer, taking positions 0..P-1 and type 0; the pooler then reads the first virtual token);
// `after_embeddings_reembedded` is what the P-Tuning v2 repository's prompt baseline really
// runs (model/sequence_classification.py BertPromptForSequenceClassification); `after_embeddings`
// concatenates after a single pass of the embedding layer.
#pragma once

#include <torch/nn/modules/embedding.h>

#include <cstdint>
#include <vector>

#include "methods/method.h"
#include "methods/method_util.h"

namespace ptbench {

struct PromptOptions {
  // Number of soft tokens P. Lester et al. 2021 §3 (default configuration: 100 tokens); the
  // PEFT golden cases use 5.
  std::int64_t length = 100;
  // Where the prompts enter; PEFT's point is the default (DESIGN.md section 4).
  PromptInsertion insertion = PromptInsertion::before_position_embeddings;
  // Initialisation. Lester §3.2: random uniform in [-0.5, 0.5], or sampled vocabulary, or class
  // labels (= `text` with the label words' token ids, text_fill = vocab_sample). `normal` is
  // nn.Embedding's N(0, 1), what PEFT's RANDOM init leaves (the golden cases).
  method_util::PromptInit init = method_util::PromptInit::uniform;
  // Half-width r of the uniform init U(-r, r). Lester §3.2: 0.5.
  double uniform_range = 0.5;
  // vocab_sample draws token ids below this bound; 0 = the whole vocabulary. Lester §3.2 samples
  // from the 5,000 most common tokens of T5's SentencePiece vocabulary, whose ids are ordered by
  // frequency (set 5000 there); WordPiece/BPE ids are not frequency-ordered, hence 0 by default.
  std::int64_t vocab_sample_first_ids = 0;
  // Token ids for `text` init. The method has no tokenizer: give the ids of the tokenized text
  // (PEFT: tokenizer(prompt_tuning_init_text)["input_ids"], special tokens included).
  std::vector<std::int64_t> init_token_ids;
  // `text` init with fewer ids than P: repeat them (PEFT prompt_tuning.py) or fill the rest with
  // sampled vocabulary (Lester §3.2 class-label init).
  method_util::TextFill text_fill = method_util::TextFill::repeat;
  // Encoder-decoder backbones only: also prepend a second set of P vectors to the decoder input,
  // as PEFT 0.3.0 does for SEQ_2_SEQ_LM (num_transformer_submodules = 2: a [2P, H] table, rows
  // 0..P-1 before the encoder input, rows P..2P-1 before the decoder input). Lester et al. prompt
  // only the encoder (false).
  bool decoder_prompt = false;

  static PromptOptions from_json(const nlohmann::json& json);
  nlohmann::json to_json() const;
  void validate() const;
};

class PromptImpl : public MethodImpl {
 public:
  explicit PromptImpl(PromptOptions options) : options_(std::move(options)) {}
  std::string name() const override { return "prompt"; }
  nlohmann::json options_json() const override { return options_.to_json(); }
  void attach(BackboneImpl& backbone) override;
  Injection inject(const BackboneInput& input, BackboneImpl& backbone) override;
  std::int64_t closed_form_parameters(const BackboneGeometry& geometry) const override;
  const PromptOptions& options() const { return options_; }
  // Rows of the prompt table for a geometry (P, or 2P with decoder_prompt).
  std::int64_t rows(const BackboneGeometry& geometry) const;

  torch::nn::Embedding embedding{nullptr};  // [P, H], or [2P, H] with decoder_prompt

 private:
  PromptOptions options_;
};

}  // namespace ptbench
