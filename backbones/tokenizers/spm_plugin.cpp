// The SentencePiece plugin (see spm_backend.h for why it is a separate shared object).
#include <sentencepiece_processor.h>

#include "backbones/tokenizers/spm_backend.h"

namespace ptbench::tok {
namespace {

class SentencePieceBackend final : public SpmBackend {
 public:
  bool load(const char* path, std::string* error) {
    const auto status = processor_.Load(path);
    if (!status.ok()) *error = status.ToString();
    return status.ok();
  }
  int piece_size() const override { return processor_.GetPieceSize(); }
  int piece_to_id(std::string_view piece) const override { return processor_.PieceToId(piece); }
  std::string id_to_piece(int id) const override { return processor_.IdToPiece(id); }
  bool encode(std::string_view text, std::vector<SpmPiece>& pieces, std::string& error) const override {
    sentencepiece::ImmutableSentencePieceText encoded;
    const auto status = processor_.Encode(text, encoded.mutable_proto());
    if (!status.ok()) {
      error = status.ToString();
      return false;
    }
    pieces.clear();
    const std::size_t count = encoded.pieces_size();
    for (std::size_t i = 0; i < count; ++i) {
      const auto piece = encoded.pieces(static_cast<int>(i));
      pieces.push_back({static_cast<int>(piece.id()), piece.begin(), piece.end(), piece.piece()});
    }
    return true;
  }
  std::string decode_pieces(const std::vector<std::string>& pieces) const override {
    return processor_.DecodePieces(pieces);
  }

 private:
  sentencepiece::SentencePieceProcessor processor_;
};

}  // namespace
}  // namespace ptbench::tok

extern "C" __attribute__((visibility("default"))) ptbench::tok::SpmBackend* ptbench_spm_create(const char* model_path,
                                                                                                std::string* error) {
  auto backend = std::make_unique<ptbench::tok::SentencePieceBackend>();
  if (!backend->load(model_path, error)) return nullptr;
  return backend.release();
}
