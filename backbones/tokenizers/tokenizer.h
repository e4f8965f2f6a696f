// The tokenizer interface shared by WordPiece (BERT), byte-level BPE (GPT-2/RoBERTa) and
// SentencePiece (T5). Behaviour follows the Hugging Face "slow" (pure Python) tokenizers of
// transformers 4.28, which is what ../shared/golden/tokenizers was produced with.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ptbench::tok {

// How a pair (or a single text) is cut down to max_length, as in transformers 4.28
// `truncation=`. When the requested strategy cannot meet max_length (only_second with a first
// text that alone is too long), transformers logs an error and returns the pair untruncated;
// we do the same and set Encoding::truncation_error.
enum class Truncation { none, longest_first, only_first, only_second };
enum class Padding { none, max_length };

Truncation parse_truncation(std::string_view name);  // "longest_first", ...; Error if unknown

struct SpecialTokens {
  std::int64_t pad = -1, unk = -1, cls = -1, sep = -1, mask = -1, bos = -1, eos = -1;
};

// One encoded sequence (with special tokens). Vectors have equal length.
struct Encoding {
  std::vector<std::int64_t> input_ids;
  std::vector<std::int64_t> token_type_ids;
  std::vector<std::int64_t> attention_mask;
  // For encode_words: index of the word each token came from, -1 for special tokens/padding.
  std::vector<int> word_ids;
  // For encode_with_offsets: [begin, end) byte offsets of each token in its source text
  // ({0, 0} for special tokens and padding), and which text (0 = first, 1 = second,
  // -1 = special/padding); encode_words fills sequence_ids too.
  std::vector<std::pair<std::size_t, std::size_t>> offsets;
  std::vector<int> sequence_ids;
  // Real length before padding.
  std::size_t length = 0;
  // Non-empty when the truncation strategy could not meet max_length (see Truncation); holds
  // the message transformers 4.28 logs then.
  std::string truncation_error;
};

struct TokenWithOffset {
  std::string token;
  std::size_t begin = 0, end = 0;  // byte offsets into the original text
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // "wordpiece", "bpe" or "sentencepiece".
  virtual std::string kind() const = 0;
  virtual std::size_t vocab_size() const = 0;
  virtual const SpecialTokens& special_tokens() const = 0;

  // tok.tokenize(text): tokens without special tokens.
  virtual std::vector<std::string> tokenize(std::string_view text) const;
  // Tokens with byte offsets into `text` (needed by extractive QA to map spans back). The
  // offsets cover the source characters a token came from (for BERT uncased the accented
  // originals of a lower-cased, accent-stripped token); a leading space that byte-level BPE
  // ("Ġ") or SentencePiece ("▁") folds into a token is left out, as the HF fast tokenizers'
  // trim_offsets does. Byte-level BPE can split one multi-byte character over two tokens;
  // their offsets then split the character's bytes too.
  virtual std::vector<TokenWithOffset> tokenize_with_offsets(std::string_view text) const;
  virtual std::vector<std::int64_t> convert_tokens_to_ids(
      const std::vector<std::string>& tokens) const = 0;
  virtual std::string id_to_token(std::int64_t id) const = 0;
  // tok.decode(ids, skip_special_tokens, clean_up_tokenization_spaces=True).
  virtual std::string decode(const std::vector<std::int64_t>& ids,
                             bool skip_special_tokens) const = 0;

  // Adds the model's special tokens: BERT [CLS] a [SEP] (b [SEP]); RoBERTa <s> a </s></s> b </s>;
  // T5 a </s> (b </s>); GPT-2 nothing.
  virtual std::vector<std::int64_t> build_inputs_with_special_tokens(
      const std::vector<std::int64_t>& a,
      const std::optional<std::vector<std::int64_t>>& b) const = 0;
  virtual std::vector<std::int64_t> token_type_ids_for(
      const std::vector<std::int64_t>& a,
      const std::optional<std::vector<std::int64_t>>& b) const = 0;
  // For every position of build_inputs_with_special_tokens(a, b): 0 or 1 when it holds the next
  // token of a or b, -1 when it holds an added special token (Encoding::sequence_ids).
  virtual std::vector<int> sequence_ids_for(
      const std::vector<std::int64_t>& a,
      const std::optional<std::vector<std::int64_t>>& b) const = 0;
  // How many special tokens build_inputs_with_special_tokens adds (for truncation budgets).
  virtual std::size_t num_special_tokens_to_add(bool pair) const = 0;

  // tok(text) / tok(text_a, text_b, max_length=, truncation=, padding=) as transformers 4.28.
  // max_length 0 means no limit.
  Encoding encode(std::string_view text_a, std::optional<std::string_view> text_b = std::nullopt,
                  std::size_t max_length = 0, Truncation truncation = Truncation::longest_first,
                  Padding padding = Padding::none) const;

  // Like encode, and also fills Encoding::offsets and sequence_ids.
  Encoding encode_with_offsets(std::string_view text_a, std::optional<std::string_view> text_b,
                               std::size_t max_length, Truncation truncation,
                               Padding padding) const;

  // tok(words, is_split_into_words=True): every word is tokenized on its own; word_ids filled.
  // With max_length, tokens past the limit are dropped (callers that must not lose labels
  // window the words themselves).
  Encoding encode_words(const std::vector<std::string>& words, std::size_t max_length = 0,
                        Padding padding = Padding::none) const;

  // convert_tokens_to_ids(tokenize(text)), without building the token strings.
  std::vector<std::int64_t> encode_ids(std::string_view text) const;

 protected:
  // One token of a text as the implementations produce it.
  struct Piece {
    std::int64_t id = 0;
    std::size_t begin = 0, end = 0;  // byte offsets into the text given to tokenize_pieces
    std::string token;               // filled only when asked for (with_tokens)
  };
  // The one tokenization routine behind tokenize, tokenize_with_offsets, encode_ids and the
  // encode family: appends the pieces of `text` to `out`. `is_split_into_words` is
  // transformers' flag of the same name (one word of a pre-split sentence: byte-level BPE then
  // prefixes a space); `with_tokens` asks for the token strings, which the id-only hot path skips.
  virtual void tokenize_pieces(std::string_view text, bool is_split_into_words, bool with_tokens,
                               std::vector<Piece>& out) const = 0;
};

// Loads the tokenizer a model folder carries: vocab.txt (WordPiece; lower-casing from
// tokenizer_config.json "do_lower_case", else false when the folder name contains "cased" but
// not "uncased", else true as in BertTokenizer), vocab.json + merges.txt (byte-level BPE:
// RoBERTa when tokenizer_config.json names a Roberta tokenizer class, config.json has
// model_type "roberta", or the vocabulary holds <s> and <mask>, else GPT-2; add_prefix_space
// from tokenizer_config.json, default false), or spiece.model (SentencePiece).
// Error naming the folder when none is there.
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& folder);

// Direct constructors, used by load_tokenizer and by tests.
std::unique_ptr<Tokenizer> make_wordpiece(const std::filesystem::path& vocab_txt, bool lower_case);
// RoBERTa (roberta=true: <s> </s> </s></s> pairs, <pad>, <mask>) or GPT-2 (no specials added).
// With roberta=true and GPT-2's vocab.json, which lacks RoBERTa's special tokens, they take
// roberta-base's fairseq ids (<s> 0, <pad> 1, </s> 2, <unk> 3, <mask> 50264; vocab_size 50265).
std::unique_ptr<Tokenizer> make_byte_bpe(const std::filesystem::path& vocab_json,
                                         const std::filesystem::path& merges_txt, bool roberta,
                                         bool add_prefix_space);
std::unique_ptr<Tokenizer> make_sentencepiece(const std::filesystem::path& spiece_model);

}  // namespace ptbench::tok
