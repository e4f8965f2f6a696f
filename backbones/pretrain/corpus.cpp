#include "backbones/pretrain/corpus.h"

#include <algorithm>
#include <fstream>

#include <boost/iostreams/filter/gzip.hpp>
#include <boost/iostreams/filtering_stream.hpp>

#include "common/error.h"

namespace ptbench::pretrain {

namespace {

bool is_shard_file(const fs::path& path) {
  const std::string name = path.filename().string();
  return fs::is_regular_file(path) && name.size() > 7 && name.ends_with(".txt.gz");
}

std::vector<fs::path> shards_of(const fs::path& folder) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(folder))
    if (is_shard_file(entry.path())) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

bool is_blank(const std::string& line) {
  return std::all_of(line.begin(), line.end(), [](unsigned char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

}  // namespace

CorpusShards list_corpus_shards(const fs::path& root, const std::vector<std::string>& sources,
                                const std::string& heldout_source) {
  if (!fs::is_directory(root)) {
    fail("pretraining corpus folder ", root.string(),
         " does not exist (expected <corpus>/<source>/NNNN.txt.gz, e.g. ../shared/corpus; set --corpus)");
  }
  std::vector<std::string> names = sources;
  if (names.empty()) {
    for (const auto& entry : fs::directory_iterator(root))
      if (entry.is_directory() && !shards_of(entry.path()).empty()) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
  }
  CorpusShards shards;
  shards.root = root;
  if (!heldout_source.empty()) {
    const fs::path folder = root / heldout_source;
    if (!fs::is_directory(folder) || shards_of(folder).empty()) {
      fail("held-out source '", heldout_source, "' has no *.txt.gz shards in ", folder.string(),
           " (set data.heldout_source to one of the folders of ", root.string(), ")");
    }
    shards.heldout = shards_of(folder).front();
  }
  for (const std::string& name : names) {
    const fs::path folder = root / name;
    if (!fs::is_directory(folder)) fail("corpus source '", name, "' is not a folder of ", root.string(), " (data.sources)");
    const std::vector<fs::path> files = shards_of(folder);
    if (files.empty()) fail("corpus source folder ", folder.string(), " holds no *.txt.gz shards");
    for (const fs::path& file : files) {
      if (file == shards.heldout) continue;
      shards.train.push_back(file);
      shards.train_bytes.push_back(std::max<std::uint64_t>(1, fs::file_size(file)));
    }
  }
  if (shards.train.empty()) {
    fail("no training shards left in ", root.string(), " after holding out ", shards.heldout.string(),
         " (add sources or hold out another one)");
  }
  return shards;
}

std::string shard_name(const fs::path& root, const fs::path& shard) {
  return shard.lexically_relative(root).generic_string();
}

void PackingOptions::validate() const {
  if (chunk_tokens <= 0) fail("packing: chunk length must be positive, got ", chunk_tokens);
  if (shuffle_buffer < 0) fail("data.shuffle_buffer must be >= 0, got ", shuffle_buffer);
}

// ---------------------------------------------------------------------------------------------
// ShardTokens

struct ShardTokens::Reader {
  std::ifstream file;
  boost::iostreams::filtering_istream in;
};

ShardTokens::ShardTokens(fs::path path, const tok::Tokenizer& tokenizer, std::int64_t document_separator)
    : path_(std::move(path)), tokenizer_(&tokenizer), separator_(document_separator) {}
ShardTokens::~ShardTokens() = default;
ShardTokens::ShardTokens(ShardTokens&&) noexcept = default;

void ShardTokens::reopen() {
  reader_ = std::make_unique<Reader>();
  reader_->file.open(path_, std::ios::binary);
  if (!reader_->file) fail("cannot open corpus shard ", path_.string());
  reader_->in.push(boost::iostreams::gzip_decompressor());
  reader_->in.push(reader_->file);
}

bool ShardTokens::fill(std::int64_t count) {
  if (!reader_) {
    // First read of this pass (or after a restore): skip the lines already consumed.
    reopen();
    std::string skipped;
    for (std::int64_t i = 0; i < lines_read_; ++i) {
      if (!std::getline(reader_->in, skipped)) {
        fail("corpus shard ", path_.string(), " has fewer than ", lines_read_,
             " lines; it changed since the checkpoint was written");
      }
    }
  }
  auto available = [&] { return static_cast<std::int64_t>(pending_.size() - pending_begin_); };
  if (pending_begin_ > 0 && pending_begin_ * 2 > pending_.size()) {
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(pending_begin_));
    pending_begin_ = 0;
  }
  std::string line;
  try {
    while (available() < count) {
      if (!std::getline(reader_->in, line)) {
        // End of the shard closes its last document.
        if (in_document_ && separator_ >= 0) pending_.push_back(static_cast<std::int32_t>(separator_));
        in_document_ = false;
        return false;
      }
      ++lines_read_;
      if (is_blank(line)) {
        if (in_document_ && separator_ >= 0) pending_.push_back(static_cast<std::int32_t>(separator_));
        in_document_ = false;
        continue;
      }
      for (std::int64_t id : tokenizer_->encode_ids(line)) pending_.push_back(static_cast<std::int32_t>(id));
      in_document_ = true;
      text_in_pass_ = true;
    }
  } catch (const boost::iostreams::gzip_error& e) {
    fail(path_.string(), ": corrupt gzip data after line ", lines_read_, ": ", e.what());
  }
  return true;
}

bool ShardTokens::take_once(std::int64_t count, std::vector<std::int32_t>& out) {
  const bool complete = fill(count);
  const std::int64_t have = static_cast<std::int64_t>(pending_.size() - pending_begin_);
  if (!complete && have < count) return false;
  out.assign(pending_.begin() + static_cast<std::ptrdiff_t>(pending_begin_),
             pending_.begin() + static_cast<std::ptrdiff_t>(pending_begin_ + count));
  pending_begin_ += static_cast<std::size_t>(count);
  return true;
}

void ShardTokens::take(std::int64_t count, std::vector<std::int32_t>& out) {
  while (!fill(count)) {
    const std::int64_t have = static_cast<std::int64_t>(pending_.size() - pending_begin_);
    if (have >= count) break;
    // The pending tail carries over into the next pass, as a concatenated stream would.
    if (!text_in_pass_) fail("corpus shard ", path_.string(), " holds no text");
    ++passes_;
    lines_read_ = 0;
    text_in_pass_ = false;
    reader_.reset();
  }
  out.assign(pending_.begin() + static_cast<std::ptrdiff_t>(pending_begin_),
             pending_.begin() + static_cast<std::ptrdiff_t>(pending_begin_ + count));
  pending_begin_ += static_cast<std::size_t>(count);
}

nlohmann::json ShardTokens::position() const {
  return {{"lines", lines_read_}, {"passes", passes_}, {"in_document", in_document_}, {"text_in_pass", text_in_pass_}};
}

std::vector<std::int32_t> ShardTokens::pending() const {
  return {pending_.begin() + static_cast<std::ptrdiff_t>(pending_begin_), pending_.end()};
}

void ShardTokens::restore(const nlohmann::json& position, std::vector<std::int32_t> pending) {
  lines_read_ = position.at("lines").get<std::int64_t>();
  passes_ = position.at("passes").get<std::int64_t>();
  in_document_ = position.at("in_document").get<bool>();
  text_in_pass_ = position.at("text_in_pass").get<bool>();
  pending_ = std::move(pending);
  pending_begin_ = 0;
  reader_.reset();  // reopened and skipped to lines_read_ on the next fill
}

// ---------------------------------------------------------------------------------------------
// PackedStream

PackedStream::PackedStream(const fs::path& root, std::vector<fs::path> shards, std::vector<std::uint64_t> weights,
                           const tok::Tokenizer& tokenizer, PackingOptions options)
    : root_(root), options_(options), rng_(Rng::derived({options.seed, 0x636f72707573ULL /* "corpus" */})) {
  options_.validate();
  if (shards.empty()) fail("packed stream: no shards");
  if (weights.size() != shards.size()) fail("packed stream: one weight per shard expected");
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    shards_.emplace_back(shards[i], tokenizer, options_.document_separator);
    total += std::max<std::uint64_t>(1, weights[i]);
    cumulative_weights_.push_back(total);
  }
}

PackedStream::~PackedStream() = default;

std::size_t PackedStream::pick_shard() {
  const std::uint64_t draw = rng_.below(cumulative_weights_.back());
  return static_cast<std::size_t>(std::upper_bound(cumulative_weights_.begin(), cumulative_weights_.end(), draw) -
                                  cumulative_weights_.begin());
}

std::vector<std::int32_t> PackedStream::next() {
  const std::size_t capacity = static_cast<std::size_t>(std::max<std::int64_t>(1, options_.shuffle_buffer));
  while (buffer_.size() < capacity) {
    std::vector<std::int32_t> chunk;
    shards_[pick_shard()].take(options_.chunk_tokens, chunk);
    buffer_.push_back(std::move(chunk));
  }
  // Take a random element of the full buffer (swap with the last, pop), as a streaming shuffle
  // buffer does; with capacity 1 this is the stream order.
  const std::size_t index = capacity == 1 ? 0 : static_cast<std::size_t>(rng_.below(buffer_.size()));
  std::swap(buffer_[index], buffer_.back());
  std::vector<std::int32_t> chunk = std::move(buffer_.back());
  buffer_.pop_back();
  ++chunks_returned_;
  return chunk;
}

StreamState PackedStream::state() const {
  StreamState state;
  nlohmann::json shards = nlohmann::json::array();
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    nlohmann::json entry = shards_[i].position();
    entry["file"] = shard_name(root_, shards_[i].path());
    shards.push_back(std::move(entry));
    state.arrays["pending." + std::to_string(i)] = shards_[i].pending();
  }
  std::vector<std::int32_t> buffer;
  buffer.reserve(buffer_.size() * static_cast<std::size_t>(options_.chunk_tokens));
  for (const auto& chunk : buffer_) buffer.insert(buffer.end(), chunk.begin(), chunk.end());
  state.arrays["buffer"] = std::move(buffer);
  state.scalars = {{"rng", rng_.state()},
                   {"chunk_tokens", options_.chunk_tokens},
                   {"buffered_chunks", buffer_.size()},
                   {"chunks_returned", chunks_returned_},
                   {"shards", std::move(shards)}};
  return state;
}

void PackedStream::restore(const StreamState& state) {
  try {
    const nlohmann::json& s = state.scalars;
    if (s.at("chunk_tokens").get<std::int64_t>() != options_.chunk_tokens) {
      fail("checkpoint data stream has chunks of ", s.at("chunk_tokens").get<std::int64_t>(), " tokens, this run ",
           options_.chunk_tokens, " (the sequence length changed)");
    }
    const nlohmann::json& shards = s.at("shards");
    if (shards.size() != shards_.size()) {
      fail("checkpoint data stream has ", shards.size(), " shards, the corpus now ", shards_.size(),
           " (the corpus or data.sources changed)");
    }
    for (std::size_t i = 0; i < shards_.size(); ++i) {
      const std::string expected = shard_name(root_, shards_[i].path());
      if (shards[i].at("file").get<std::string>() != expected) {
        fail("checkpoint data stream shard ", i, " is ", shards[i].at("file").get<std::string>(), ", the corpus now has ",
             expected, " there (the corpus or data.sources changed)");
      }
      auto pending = state.arrays.find("pending." + std::to_string(i));
      shards_[i].restore(shards[i], pending == state.arrays.end() ? std::vector<std::int32_t>{} : pending->second);
    }
    const std::size_t buffered = s.at("buffered_chunks").get<std::size_t>();
    static const std::vector<std::int32_t> kEmpty;
    auto found = state.arrays.find("buffer");
    const std::vector<std::int32_t>& flat = found == state.arrays.end() ? kEmpty : found->second;
    const std::size_t length = static_cast<std::size_t>(options_.chunk_tokens);
    if (flat.size() != buffered * length) fail("checkpoint data stream buffer has ", flat.size(), " tokens, expected ", buffered * length);
    buffer_.clear();
    for (std::size_t i = 0; i < buffered; ++i)
      buffer_.emplace_back(flat.begin() + static_cast<std::ptrdiff_t>(i * length),
                           flat.begin() + static_cast<std::ptrdiff_t>((i + 1) * length));
    rng_.restore(s.at("rng").get<std::string>());
    chunks_returned_ = s.at("chunks_returned").get<std::int64_t>();
  } catch (const nlohmann::json::exception& e) {
    fail("checkpoint data stream state is malformed (", e.what(), ")");
  }
}

std::vector<std::vector<std::int32_t>> first_chunks(const fs::path& shard, const tok::Tokenizer& tokenizer,
                                                    std::int64_t chunk_tokens, std::int64_t document_separator,
                                                    std::int64_t count) {
  ShardTokens tokens(shard, tokenizer, document_separator);
  std::vector<std::vector<std::int32_t>> chunks;
  std::vector<std::int32_t> chunk;
  while (static_cast<std::int64_t>(chunks.size()) < count && tokens.take_once(chunk_tokens, chunk)) chunks.push_back(chunk);
  return chunks;
}

}  // namespace ptbench::pretrain
