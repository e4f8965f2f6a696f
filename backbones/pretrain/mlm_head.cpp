#include "backbones/pretrain/mlm_head.h"

#include <torch/torch.h>

#include "backbones/ops.h"
#include "common/error.h"

namespace ptbench::pretrain {

namespace F = torch::nn::functional;

namespace {

std::shared_ptr<torch::nn::Module> scope(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

torch::Tensor activate(const torch::Tensor& x, Activation activation) {
  switch (activation) {
    case Activation::gelu: return F::gelu(x);
    case Activation::gelu_new: return F::gelu(x, F::GELUFuncOptions().approximate("tanh"));
    case Activation::relu: return torch::relu(x);
  }
  return x;
}

}  // namespace

MlmHeadImpl::MlmHeadImpl(const EncoderOptions& options) {
  const std::int64_t h = options.hidden_size;
  auto norm_options = torch::nn::LayerNormOptions({h}).eps(options.layer_norm_eps);
  if (options.arch == "roberta") {
    // RobertaLMHead: dense → gelu → layer_norm → decoder (+ bias); gelu whatever hidden_act says.
    activation_ = Activation::gelu;
    dense_ = register_module("dense", Dense(h, h));
    layer_norm_ = register_module("layer_norm", torch::nn::LayerNorm(norm_options));
    bias_ = register_parameter("bias", torch::zeros({options.vocab_size}));
  } else {
    // BertLMPredictionHead: transform (dense → hidden_act → LayerNorm) → decoder (+ bias).
    activation_ = options.activation;
    auto predictions = scope(*this, "predictions");
    auto transform = scope(*predictions, "transform");
    dense_ = transform->register_module("dense", Dense(h, h));
    layer_norm_ = transform->register_module("LayerNorm", torch::nn::LayerNorm(norm_options));
    bias_ = predictions->register_parameter("bias", torch::zeros({options.vocab_size}));
  }
  torch::NoGradGuard no_grad;
  dense_->weight.normal_(0.0, options.initializer_range);
  dense_->bias.zero_();
}

torch::Tensor MlmHeadImpl::forward(const torch::Tensor& hidden, const torch::Tensor& word_embeddings) {
  torch::Tensor transformed = layer_norm_(activate(dense_(hidden), activation_));
  return ops::linear(transformed, word_embeddings, bias_);
}

MaskedLmModelImpl::MaskedLmModelImpl(const nlohmann::json& config) {
  const EncoderOptions options = EncoderOptions::from_hf_config(config);
  prefix_ = options.arch;
  encoder_ = register_module(prefix_, std::make_shared<EncoderBackboneImpl>(options, config));
  head_ = register_module(options.arch == "roberta" ? "lm_head" : "cls", MlmHead(options));
}

torch::Tensor MaskedLmModelImpl::forward(const BackboneInput& input, const torch::Tensor& positions) {
  const BackboneOutput output = encoder_->forward(input, Injection{});
  const torch::Tensor flat = output.sequence.reshape({-1, output.sequence.size(-1)});
  return head_(flat.index_select(0, positions), encoder_->word_embeddings());
}

}  // namespace ptbench::pretrain
