#include "backbones/heads.h"

#include <torch/torch.h>

#include "common/error.h"

namespace ptbench {

std::string to_string(HeadKind kind) {
  switch (kind) {
    case HeadKind::sequence_classification: return "sequence_classification";
    case HeadKind::multiple_choice: return "multiple_choice";
    case HeadKind::token_classification: return "token_classification";
    case HeadKind::span_extraction: return "span_extraction";
    case HeadKind::seq2seq: return "seq2seq";
  }
  return "?";
}

HeadPooling parse_head_pooling(const std::string& name) {
  if (name == "auto") return HeadPooling::automatic;
  if (name == "pooler") return HeadPooling::pooler;
  if (name == "first_token_mlp") return HeadPooling::first_token_mlp;
  fail("unknown head pooling '", name, "' (known: auto, pooler, first_token_mlp)");
}

std::string to_string(HeadPooling pooling) {
  switch (pooling) {
    case HeadPooling::automatic: return "auto";
    case HeadPooling::pooler: return "pooler";
    case HeadPooling::first_token_mlp: return "first_token_mlp";
  }
  return "?";
}

HeadImpl::HeadImpl(const HeadSpec& spec, const BackboneGeometry& geometry, double dropout) : spec_(spec) {
  const std::int64_t h = geometry.hidden;
  pooling_ = spec.pooling;
  if (pooling_ == HeadPooling::automatic) {
    pooling_ = geometry.arch == "roberta" ? HeadPooling::first_token_mlp : HeadPooling::pooler;
  }
  dropout_ = register_module("dropout", torch::nn::Dropout(dropout));
  switch (spec.kind) {
    case HeadKind::sequence_classification:
      if (pooling_ == HeadPooling::first_token_mlp) {
        auto classifier = register_module("classifier", std::make_shared<torch::nn::Module>());
        dense_ = classifier->register_module("dense", Dense(h, h));
        linear_ = classifier->register_module("out_proj", Dense(h, spec.num_labels));
      } else {
        linear_ = register_module("classifier", Dense(h, spec.num_labels));
      }
      break;
    case HeadKind::multiple_choice:
      // BertForMultipleChoice: one score per (context, choice) pair from the pooled output.
      linear_ = register_module("classifier", Dense(h, 1));
      break;
    case HeadKind::token_classification:
      linear_ = register_module("classifier", Dense(h, spec.num_labels));
      break;
    case HeadKind::span_extraction:
      linear_ = register_module("qa_outputs", Dense(h, 2));
      break;
    case HeadKind::seq2seq:
      break;  // the LM head belongs to the encoder-decoder backbone
  }
}

torch::Tensor HeadImpl::forward(const BackboneOutput& output) {
  switch (spec_.kind) {
    case HeadKind::sequence_classification:
      if (pooling_ == HeadPooling::first_token_mlp) {
        // Token 0 of the full sequence: the first virtual token when a prompt is prepended,
        // exactly as PEFT + RobertaForSequenceClassification run.
        torch::Tensor x = dropout_(output.sequence_with_prefix.select(1, 0));
        x = dropout_(torch::tanh(dense_->forward(x)));
        return linear_->forward(x);
      }
      return linear_->forward(dropout_(output.pooled));
    case HeadKind::multiple_choice: {
      TORCH_CHECK(spec_.num_choices > 0, "multiple-choice head needs num_choices");
      torch::Tensor scores = linear_->forward(dropout_(output.pooled));
      return scores.view({-1, spec_.num_choices});
    }
    case HeadKind::token_classification:
      return linear_->forward(dropout_(output.sequence));
    case HeadKind::span_extraction:
      return linear_->forward(output.sequence);
    case HeadKind::seq2seq:
      return output.lm_logits;
  }
  return {};
}

std::string HeadImpl::load_from(const TensorMap& leftovers, double init_std) {
  auto params = named_parameters(true);
  if (params.is_empty()) return "no head parameters";
  for (const auto& item : params) {
    auto found = leftovers.find(item.key());
    if (found == leftovers.end() || found->second.sizes() != item.value().sizes()) {
      return found == leftovers.end()
                 ? "head initialised fresh (checkpoint has no " + item.key() + ")"
                 : "head initialised fresh (checkpoint " + item.key() + " has another shape: the task's label count differs)";
    }
  }
  torch::NoGradGuard no_grad;
  for (const auto& item : params) item.value().copy_(leftovers.at(item.key()));
  (void)init_std;
  return "head loaded from checkpoint";
}

}  // namespace ptbench
