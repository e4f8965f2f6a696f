#include "backbones/injection.h"

#include "common/error.h"

namespace ptbench {

std::string to_string(PromptInsertion insertion) {
  switch (insertion) {
    case PromptInsertion::before_position_embeddings: return "before_position_embeddings";
    case PromptInsertion::after_embeddings: return "after_embeddings";
    case PromptInsertion::after_embeddings_reembedded: return "after_embeddings_reembedded";
  }
  return "?";
}

PromptInsertion parse_prompt_insertion(const std::string& name) {
  if (name == "before_position_embeddings") return PromptInsertion::before_position_embeddings;
  if (name == "after_embeddings") return PromptInsertion::after_embeddings;
  if (name == "after_embeddings_reembedded") return PromptInsertion::after_embeddings_reembedded;
  fail("unknown prompt insertion point '", name,
       "' (known: before_position_embeddings, after_embeddings, after_embeddings_reembedded)");
}

bool Injection::empty() const {
  auto none = [](const std::vector<std::optional<KeyValuePrefix>>& layers) {
    for (const auto& layer : layers)
      if (layer) return false;
    return true;
  };
  return !input_prefix.defined() && !decoder_input_prefix.defined() && none(encoder_self) &&
         none(decoder_self) && none(cross);
}

std::int64_t Injection::layer_prefix_length() const {
  std::int64_t length = 0;
  for (const auto& layer : encoder_self) {
    if (!layer) continue;
    const std::int64_t p = layer->key.size(2);
    if (length != 0 && p != length) fail("layer prefixes of different lengths: ", length, " and ", p);
    length = p;
  }
  return length;
}

}  // namespace ptbench
