// SMoP, sparse mixture of prompts (Choi et al., EMNLP 2023): k soft prompts of length l and a
// router that picks one per example; the chosen prompt is prepended like a prompt-tuning prompt.
// The backbone is frozen. Reference: jyjohnchoi/SMoP peft_models/tuners/prompt_routing.py
// (PromptRoutingEmbedding with routing_level = "prompt") and scripts/train.py.
//
// Router: Linear(H → k, no bias), orthogonal init, on the mean of the input tokens' word
// embeddings over the attention mask (no position, no LayerNorm). In training its logits z are
// perturbed as z + ε ⊙ z.detach(), ε ~ N(0, σ²) (SMoP §2.3, "router perturbation"; the official
// GaussianNoise multiplies by sigma twice, so its sigma s is our σ = s², identical at the s = 1 it
// uses); p = softmax(z); the top-1 prompt is multiplied by its probability so the router gets a
// gradient. No noise at inference.
//
// Routing variants (`routing`):
//   top1           the paper's method (perturbation in training)
//   top1_no_noise  no perturbation: the router logits get dropout(router_dropout) in training
//                  instead, as the official code builds its router when perturb_router is off
//   topk           Σ over the top_k prompts of p_i · prompt_i (probabilities not renormalised,
//                  as the official code); perturbation as top1
//   gumbel         hard Gumbel-softmax with a straight-through gradient (official gumbel_softmax,
//                  which it applies to the probabilities p, not to the logits; temperature
//                  gumbel_temperature); no Gaussian perturbation (router dropout instead); Gumbel
//                  noise also at inference when gumbel_at_inference (the official code does that)
//   random         uniform random routing in training, unscaled; the mean of the k prompts at
//                  inference (official `stochastic`); no router
//   dense          Σ over all prompts of p_i · prompt_i (not in the official code: the dense
//                  mixture baseline); perturbation as top1
//
// Load balancing: the official training adds α · k · Σ_i mean_b(p_bi) · f_i to the loss, with
// f_i the share of examples routed to prompt i in the batch and α = 0.01 (PromptRoutingConfig
// load_balancing defaults to True and train.py never turns it off). auxiliary_loss() returns it
// after a training-mode inject() (sparse learned routers only); the trainer adds it.
//
// Trainable parameters (head excluded):
//   closed_form = k·l·H + k·H        (random: k·l·H, it has no router)
// Names: embedding.weight [k·l, H] (prompt i = rows i·l … i·l + l − 1, the official layout),
// router.weight [k, H].
#pragma once

#include <torch/nn/modules/embedding.h>

#include <cstdint>
#include <vector>

#include "backbones/encoder.h"
#include "methods/method.h"
#include "methods/method_util.h"

namespace ptbench {

enum class SmopRouting { top1, top1_no_noise, topk, gumbel, random, dense };
std::string to_string(SmopRouting routing);

struct SmopOptions {
  // Number of prompts k (the paper's best setting is 4 prompts of length 5; the official README
  // example passes num_virtual_tokens_full 20 = 4 × 5).
  std::int64_t num_prompts = 4;
  // Length l of each prompt (paper's best setting; README example num_virtual_tokens 5).
  std::int64_t prompt_length = 5;
  // Routing variant (see above); top1 is the paper's method.
  SmopRouting routing = SmopRouting::top1;
  // Prompts mixed by `topk` (official --topk; used only by topk, must be ≤ k).
  std::int64_t top_k = 2;
  // σ of the multiplicative router perturbation ε ~ N(0, σ²) in training (SMoP §2.3; official
  // sigma 1 for prompt-level routing). 0 disables it.
  double noise_std = 1.0;
  // Dropout on the router logits in training when there is no perturbation (official router
  // Linear → Dropout(p = 0.2) when perturb_router is false).
  double router_dropout = 0.2;
  // α of the load-balancing loss (official alpha 0.01 with load_balancing on); 0 disables it.
  double load_balancing_weight = 0.01;
  // Temperature of the Gumbel-softmax (official default 1.0).
  double gumbel_temperature = 1.0;
  // The official code samples Gumbel noise at evaluation too; false routes by argmax there.
  bool gumbel_at_inference = true;
  // Where the chosen prompt enters; PEFT's point is what the official code (built on PEFT) uses.
  PromptInsertion insertion = PromptInsertion::before_position_embeddings;
  // Initialisation of the k·l prompt rows: nn.Embedding's N(0, 1) as the official RANDOM init;
  // `text` fills every prompt with the same ids (repeated to l).
  method_util::PromptInit init = method_util::PromptInit::normal;
  double uniform_range = 0.5;                // uniform init half-width (Lester §3.2)
  std::int64_t vocab_sample_first_ids = 0;   // vocab_sample id bound, 0 = whole vocabulary
  std::vector<std::int64_t> init_token_ids;  // text init

  static SmopOptions from_json(const nlohmann::json& json);
  nlohmann::json to_json() const;
  void validate() const;
};

class SmopImpl : public MethodImpl {
 public:
  explicit SmopImpl(SmopOptions options) : options_(std::move(options)) {}
  std::string name() const override { return "smop"; }
  nlohmann::json options_json() const override { return options_.to_json(); }
  void attach(BackboneImpl& backbone) override;
  Injection inject(const BackboneInput& input, BackboneImpl& backbone) override;
  nlohmann::json run_report() const override;
  torch::Tensor auxiliary_loss() const override { return auxiliary_loss_; }
  std::int64_t closed_form_parameters(const BackboneGeometry& geometry) const override;

  // Examples routed to each prompt so far, in training and in evaluation (topk counts each of
  // the k chosen prompts; dense counts the most probable one; random evaluation, which uses the
  // mean prompt, counts nothing).
  const std::vector<std::int64_t>& training_counts() const { return training_counts_; }
  const std::vector<std::int64_t>& evaluation_counts() const { return evaluation_counts_; }
  void reset_counts();

  torch::nn::Embedding embedding{nullptr};  // [k·l, H]
  Dense router{nullptr};                    // [k, H], absent for random routing

 private:
  SmopOptions options_;
  std::int64_t hidden_ = 0;
  std::vector<std::int64_t> training_counts_, evaluation_counts_;
  torch::Tensor auxiliary_loss_;
};

}  // namespace ptbench
