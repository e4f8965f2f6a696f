// Masked-language-model corruption (Devlin et al. 2019, section 3.1 "Task #1: Masked LM"), with
// the semantics of Hugging Face DataCollatorForLanguageModeling.torch_mask_tokens
// (transformers 4.28, data/data_collator.py): every non-special position is selected with
// probability 0.15; of the selected, 80 % become [MASK], 10 % a uniformly random vocabulary id,
// 10 % stay; labels hold the original id at selected positions and -100 elsewhere. Whole-word
// masking follows DataCollatorForWholeWordMask._whole_word_mask: words (a first piece and its
// continuation pieces) are shuffled and taken while the count stays within round(0.15 · length).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "backbones/pretrain/random.h"
#include "backbones/tokenizers/tokenizer.h"

namespace ptbench::pretrain {

constexpr std::int64_t kIgnoreLabel = -100;  // the cross-entropy ignore_index of HF labels

struct MaskingOptions {
  double mask_probability = 0.15;     // share of positions selected (HF mlm_probability; BERT 3.1)
  double mask_token_share = 0.8;      // of the selected: replaced by the mask token
  double random_token_share = 0.1;    // of the selected: replaced by a random id (the rest stay)
  bool whole_word = false;            // select whole words (BERT's later "whole word masking")
  void validate() const;
};

class MlmMasker {
 public:
  // `special` marks ids that are never selected (the tokenizer's specials: [CLS], [SEP], [PAD],
  // [UNK], [MASK]); `continues_word` marks continuation pieces ("##x" for WordPiece; pieces
  // without the word-start marker for byte-level BPE and SentencePiece), used by whole-word
  // masking. Random replacements are drawn from [0, random_vocab_size) as HF draws from
  // len(tokenizer).
  MlmMasker(MaskingOptions options, std::int64_t mask_id, std::int64_t random_vocab_size,
            std::vector<bool> special, std::vector<bool> continues_word);

  // For a tokenizer: its specials, its mask token and its vocabulary.
  static MlmMasker for_tokenizer(const tok::Tokenizer& tokenizer, MaskingOptions options);

  // Corrupts `ids` in place and writes `labels` (same length).
  void mask(std::span<std::int64_t> ids, std::span<std::int64_t> labels, Rng& rng) const;

  bool is_special(std::int64_t id) const;
  const MaskingOptions& options() const { return options_; }

 private:
  void select_positions(std::span<const std::int64_t> ids, std::vector<char>& selected, Rng& rng) const;

  MaskingOptions options_;
  std::int64_t mask_id_;
  std::int64_t random_vocab_size_;
  std::vector<bool> special_;
  std::vector<bool> continues_word_;
};

}  // namespace ptbench::pretrain
