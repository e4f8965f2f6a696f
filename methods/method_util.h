// Pieces the prompt-style methods share: option reading with messages that name the option,
// the soft-prompt initialisations, PyTorch's default nn.Linear initialisation for our Dense
// layers, and the prompt insertion point as an option.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backbones/encoder.h"
#include "backbones/injection.h"
#include "common/error.h"

namespace ptbench::method_util {

// Reads `key` from an options object (already checked by check_known_keys), or `fallback`.
// A value of the wrong type (e.g. a string inside an id list) is an Error naming the option.
template <typename T>
T read(const nlohmann::json& json, const std::string& key, const T& fallback) {
  if (!json.is_object() || !json.contains(key) || json.at(key).is_null()) return fallback;
  try {
    return json.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    fail("method option '", key, "' has a value of the wrong type: ", json.at(key).dump());
  }
}

// One of `choices` or an Error naming the option, the value, the nearest choice and all choices.
std::string read_choice(const nlohmann::json& json, const std::string& key, const std::string& fallback,
                        const std::vector<std::string>& choices, const std::string& where);

PromptInsertion read_insertion(const nlohmann::json& json, const std::string& key, PromptInsertion fallback,
                               const std::string& where);

// How a table of soft prompt vectors [N, H] starts.
enum class PromptInit {
  normal,        // N(0, 1): nn.Embedding's default, what PEFT's RANDOM init and the SMoP code use
  uniform,       // U(-r, r), r = uniform_range (Lester et al. 2021 §3.2: r = 0.5)
  vocab_sample,  // rows of the word-embedding table drawn with the run's seed (Lester §3.2)
  text,          // word embeddings of given token ids (PEFT TEXT init; Lester's class-label init)
};
std::string to_string(PromptInit init);
const std::vector<std::string>& prompt_init_names();
PromptInit parse_prompt_init(const std::string& name, const std::string& where);

// What `text` init does when there are fewer ids than rows.
enum class TextFill {
  repeat,        // repeat the ids cyclically (PEFT prompt_tuning.py), truncating to the row count
  vocab_sample,  // fill the remaining rows with sampled vocabulary (Lester §3.2 class-label init)
};
std::string to_string(TextFill fill);

struct PromptInitSpec {
  PromptInit init = PromptInit::normal;
  double uniform_range = 0.5;
  // vocab_sample draws ids from [0, vocab_sample_first_ids); 0 = the whole vocabulary.
  std::int64_t vocab_sample_first_ids = 0;
  std::vector<std::int64_t> token_ids;  // text only
  TextFill text_fill = TextFill::repeat;
};

// Fills `table` [N, H] in place (no autograd) from the spec; random draws use LibTorch's
// global generator, which the trainer seeds with the run's seed before building the model.
// `word_embeddings` is the backbone's [V, H] table. Errors name `where`.
void init_prompt_table(torch::Tensor& table, const PromptInitSpec& spec, const torch::Tensor& word_embeddings,
                       const std::string& where);

// PyTorch's nn.Linear reset_parameters: weight ~ kaiming_uniform(a = √5), i.e.
// U(-1/√fan_in, 1/√fan_in), and the bias the same bound. The reference implementations
// (PEFT, P-Tuning v1/v2) leave their Linear layers at this default.
void init_like_torch_linear(DenseImpl& dense);

}  // namespace ptbench::method_util
