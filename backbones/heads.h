// Task heads on top of a backbone, chosen by the task (never by the method). Parameter names
// are Hugging Face's (classifier.*, qa_outputs.*), so heads stored in HF checkpoints load.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>

#include "backbones/backbone.h"
#include "backbones/checkpoint.h"
#include "backbones/encoder.h"

namespace ptbench {

enum class HeadKind { sequence_classification, multiple_choice, token_classification, span_extraction, seq2seq };

std::string to_string(HeadKind kind);

// Which representation a classification head reads.
enum class HeadPooling {
  automatic,        // the architecture's HF default: BERT pooler output, RoBERTa first-token MLP
  pooler,           // BertPooler output (dense + tanh on position 0) → dropout → linear
  first_token_mlp,  // RobertaClassificationHead: token 0 → dropout → dense → tanh → dropout → out_proj
};
HeadPooling parse_head_pooling(const std::string& name);
std::string to_string(HeadPooling pooling);

struct HeadSpec {
  HeadKind kind = HeadKind::sequence_classification;
  std::int64_t num_labels = 2;   // classes, tags; 2 for span extraction (start, end); 1 per choice
  std::int64_t num_choices = 0;  // multiple choice only
  HeadPooling pooling = HeadPooling::automatic;
};

class HeadImpl : public torch::nn::Module {
 public:
  HeadImpl(const HeadSpec& spec, const BackboneGeometry& geometry, double dropout);
  // Sequence classification: [B, labels]; multiple choice: [B / choices, choices];
  // token classification: [B, L, labels]; span extraction: [B, L, 2] (start, end).
  torch::Tensor forward(const BackboneOutput& output);
  const HeadSpec& spec() const { return spec_; }
  // Loads head tensors from a checkpoint's leftovers when all of them are there with the right
  // shapes; otherwise keeps the fresh initialisation. Returns a sentence for the run record.
  std::string load_from(const TensorMap& leftovers, double init_std);

 private:
  HeadSpec spec_;
  HeadPooling pooling_;
  torch::nn::Dropout dropout_{nullptr};
  Dense linear_{nullptr};   // classifier / qa_outputs / classifier.out_proj
  Dense dense_{nullptr};    // classifier.dense for first_token_mlp
};
TORCH_MODULE(Head);

}  // namespace ptbench
