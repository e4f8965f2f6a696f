#include "methods/smop.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>

#include "backbones/ops.h"
#include "common/error.h"
#include "harness/config.h"

namespace ptbench {

namespace {
const char* const kWhere = "method (smop)";

const std::vector<std::string>& routing_names() {
  static const std::vector<std::string> names = {"top1", "top1_no_noise", "topk", "gumbel", "random", "dense"};
  return names;
}

SmopRouting parse_routing(const std::string& name) {
  const auto& names = routing_names();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<SmopRouting>(i);
  fail("option 'routing' of ", kWhere, " has an unknown value '", name, "'");
}
}  // namespace

std::string to_string(SmopRouting routing) { return routing_names()[static_cast<std::size_t>(routing)]; }

SmopOptions SmopOptions::from_json(const nlohmann::json& json) {
  check_known_keys(json, SmopOptions{}.to_json(), kWhere);
  using method_util::read;
  SmopOptions options;
  options.num_prompts = read(json, "num_prompts", options.num_prompts);
  options.prompt_length = read(json, "prompt_length", options.prompt_length);
  options.routing =
      parse_routing(method_util::read_choice(json, "routing", to_string(options.routing), routing_names(), kWhere));
  options.top_k = read(json, "top_k", options.top_k);
  options.noise_std = read(json, "noise_std", options.noise_std);
  options.router_dropout = read(json, "router_dropout", options.router_dropout);
  options.load_balancing_weight = read(json, "load_balancing_weight", options.load_balancing_weight);
  options.gumbel_temperature = read(json, "gumbel_temperature", options.gumbel_temperature);
  options.gumbel_at_inference = read(json, "gumbel_at_inference", options.gumbel_at_inference);
  options.insertion = method_util::read_insertion(json, "insertion", options.insertion, kWhere);
  options.init = method_util::parse_prompt_init(read(json, "init", to_string(options.init)), kWhere);
  options.uniform_range = read(json, "uniform_range", options.uniform_range);
  options.vocab_sample_first_ids = read(json, "vocab_sample_first_ids", options.vocab_sample_first_ids);
  options.init_token_ids = read(json, "init_token_ids", options.init_token_ids);
  return options;
}

nlohmann::json SmopOptions::to_json() const {
  return {{"num_prompts", num_prompts},
          {"prompt_length", prompt_length},
          {"routing", to_string(routing)},
          {"top_k", top_k},
          {"noise_std", noise_std},
          {"router_dropout", router_dropout},
          {"load_balancing_weight", load_balancing_weight},
          {"gumbel_temperature", gumbel_temperature},
          {"gumbel_at_inference", gumbel_at_inference},
          {"insertion", to_string(insertion)},
          {"init", to_string(init)},
          {"uniform_range", uniform_range},
          {"vocab_sample_first_ids", vocab_sample_first_ids},
          {"init_token_ids", init_token_ids}};
}

void SmopOptions::validate() const {
  if (num_prompts < 1) fail(kWhere, ": num_prompts must be at least 1, got ", num_prompts);
  if (prompt_length < 1) fail(kWhere, ": prompt_length must be at least 1, got ", prompt_length);
  if (routing == SmopRouting::topk && (top_k < 1 || top_k > num_prompts)) {
    fail(kWhere, ": top_k must lie in [1, num_prompts = ", num_prompts, "], got ", top_k);
  }
  if (noise_std < 0) fail(kWhere, ": noise_std must be >= 0, got ", noise_std);
  if (router_dropout < 0 || router_dropout >= 1)
    fail(kWhere, ": router_dropout must lie in [0, 1), got ", router_dropout);
  if (load_balancing_weight < 0) fail(kWhere, ": load_balancing_weight must be >= 0");
  if (!(gumbel_temperature > 0)) fail(kWhere, ": gumbel_temperature must be positive");
  if (!(uniform_range > 0)) fail(kWhere, ": uniform_range must be positive");
  if (vocab_sample_first_ids < 0) fail(kWhere, ": vocab_sample_first_ids must be >= 0 (0 = whole vocabulary)");
  if (init == method_util::PromptInit::text && init_token_ids.empty())
    fail(kWhere, ": init 'text' needs init_token_ids");
}

void SmopImpl::attach(BackboneImpl& backbone) {
  hidden_ = backbone.geometry().hidden;
  const std::int64_t k = options_.num_prompts, l = options_.prompt_length;
  embedding = register_module("embedding", torch::nn::Embedding(k * l, hidden_));
  method_util::PromptInitSpec spec{options_.init, options_.uniform_range, options_.vocab_sample_first_ids,
                                   options_.init_token_ids, method_util::TextFill::repeat};
  if (options_.init == method_util::PromptInit::text) {
    // Every prompt starts from the same text (repeated or cut to l).
    torch::NoGradGuard no_grad;
    torch::Tensor table = embedding->weight.view({k, l, hidden_});
    for (std::int64_t i = 0; i < k; ++i) {
      torch::Tensor rows = table[i];
      method_util::init_prompt_table(rows, spec, backbone.word_embeddings(), kWhere);
    }
  } else {
    method_util::init_prompt_table(embedding->weight, spec, backbone.word_embeddings(), kWhere);
  }
  if (options_.routing != SmopRouting::random) {
    router = register_module("router", Dense(hidden_, k, /*with_bias=*/false));
    torch::NoGradGuard no_grad;
    torch::nn::init::orthogonal_(router->weight);
  }
  training_counts_.assign(static_cast<std::size_t>(k), 0);
  evaluation_counts_.assign(static_cast<std::size_t>(k), 0);
}

void SmopImpl::reset_counts() {
  std::fill(training_counts_.begin(), training_counts_.end(), 0);
  std::fill(evaluation_counts_.begin(), evaluation_counts_.end(), 0);
}

Injection SmopImpl::inject(const BackboneInput& input, BackboneImpl& backbone) {
  TORCH_CHECK(embedding, "smop: inject() before attach()");
  const torch::Tensor& ids = input.input_ids;
  const std::int64_t batch = ids.size(0), k = options_.num_prompts, l = options_.prompt_length;
  const bool training = is_training();
  torch::Tensor table = embedding->weight.view({k, l, hidden_});
  auxiliary_loss_ = torch::Tensor();
  std::vector<std::int64_t>& counts = training ? training_counts_ : evaluation_counts_;
  auto count = [&](const torch::Tensor& chosen) {
    torch::Tensor flat = chosen.reshape({-1}).to(torch::kCPU);
    const auto* data = flat.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < flat.numel(); ++i) ++counts[static_cast<std::size_t>(data[i])];
  };

  Injection injection;
  injection.insertion = options_.insertion;

  if (options_.routing == SmopRouting::random) {
    if (training) {
      torch::Tensor chosen = torch::randint(0, k, {batch}, ids.options().dtype(torch::kInt64));
      count(chosen);
      injection.input_prefix = table.index_select(0, chosen.to(table.device()));
    } else {
      injection.input_prefix = table.mean(0).unsqueeze(0).expand({batch, l, hidden_});
    }
    return injection;
  }

  // Masked mean of the input tokens' word embeddings (official: inputs_embeds = word
  // embeddings of input_ids, summed over attention_mask, divided by max(count, 1)).
  torch::Tensor words = backbone.embed_ids(ids);
  torch::Tensor mask = input.attention_mask.defined() ? input.attention_mask.to(words.dtype())
                                                      : torch::ones({batch, ids.size(1)}, words.options());
  torch::Tensor sentence = (words * mask.unsqueeze(-1)).sum(1) / mask.sum(1, /*keepdim=*/true).clamp_min(1.0);
  torch::Tensor logits = router->forward(sentence);  // [B, k]

  const bool learned_noise_variant = options_.routing == SmopRouting::top1 || options_.routing == SmopRouting::topk ||
                                     options_.routing == SmopRouting::dense;
  if (training && learned_noise_variant && options_.noise_std > 0) {
    logits = logits + options_.noise_std * torch::randn_like(logits) * logits.detach();
  } else if (training && options_.router_dropout > 0) {
    logits = torch::dropout(logits, options_.router_dropout, /*train=*/true);
  }
  torch::Tensor probs = torch::softmax(logits, -1);

  if (options_.routing == SmopRouting::dense) {
    count(probs.argmax(-1));
    injection.input_prefix = ops::matmul(probs, table.reshape({k, l * hidden_})).view({batch, l, hidden_});
    return injection;
  }

  torch::Tensor weights, chosen, balance_probs = probs;
  if (options_.routing == SmopRouting::gumbel) {
    if (training || options_.gumbel_at_inference) {
      // Official gumbel_softmax(probs, k=1, hard=True): Gumbel noise added to the probabilities,
      // softmax at the temperature, one-hot of the top entry with a straight-through gradient.
      torch::Tensor uniform = torch::rand_like(probs).clamp_min(std::numeric_limits<float>::min());
      torch::Tensor soft = torch::softmax((probs - torch::log(-torch::log(uniform))) / options_.gumbel_temperature, -1);
      chosen = soft.argmax(-1, /*keepdim=*/true);
      torch::Tensor hard = torch::zeros_like(soft).scatter_(1, chosen, 1.0);
      torch::Tensor straight_through = hard - soft.detach() + soft;
      weights = straight_through.gather(1, chosen);
      balance_probs = straight_through;
    } else {
      chosen = probs.argmax(-1, /*keepdim=*/true);
      weights = torch::ones({batch, 1}, probs.options());
    }
  } else {
    const std::int64_t top = options_.routing == SmopRouting::topk ? options_.top_k : 1;
    auto [values, indices] = probs.topk(top, -1);
    weights = values;
    chosen = indices;
  }
  count(chosen);
  const std::int64_t chosen_per_example = chosen.size(1);
  torch::Tensor picked = table.index_select(0, chosen.reshape({-1})).view({batch, chosen_per_example, l, hidden_});
  injection.input_prefix = (picked * weights.view({batch, chosen_per_example, 1, 1})).sum(1);

  if (training && options_.load_balancing_weight > 0) {
    // Official balancing_loss = alpha · n_routes · Σ_i mean_b(p_bi) · (share routed to i).
    torch::Tensor share = torch::bincount(chosen.reshape({-1}), {}, k).to(probs.dtype()) /
                          static_cast<double>(batch * chosen_per_example);
    auxiliary_loss_ = options_.load_balancing_weight * static_cast<double>(k) * (balance_probs.mean(0) * share).sum();
  }
  return injection;
}

nlohmann::json SmopImpl::run_report() const {
  return {{"routing", to_string(options_.routing)},
          {"routed_examples", {{"training", training_counts_}, {"evaluation", evaluation_counts_}}}};
}

std::int64_t SmopImpl::closed_form_parameters(const BackboneGeometry& geometry) const {
  const std::int64_t H = geometry.hidden, k = options_.num_prompts, l = options_.prompt_length;
  return k * l * H + (options_.routing == SmopRouting::random ? 0 : k * H);
}

}  // namespace ptbench
