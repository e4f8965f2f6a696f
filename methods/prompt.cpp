#include "methods/prompt.h"

#include <torch/torch.h>

#include "common/error.h"
#include "harness/config.h"

namespace ptbench {

namespace {
const char* const kWhere = "method (prompt)";
}

PromptOptions PromptOptions::from_json(const nlohmann::json& json) {
  check_known_keys(json, PromptOptions{}.to_json(), kWhere);
  using method_util::read;
  PromptOptions options;
  options.length = read(json, "length", options.length);
  options.insertion = method_util::read_insertion(json, "insertion", options.insertion, kWhere);
  options.init = method_util::parse_prompt_init(read(json, "init", to_string(options.init)), kWhere);
  options.uniform_range = read(json, "uniform_range", options.uniform_range);
  options.vocab_sample_first_ids = read(json, "vocab_sample_first_ids", options.vocab_sample_first_ids);
  options.init_token_ids = read(json, "init_token_ids", options.init_token_ids);
  options.decoder_prompt = read(json, "decoder_prompt", options.decoder_prompt);
  options.text_fill =
      method_util::read_choice(json, "text_fill", "repeat", {"repeat", "vocab_sample"}, kWhere) == "repeat"
          ? method_util::TextFill::repeat
          : method_util::TextFill::vocab_sample;
  return options;
}

nlohmann::json PromptOptions::to_json() const {
  return {{"length", length},
          {"insertion", to_string(insertion)},
          {"init", to_string(init)},
          {"uniform_range", uniform_range},
          {"vocab_sample_first_ids", vocab_sample_first_ids},
          {"init_token_ids", init_token_ids},
          {"text_fill", to_string(text_fill)},
          {"decoder_prompt", decoder_prompt}};
}

void PromptOptions::validate() const {
  if (length < 1) fail(kWhere, ": length must be at least 1, got ", length);
  if (!(uniform_range > 0)) fail(kWhere, ": uniform_range must be positive, got ", uniform_range);
  if (vocab_sample_first_ids < 0) fail(kWhere, ": vocab_sample_first_ids must be >= 0 (0 = whole vocabulary)");
  if (init == method_util::PromptInit::text && init_token_ids.empty()) {
    fail(kWhere, ": init 'text' needs init_token_ids (the token ids of the initialisation text)");
  }
}

void PromptImpl::attach(BackboneImpl& backbone) {
  const BackboneGeometry& geometry = backbone.geometry();
  if (options_.decoder_prompt && geometry.kind != BackboneKind::encoder_decoder) {
    fail(kWhere, ": decoder_prompt needs an encoder-decoder backbone; ", geometry.arch, " has no decoder");
  }
  embedding = register_module("embedding", torch::nn::Embedding(rows(geometry), geometry.hidden));
  method_util::PromptInitSpec spec{options_.init, options_.uniform_range, options_.vocab_sample_first_ids,
                                   options_.init_token_ids, options_.text_fill};
  method_util::init_prompt_table(embedding->weight, spec, backbone.word_embeddings(), kWhere);
}

Injection PromptImpl::inject(const BackboneInput& input, BackboneImpl&) {
  TORCH_CHECK(embedding, "prompt: inject() before attach()");
  Injection injection;
  const std::int64_t batch = input.input_ids.size(0);
  // PEFT get_prompt: the same P vectors for every example.
  const torch::Tensor table = embedding->weight.unsqueeze(0).expand({batch, -1, -1});
  injection.input_prefix = table.narrow(1, 0, options_.length);
  if (options_.decoder_prompt) injection.decoder_input_prefix = table.narrow(1, options_.length, options_.length);
  injection.insertion = options_.insertion;
  return injection;
}

std::int64_t PromptImpl::rows(const BackboneGeometry& geometry) const {
  const bool decoder = options_.decoder_prompt && geometry.kind == BackboneKind::encoder_decoder;
  return decoder ? 2 * options_.length : options_.length;
}

std::int64_t PromptImpl::closed_form_parameters(const BackboneGeometry& geometry) const {
  return rows(geometry) * geometry.hidden;
}

}  // namespace ptbench
