// SentencePiece behind a process boundary of symbols. Debian's libsentencepiece embeds its own
// protobuf 3.14 runtime and exports those symbols; LibTorch links the system protobuf 3.21. In
// one symbol namespace the two collide (a crash at start-up before main). So SentencePiece is
// used only from a small plugin, libptbench_spm.so, loaded with dlopen(RTLD_LOCAL |
// RTLD_DEEPBIND): its protobuf stays private to it. This header is the whole interface.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ptbench::tok {

struct SpmPiece {
  int id = 0;
  std::size_t begin = 0, end = 0;  // byte offsets of the piece's surface in the encoded text
  std::string piece;
};

class SpmBackend {
 public:
  virtual ~SpmBackend() = default;
  virtual int piece_size() const = 0;
  virtual int piece_to_id(std::string_view piece) const = 0;
  virtual std::string id_to_piece(int id) const = 0;
  // Returns false and sets `error` when SentencePiece refuses the text.
  virtual bool encode(std::string_view text, std::vector<SpmPiece>& pieces, std::string& error) const = 0;
  virtual std::string decode_pieces(const std::vector<std::string>& pieces) const = 0;
};

// Loads the plugin (once per process) and a model in it. Errors name the model file, or the
// plugin and how to point at it (PTBENCH_SPM_PLUGIN).
std::unique_ptr<SpmBackend> load_spm_backend(const std::filesystem::path& model);

}  // namespace ptbench::tok

// The plugin's one exported symbol: creates a backend for a model file, or returns nullptr and
// sets *error.
extern "C" ptbench::tok::SpmBackend* ptbench_spm_create(const char* model_path, std::string* error);
