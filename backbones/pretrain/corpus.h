// The pretraining corpus as a stream of full-length token chunks (DESIGN.md section 5): shards
// `<corpus>/<source>/NNNN.txt.gz` hold one paragraph per line and a blank line between
// documents. Documents are tokenized line by line, a separator token closes each document, and
// the token stream of every shard is cut into chunks of a fixed length (RoBERTa's
// FULL-SENTENCES packing, Liu et al. 2019 section 4.2; T5's reduce_concat_tokens + split_tokens).
//
// Mixing: every chunk comes from a shard drawn at random with probability proportional to the
// shard's size, so a short run sees the corpus in its real proportions and one long book never
// fills a batch; a shuffle buffer then mixes neighbouring chunks. A shard that runs out starts
// over (its own epoch count goes up). The whole position — generator state, lines read per
// shard, pending tokens, the shuffle buffer — is saved and restored exactly (StreamState).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backbones/pretrain/random.h"
#include "backbones/tokenizers/tokenizer.h"

namespace ptbench::pretrain {

namespace fs = std::filesystem;

struct CorpusShards {
  fs::path root;
  std::vector<fs::path> train;             // every shard but the held-out one, sorted
  std::vector<std::uint64_t> train_bytes;  // their (compressed) sizes: sampling weights
  fs::path heldout;                        // first shard (by name) of the held-out source
};

// Lists `<root>/<source>/*.txt.gz`. `sources` empty means every source folder. The held-out
// shard is the first file of `heldout_source` and is never among the training shards. Errors
// name the folder and what is missing.
CorpusShards list_corpus_shards(const fs::path& root, const std::vector<std::string>& sources,
                                const std::string& heldout_source);

// The shard's name relative to the corpus root ("wikipedia/0003.txt.gz"), used in checkpoints.
std::string shard_name(const fs::path& root, const fs::path& shard);

struct PackingOptions {
  std::int64_t chunk_tokens = 126;        // tokens per chunk, before any special tokens are added
  std::int64_t document_separator = -1;   // token id closing every document (-1: none)
  std::int64_t shuffle_buffer = 1024;     // chunks held for shuffling; 0 or 1 keeps stream order
  std::uint64_t seed = 0;                 // seeds shard choice and shuffling
  void validate() const;
};

// A stream position: scalars (JSON) and token arrays by name, for a checkpoint.
struct StreamState {
  nlohmann::json scalars;
  std::map<std::string, std::vector<std::int32_t>> arrays;
};

// The tokens of one shard, document by document, restartable at a line.
class ShardTokens {
 public:
  ShardTokens(fs::path path, const tok::Tokenizer& tokenizer, std::int64_t document_separator);
  ~ShardTokens();
  ShardTokens(ShardTokens&&) noexcept;
  // Fills `out` with the next `count` tokens of the shard, starting over at its end.
  void take(std::int64_t count, std::vector<std::int32_t>& out);
  // Stops at the shard's end instead of starting over; false when fewer than `count` remain.
  bool take_once(std::int64_t count, std::vector<std::int32_t>& out);

  nlohmann::json position() const;                // lines read, passes, document state
  std::vector<std::int32_t> pending() const;      // tokenized but not yet taken
  void restore(const nlohmann::json& position, std::vector<std::int32_t> pending);
  const fs::path& path() const { return path_; }

 private:
  struct Reader;
  // Reads lines until at least `count` tokens are pending; false at the end of the shard.
  bool fill(std::int64_t count);
  void reopen();

  fs::path path_;
  const tok::Tokenizer* tokenizer_;
  std::int64_t separator_;
  std::unique_ptr<Reader> reader_;
  std::int64_t lines_read_ = 0;   // lines of the current pass consumed
  std::int64_t passes_ = 0;       // completed passes over the shard
  bool in_document_ = false;      // tokens appended since the last separator
  bool text_in_pass_ = false;     // the current pass produced tokens (an empty shard is an error)
  std::vector<std::int32_t> pending_;
  std::size_t pending_begin_ = 0;
};

class PackedStream {
 public:
  PackedStream(const fs::path& root, std::vector<fs::path> shards, std::vector<std::uint64_t> weights,
               const tok::Tokenizer& tokenizer, PackingOptions options);
  ~PackedStream();
  // The next chunk of options.chunk_tokens tokens.
  std::vector<std::int32_t> next();
  std::int64_t chunks_returned() const { return chunks_returned_; }

  StreamState state() const;
  // Continues exactly where `state` was taken. Error when the shards or the chunk length differ.
  void restore(const StreamState& state);

 private:
  std::size_t pick_shard();

  fs::path root_;
  PackingOptions options_;
  std::vector<ShardTokens> shards_;
  std::vector<std::uint64_t> cumulative_weights_;
  Rng rng_;
  std::vector<std::vector<std::int32_t>> buffer_;
  std::int64_t chunks_returned_ = 0;
};

// The first `count` chunks of one shard in file order (the fixed held-out evaluation set);
// fewer when the shard is shorter.
std::vector<std::vector<std::int32_t>> first_chunks(const fs::path& shard, const tok::Tokenizer& tokenizer,
                                                    std::int64_t chunk_tokens, std::int64_t document_separator,
                                                    std::int64_t count);

}  // namespace ptbench::pretrain
