// What every tokenizer shares: the tokenize/encode entry points on top of tokenize_pieces, and
// transformers 4.28's prepare_for_model (truncate_sequences, special tokens, padding).
#include "backbones/tokenizers/tokenizer.h"

#include <stdexcept>
#include <utility>

#include "common/error.h"
#include "common/files.h"

namespace ptbench::tok {

namespace {

// One text's tokens on their way into an Encoding, with the per-token data that must follow
// them through truncation (offsets for encode_with_offsets, word ids for encode_words).
struct TokenSequence {
  std::vector<std::int64_t> ids;
  std::vector<std::pair<std::size_t, std::size_t>> offsets;
  std::vector<int> word_ids;

  void drop_last() {
    ids.pop_back();
    if (!offsets.empty()) offsets.pop_back();
    if (!word_ids.empty()) word_ids.pop_back();
  }
  void drop_last(std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) drop_last();
  }
};

// transformers 4.28 PreTrainedTokenizerBase.truncate_sequences with truncation_side="right" and
// stride=0. Returns the message transformers logs (and then returns the input unchanged) when
// the strategy cannot remove enough tokens, else "".
std::string truncate_sequences(TokenSequence& first, TokenSequence* second, std::size_t to_remove,
                               Truncation strategy) {
  if (to_remove == 0) return {};
  const bool cut_first = strategy == Truncation::only_first ||
                         (strategy == Truncation::longest_first && second == nullptr);
  if (cut_first) {
    // Removing every token of the first text is refused too (strictly greater).
    if (first.ids.size() > to_remove) {
      first.drop_last(to_remove);
      return {};
    }
    std::string message = "We need to remove " + std::to_string(to_remove) +
                          " to truncate the input but the first sequence has a length " +
                          std::to_string(first.ids.size()) + ". ";
    if (strategy == Truncation::only_first) {
      message +=
          "Please select another truncation strategy than TruncationStrategy.ONLY_FIRST, for "
          "instance 'longest_first' or 'only_second'.";
    }
    return message;
  }
  if (strategy == Truncation::longest_first) {
    // One token at a time from the longer text; on a tie from the second (4.28 semantics).
    for (std::size_t i = 0; i < to_remove; ++i) {
      if (first.ids.size() > second->ids.size()) {
        first.drop_last();
      } else if (!second->ids.empty()) {
        second->drop_last();
      }
    }
    return {};
  }
  if (strategy == Truncation::only_second && second != nullptr) {
    if (second->ids.size() > to_remove) {
      second->drop_last(to_remove);
      return {};
    }
    return "We need to remove " + std::to_string(to_remove) +
           " to truncate the input but the second sequence has a length " +
           std::to_string(second->ids.size()) +
           ". Please select another truncation strategy than TruncationStrategy.ONLY_SECOND, for "
           "instance 'longest_first' or 'only_first'.";
  }
  return {};  // only_second on a single text: transformers does nothing
}

// transformers 4.28 prepare_for_model: truncate, add the special tokens, pad on the right.
Encoding assemble(const Tokenizer& tokenizer, TokenSequence first,
                  std::optional<TokenSequence> second, std::size_t max_length,
                  Truncation truncation, Padding padding, bool with_offsets, bool with_word_ids) {
  const bool pair = second.has_value();
  Encoding encoding;
  const std::size_t total = first.ids.size() + (pair ? second->ids.size() : 0) +
                            tokenizer.num_special_tokens_to_add(pair);
  if (truncation != Truncation::none && max_length > 0 && total > max_length) {
    encoding.truncation_error =
        truncate_sequences(first, pair ? &*second : nullptr, total - max_length, truncation);
  }

  std::optional<std::vector<std::int64_t>> second_ids;
  if (pair) second_ids = second->ids;
  encoding.input_ids = tokenizer.build_inputs_with_special_tokens(first.ids, second_ids);
  encoding.token_type_ids = tokenizer.token_type_ids_for(first.ids, second_ids);
  const std::vector<int> sequence_ids = tokenizer.sequence_ids_for(first.ids, second_ids);
  if (encoding.token_type_ids.size() != encoding.input_ids.size() ||
      sequence_ids.size() != encoding.input_ids.size()) {
    throw std::logic_error("tokenizer " + tokenizer.kind() +
                           ": special-token layout disagrees with its input ids");
  }
  encoding.attention_mask.assign(encoding.input_ids.size(), 1);
  encoding.length = encoding.input_ids.size();

  if (with_offsets || with_word_ids) {
    encoding.sequence_ids = sequence_ids;
    std::size_t next[2] = {0, 0};
    for (const int sequence : sequence_ids) {
      const TokenSequence* source = sequence == 0 ? &first : sequence == 1 ? &*second : nullptr;
      const std::size_t index = source != nullptr ? next[sequence]++ : 0;
      if (with_offsets) {
        encoding.offsets.push_back(source != nullptr ? source->offsets[index]
                                                     : std::pair<std::size_t, std::size_t>{0, 0});
      }
      if (with_word_ids)
        encoding.word_ids.push_back(source != nullptr ? source->word_ids[index] : -1);
    }
  }

  if (padding == Padding::max_length && max_length > encoding.input_ids.size()) {
    const std::int64_t pad_id = tokenizer.special_tokens().pad;
    if (pad_id < 0) {
      fail("cannot pad to max_length ", max_length, ": the ", tokenizer.kind(),
           " tokenizer has no padding token");
    }
    const std::size_t padded = max_length;
    encoding.input_ids.resize(padded, pad_id);
    encoding.token_type_ids.resize(padded, 0);  // pad_token_type_id is 0 for every model here
    encoding.attention_mask.resize(padded, 0);
    if (with_offsets) encoding.offsets.resize(padded, {0, 0});
    if (with_offsets || with_word_ids) encoding.sequence_ids.resize(padded, -1);
    if (with_word_ids) encoding.word_ids.resize(padded, -1);
  }
  return encoding;
}

}  // namespace

Truncation parse_truncation(std::string_view name) {
  if (name == "longest_first") return Truncation::longest_first;
  if (name == "only_first") return Truncation::only_first;
  if (name == "only_second") return Truncation::only_second;
  if (name == "none" || name == "do_not_truncate") return Truncation::none;
  fail("unknown truncation strategy '", name,
       "' (known: longest_first, only_first, only_second, none)");
}

std::vector<std::string> Tokenizer::tokenize(std::string_view text) const {
  std::vector<Piece> pieces;
  tokenize_pieces(text, /*is_split_into_words=*/false, /*with_tokens=*/true, pieces);
  std::vector<std::string> tokens;
  tokens.reserve(pieces.size());
  for (Piece& piece : pieces) tokens.push_back(std::move(piece.token));
  return tokens;
}

std::vector<TokenWithOffset> Tokenizer::tokenize_with_offsets(std::string_view text) const {
  std::vector<Piece> pieces;
  tokenize_pieces(text, /*is_split_into_words=*/false, /*with_tokens=*/true, pieces);
  std::vector<TokenWithOffset> tokens;
  tokens.reserve(pieces.size());
  for (Piece& piece : pieces) tokens.push_back({std::move(piece.token), piece.begin, piece.end});
  return tokens;
}

std::vector<std::int64_t> Tokenizer::encode_ids(std::string_view text) const {
  std::vector<Piece> pieces;
  tokenize_pieces(text, /*is_split_into_words=*/false, /*with_tokens=*/false, pieces);
  std::vector<std::int64_t> ids;
  ids.reserve(pieces.size());
  for (const Piece& piece : pieces) ids.push_back(piece.id);
  return ids;
}

Encoding Tokenizer::encode(std::string_view text_a, std::optional<std::string_view> text_b,
                           std::size_t max_length, Truncation truncation, Padding padding) const {
  TokenSequence first{encode_ids(text_a), {}, {}};
  std::optional<TokenSequence> second;
  if (text_b) second = TokenSequence{encode_ids(*text_b), {}, {}};
  return assemble(*this, std::move(first), std::move(second), max_length, truncation, padding,
                  /*with_offsets=*/false, /*with_word_ids=*/false);
}

Encoding Tokenizer::encode_with_offsets(std::string_view text_a,
                                        std::optional<std::string_view> text_b,
                                        std::size_t max_length, Truncation truncation,
                                        Padding padding) const {
  std::vector<Piece> pieces;
  const auto to_sequence = [&](std::string_view text) {
    pieces.clear();
    tokenize_pieces(text, /*is_split_into_words=*/false, /*with_tokens=*/false, pieces);
    TokenSequence sequence;
    sequence.ids.reserve(pieces.size());
    sequence.offsets.reserve(pieces.size());
    for (const Piece& piece : pieces) {
      sequence.ids.push_back(piece.id);
      sequence.offsets.emplace_back(piece.begin, piece.end);
    }
    return sequence;
  };
  TokenSequence first = to_sequence(text_a);
  std::optional<TokenSequence> second;
  if (text_b) second = to_sequence(*text_b);
  return assemble(*this, std::move(first), std::move(second), max_length, truncation, padding,
                  /*with_offsets=*/true, /*with_word_ids=*/false);
}

Encoding Tokenizer::encode_words(const std::vector<std::string>& words, std::size_t max_length,
                                 Padding padding) const {
  // transformers tokenizes each word on its own (tokenize(word, is_split_into_words=True)) and
  // concatenates the tokens.
  TokenSequence sequence;
  std::vector<Piece> pieces;
  for (std::size_t word = 0; word < words.size(); ++word) {
    pieces.clear();
    tokenize_pieces(words[word], /*is_split_into_words=*/true, /*with_tokens=*/false, pieces);
    for (const Piece& piece : pieces) {
      sequence.ids.push_back(piece.id);
      sequence.word_ids.push_back(static_cast<int>(word));
    }
  }
  return assemble(*this, std::move(sequence), std::nullopt, max_length,
                  max_length > 0 ? Truncation::longest_first : Truncation::none, padding,
                  /*with_offsets=*/false, /*with_word_ids=*/true);
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& folder) {
  namespace fs = std::filesystem;
  const fs::path tokenizer_config_path = folder / "tokenizer_config.json";
  nlohmann::json tokenizer_config = nlohmann::json::object();
  if (fs::exists(tokenizer_config_path)) tokenizer_config = read_json_file(tokenizer_config_path);
  const auto config_flag = [&](const char* key) -> std::optional<bool> {
    if (!tokenizer_config.is_object() || !tokenizer_config.contains(key)) return std::nullopt;
    const nlohmann::json& value = tokenizer_config[key];
    if (!value.is_boolean()) {
      fail(tokenizer_config_path.string(), ": \"", key, "\" must be true or false");
    }
    return value.get<bool>();
  };

  if (fs::exists(folder / "vocab.txt")) {
    bool lower_case = true;  // BertTokenizer's default
    if (const std::optional<bool> flag = config_flag("do_lower_case")) {
      lower_case = *flag;
    } else {
      const std::string name = folder.filename().empty() ? folder.parent_path().filename().string()
                                                         : folder.filename().string();
      if (name.find("cased") != std::string::npos && name.find("uncased") == std::string::npos) {
        lower_case = false;
      }
    }
    return make_wordpiece(folder / "vocab.txt", lower_case);
  }
  if (fs::exists(folder / "vocab.json") && fs::exists(folder / "merges.txt")) {
    bool roberta = false;
    if (tokenizer_config.is_object() && tokenizer_config.contains("tokenizer_class") &&
        tokenizer_config["tokenizer_class"].is_string()) {
      roberta = tokenizer_config["tokenizer_class"].get<std::string>().starts_with("Roberta");
    } else if (fs::exists(folder / "config.json")) {
      const nlohmann::json model_config = read_json_file(folder / "config.json");
      roberta = model_config.is_object() && model_config.value("model_type", "") == "roberta";
    }
    if (!roberta) {
      // RoBERTa's fairseq-renumbered vocabulary carries its special tokens; GPT-2's does not.
      const std::string vocab = read_text_file(folder / "vocab.json");
      roberta = vocab.find("\"<s>\"") != std::string::npos &&
                vocab.find("\"<mask>\"") != std::string::npos;
    }
    return make_byte_bpe(folder / "vocab.json", folder / "merges.txt", roberta,
                         config_flag("add_prefix_space").value_or(false));
  }
  if (fs::exists(folder / "spiece.model")) return make_sentencepiece(folder / "spiece.model");
  fail("no tokenizer in ", folder.string(),
       ": expected vocab.txt (WordPiece), vocab.json + merges.txt (byte-level BPE) or spiece.model "
       "(SentencePiece)");
}

}  // namespace ptbench::tok
