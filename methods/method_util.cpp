#include "methods/method_util.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "harness/config.h"

namespace ptbench::method_util {

std::string read_choice(const nlohmann::json& json, const std::string& key, const std::string& fallback,
                        const std::vector<std::string>& choices, const std::string& where) {
  const std::string value = read<std::string>(json, key, fallback);
  for (const std::string& choice : choices)
    if (value == choice) return value;
  fail("option '", key, "' of ", where, " has an unknown value '", value, "'", suggestion_suffix(value, choices),
       " (valid: ", join(choices, ", "), ")");
}

PromptInsertion read_insertion(const nlohmann::json& json, const std::string& key, PromptInsertion fallback,
                               const std::string& where) {
  const std::vector<std::string> names = {to_string(PromptInsertion::before_position_embeddings),
                                          to_string(PromptInsertion::after_embeddings),
                                          to_string(PromptInsertion::after_embeddings_reembedded)};
  return parse_prompt_insertion(read_choice(json, key, to_string(fallback), names, where));
}

std::string to_string(PromptInit init) {
  switch (init) {
    case PromptInit::normal:
      return "normal";
    case PromptInit::uniform:
      return "uniform";
    case PromptInit::vocab_sample:
      return "vocab_sample";
    case PromptInit::text:
      return "text";
  }
  return "?";
}

const std::vector<std::string>& prompt_init_names() {
  static const std::vector<std::string> names = {"normal", "uniform", "vocab_sample", "text"};
  return names;
}

PromptInit parse_prompt_init(const std::string& name, const std::string& where) {
  if (name == "normal") return PromptInit::normal;
  if (name == "uniform") return PromptInit::uniform;
  if (name == "vocab_sample") return PromptInit::vocab_sample;
  if (name == "text") return PromptInit::text;
  fail("option 'init' of ", where, " has an unknown value '", name, "'", suggestion_suffix(name, prompt_init_names()),
       " (valid: ", join(prompt_init_names(), ", "), ")");
}

std::string to_string(TextFill fill) { return fill == TextFill::repeat ? "repeat" : "vocab_sample"; }

namespace {

torch::Tensor sample_vocabulary_rows(std::int64_t count, const PromptInitSpec& spec,
                                     const torch::Tensor& word_embeddings) {
  const std::int64_t vocab = word_embeddings.size(0);
  const std::int64_t limit = spec.vocab_sample_first_ids > 0 ? std::min(spec.vocab_sample_first_ids, vocab) : vocab;
  torch::Tensor ids = torch::randint(0, limit, {count}, torch::TensorOptions().dtype(torch::kInt64));
  return word_embeddings.detach().index_select(0, ids.to(word_embeddings.device()));
}

}  // namespace

void init_prompt_table(torch::Tensor& table, const PromptInitSpec& spec, const torch::Tensor& word_embeddings,
                       const std::string& where) {
  torch::NoGradGuard no_grad;
  const std::int64_t rows = table.size(0);
  if (rows == 0) return;
  switch (spec.init) {
    case PromptInit::normal:
      table.normal_(0.0, 1.0);
      return;
    case PromptInit::uniform:
      table.uniform_(-spec.uniform_range, spec.uniform_range);
      return;
    case PromptInit::vocab_sample:
      table.copy_(sample_vocabulary_rows(rows, spec, word_embeddings));
      return;
    case PromptInit::text: {
      const std::int64_t vocab = word_embeddings.size(0);
      if (spec.token_ids.empty()) fail(where, ": init 'text' needs init_token_ids (token ids of the text)");
      for (std::int64_t id : spec.token_ids) {
        if (id < 0 || id >= vocab)
          fail(where, ": init_token_ids holds ", id, ", outside the vocabulary [0, ", vocab, ")");
      }
      std::vector<std::int64_t> ids;
      const auto given = static_cast<std::int64_t>(spec.token_ids.size());
      const std::int64_t from_text = spec.text_fill == TextFill::repeat ? rows : std::min(rows, given);
      for (std::int64_t i = 0; i < from_text; ++i) ids.push_back(spec.token_ids[static_cast<std::size_t>(i % given)]);
      torch::Tensor index = torch::tensor(ids, torch::TensorOptions().dtype(torch::kInt64));
      table.narrow(0, 0, from_text).copy_(word_embeddings.detach().index_select(0, index.to(word_embeddings.device())));
      if (from_text < rows) {
        table.narrow(0, from_text, rows - from_text)
            .copy_(sample_vocabulary_rows(rows - from_text, spec, word_embeddings));
      }
      return;
    }
  }
}

void init_like_torch_linear(DenseImpl& dense) {
  torch::NoGradGuard no_grad;
  if (dense.weight.numel() == 0) return;  // e.g. a projection to zero layers: nothing to draw
  const auto fan_in = dense.weight.size(1);
  torch::nn::init::kaiming_uniform_(dense.weight, std::sqrt(5.0));
  if (dense.bias.defined()) {
    const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
    dense.bias.uniform_(-bound, bound);
  }
}

}  // namespace ptbench::method_util
