#include "methods/ptuning.h"

#include <torch/torch.h>

#include <algorithm>

#include "common/error.h"
#include "harness/config.h"

namespace ptbench {

namespace {
const char* const kWhere = "method (ptuning)";

std::string to_string(PromptEncoderKind kind) { return kind == PromptEncoderKind::lstm ? "lstm" : "mlp"; }
}  // namespace

PTuningOptions PTuningOptions::from_json(const nlohmann::json& json) {
  check_known_keys(json, PTuningOptions{}.to_json(), kWhere);
  using method_util::read;
  PTuningOptions options;
  options.length = read(json, "length", options.length);
  options.encoder =
      method_util::read_choice(json, "encoder", to_string(options.encoder), {"lstm", "mlp"}, kWhere) == "lstm"
          ? PromptEncoderKind::lstm
          : PromptEncoderKind::mlp;
  options.encoder_hidden_size = read(json, "encoder_hidden_size", options.encoder_hidden_size);
  options.lstm_dropout = read(json, "lstm_dropout", options.lstm_dropout);
  options.insertion = method_util::read_insertion(json, "insertion", options.insertion, kWhere);
  return options;
}

nlohmann::json PTuningOptions::to_json() const {
  return {{"length", length},
          {"encoder", to_string(encoder)},
          {"encoder_hidden_size", encoder_hidden_size},
          {"lstm_dropout", lstm_dropout},
          {"insertion", to_string(insertion)}};
}

void PTuningOptions::validate() const {
  if (length < 1) fail(kWhere, ": length must be at least 1, got ", length);
  if (encoder_hidden_size < 0) fail(kWhere, ": encoder_hidden_size must be >= 0 (0 = the encoder's default)");
  if (lstm_dropout < 0 || lstm_dropout >= 1) fail(kWhere, ": lstm_dropout must lie in [0, 1), got ", lstm_dropout);
}

std::int64_t PTuningOptions::hidden_size_for(std::int64_t hidden) const {
  if (encoder_hidden_size > 0) return encoder_hidden_size;
  return encoder == PromptEncoderKind::lstm ? std::max<std::int64_t>(1, hidden / 2) : hidden;
}

nlohmann::json PTuningImpl::options_json() const {
  nlohmann::json json = options_.to_json();
  if (resolved_hidden_size_ > 0) json["encoder_hidden_size"] = resolved_hidden_size_;
  return json;
}

void PTuningImpl::attach(BackboneImpl& backbone) {
  const std::int64_t hidden = backbone.geometry().hidden;
  const std::int64_t h = options_.hidden_size_for(hidden);
  resolved_hidden_size_ = h;
  // nn.Embedding default init N(0, 1), as PEFT leaves it.
  embedding = register_module("embedding", torch::nn::Embedding(options_.length, hidden));
  auto head = register_module("mlp_head", std::make_shared<torch::nn::Module>());
  if (options_.encoder == PromptEncoderKind::lstm) {
    lstm_head = register_module(
        "lstm_head",
        torch::nn::LSTM(torch::nn::LSTMOptions(hidden, h).num_layers(2).bidirectional(true).batch_first(true).dropout(
            options_.lstm_dropout)));
    mlp_head = {Dense(2 * h, 2 * h), Dense(2 * h, hidden)};
    head->register_module("0", mlp_head[0]);
    head->register_module("2", mlp_head[1]);
  } else {
    mlp_head = {Dense(hidden, h), Dense(h, h), Dense(h, hidden)};
    head->register_module("0", mlp_head[0]);
    head->register_module("2", mlp_head[1]);
    head->register_module("4", mlp_head[2]);
  }
  for (Dense& dense : mlp_head) method_util::init_like_torch_linear(*dense);
}

torch::Tensor PTuningImpl::prompts() {
  TORCH_CHECK(embedding, "ptuning: prompts() before attach()");
  torch::Tensor x = embedding->weight.unsqueeze(0);  // [1, P, H]: the encoder input for arange(P)
  if (lstm_head) x = std::get<0>(lstm_head->forward(x));
  for (std::size_t i = 0; i < mlp_head.size(); ++i) {
    x = mlp_head[i]->forward(x);
    if (i + 1 < mlp_head.size()) x = torch::relu(x);
  }
  return x.squeeze(0);
}

Injection PTuningImpl::inject(const BackboneInput& input, BackboneImpl&) {
  Injection injection;
  const std::int64_t batch = input.input_ids.size(0);
  // PEFT runs the encoder on arange(P) for every example; the rows are identical, so one run
  // expanded to the batch gives the same values and the same (summed) gradients.
  injection.input_prefix = prompts().unsqueeze(0).expand({batch, -1, -1});
  injection.insertion = options_.insertion;
  return injection;
}

std::int64_t PTuningImpl::closed_form_parameters(const BackboneGeometry& geometry) const {
  const std::int64_t H = geometry.hidden, P = options_.length, h = options_.hidden_size_for(H);
  if (options_.encoder == PromptEncoderKind::lstm) return P * H + 10 * h * H + 36 * h * h + 34 * h + H;
  return P * H + 2 * H * h + h * h + 2 * h + H;
}

}  // namespace ptbench
