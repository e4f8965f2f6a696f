#include "backbones/pretrain/masking.h"

#include <cmath>

#include "common/error.h"

namespace ptbench::pretrain {

void MaskingOptions::validate() const {
  if (mask_probability <= 0 || mask_probability >= 1) {
    fail("objective.mask_probability must lie in (0, 1), got ", mask_probability);
  }
  if (mask_token_share < 0 || random_token_share < 0 || mask_token_share + random_token_share > 1) {
    fail("objective.mask_token_share (", mask_token_share, ") and objective.random_token_share (", random_token_share,
         ") must be >= 0 and sum to at most 1");
  }
}

MlmMasker::MlmMasker(MaskingOptions options, std::int64_t mask_id, std::int64_t random_vocab_size,
                     std::vector<bool> special, std::vector<bool> continues_word)
    : options_(options),
      mask_id_(mask_id),
      random_vocab_size_(random_vocab_size),
      special_(std::move(special)),
      continues_word_(std::move(continues_word)) {
  options_.validate();
  if (mask_id_ < 0) fail("the tokenizer has no mask token; masked-language modelling needs one ([MASK] or <mask>)");
  if (random_vocab_size_ <= 0) fail("masking: empty vocabulary");
}

MlmMasker MlmMasker::for_tokenizer(const tok::Tokenizer& tokenizer, MaskingOptions options) {
  const std::int64_t vocab = static_cast<std::int64_t>(tokenizer.vocab_size());
  const tok::SpecialTokens& s = tokenizer.special_tokens();
  std::vector<bool> special(static_cast<std::size_t>(vocab), false);
  // HF get_special_tokens_mask(already_has_special_tokens=True) marks all_special_ids.
  for (std::int64_t id : {s.pad, s.unk, s.cls, s.sep, s.mask, s.bos, s.eos})
    if (id >= 0 && id < vocab) special[static_cast<std::size_t>(id)] = true;
  std::vector<bool> continues(static_cast<std::size_t>(vocab), false);
  if (options.whole_word) {
    const std::string kind = tokenizer.kind();
    for (std::int64_t id = 0; id < vocab; ++id) {
      const std::string token = tokenizer.id_to_token(id);
      bool continuation = false;
      if (kind == "wordpiece") {
        continuation = token.rfind("##", 0) == 0;
      } else if (kind == "bpe") {
        continuation = token.rfind("\xC4\xA0", 0) != 0;  // no leading "Ġ" (an encoded space)
      } else {
        continuation = token.rfind("\xE2\x96\x81", 0) != 0;  // no leading "▁"
      }
      continues[static_cast<std::size_t>(id)] = continuation && !special[static_cast<std::size_t>(id)];
    }
  }
  return MlmMasker(options, s.mask, vocab, std::move(special), std::move(continues));
}

bool MlmMasker::is_special(std::int64_t id) const {
  return id >= 0 && static_cast<std::size_t>(id) < special_.size() && special_[static_cast<std::size_t>(id)];
}

void MlmMasker::select_positions(std::span<const std::int64_t> ids, std::vector<char>& selected, Rng& rng) const {
  const std::size_t n = ids.size();
  selected.assign(n, 0);
  if (!options_.whole_word) {
    // torch.bernoulli(full(0.15)) with specials zeroed: one independent draw per position.
    for (std::size_t i = 0; i < n; ++i) {
      const bool draw = rng.bernoulli(options_.mask_probability);
      if (draw && !is_special(ids[i])) selected[i] = 1;
    }
    return;
  }
  // Whole words: groups of a word-start piece and its continuation pieces.
  std::vector<std::vector<std::size_t>> words;
  for (std::size_t i = 0; i < n; ++i) {
    if (is_special(ids[i])) continue;
    const bool continuation = ids[i] >= 0 && static_cast<std::size_t>(ids[i]) < continues_word_.size() &&
                              continues_word_[static_cast<std::size_t>(ids[i])];
    if (continuation && !words.empty() && words.back().back() + 1 == i) {
      words.back().push_back(i);
    } else {
      words.push_back({i});
    }
  }
  // Fisher-Yates shuffle (random.shuffle in HF).
  for (std::size_t i = words.size(); i > 1; --i) std::swap(words[i - 1], words[rng.below(i)]);
  const std::size_t budget = std::max<std::size_t>(
      1, static_cast<std::size_t>(std::llround(static_cast<double>(n) * options_.mask_probability)));
  std::size_t taken = 0;
  for (const auto& word : words) {
    if (taken >= budget) break;
    if (taken + word.size() > budget) continue;
    for (std::size_t i : word) selected[i] = 1;
    taken += word.size();
  }
}

void MlmMasker::mask(std::span<std::int64_t> ids, std::span<std::int64_t> labels, Rng& rng) const {
  if (ids.size() != labels.size()) fail("masking: ids and labels differ in length");
  thread_local std::vector<char> selected;
  select_positions(ids, selected, rng);
  // Of the selected: [MASK] with probability mask_token_share; of the rest, a random id with
  // probability random_token_share / (1 - mask_token_share) (HF: bernoulli(0.8), then
  // bernoulli(0.5) on the remainder); otherwise unchanged.
  const double rest = 1.0 - options_.mask_token_share;
  const double random_given_rest = rest > 0 ? options_.random_token_share / rest : 0.0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (!selected[i]) {
      labels[i] = kIgnoreLabel;
      continue;
    }
    labels[i] = ids[i];
    if (rng.bernoulli(options_.mask_token_share)) {
      ids[i] = mask_id_;
    } else if (rng.bernoulli(random_given_rest)) {
      ids[i] = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(random_vocab_size_)));
    }
  }
}

}  // namespace ptbench::pretrain
