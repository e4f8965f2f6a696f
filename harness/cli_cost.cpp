// `ptbench cost`: the closed-form cost of a method on a geometry (harness/cost.h), without
// building or training a model: trainable parameters, stored bytes, counted forward and training
// FLOPs per example, and a training-memory estimate.
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include "common/error.h"
#include "harness/cli.h"
#include "harness/config.h"
#include "harness/cost.h"

namespace ptbench {
namespace {

struct CostArguments {
  std::string geometry;
  std::string methods = "full";
  std::vector<std::string> sets;
  std::string head = "seqcls";
  std::string pooling = "auto";
  CostShape shape;
  bool table = false;
};

HeadKind parse_head(const std::string& name) {
  if (name == "seqcls") return HeadKind::sequence_classification;
  if (name == "choice") return HeadKind::multiple_choice;
  if (name == "token") return HeadKind::token_classification;
  if (name == "span") return HeadKind::span_extraction;
  if (name == "seq2seq") return HeadKind::seq2seq;
  fail("unknown --head '", name, "' (known: seqcls, choice, token, span, seq2seq)");
}

std::string human(double value, const char* unit) {
  const char* prefixes[] = {"", "K", "M", "G", "T", "P"};
  int i = 0;
  while (value >= 1000.0 && i < 5) {
    value /= 1000.0;
    ++i;
  }
  char text[48];
  std::snprintf(text, sizeof text, "%.3g %s%s", value, prefixes[i], unit);
  return text;
}

int command_cost(const CostArguments& arguments) {
  std::vector<std::string> names;
  std::stringstream stream(arguments.methods);
  for (std::string name; std::getline(stream, name, ',');)
    if (!name.empty()) names.push_back(name);
  if (names.empty()) fail("cost: --method is empty");
  nlohmann::json method_options = nlohmann::json::object();
  for (const std::string& assignment : arguments.sets) {
    nlohmann::json patch = parse_set_override(assignment);
    if (!patch.contains("method") || patch.size() != 1) fail("cost --set takes method.* keys only, got '", assignment, "'");
    if (names.size() != 1) fail("cost --set applies to one method; give a single --method");
    apply_merge_patch(method_options, patch["method"]);
  }
  CostShape shape = arguments.shape;
  shape.head = parse_head(arguments.head);
  shape.pooling = parse_head_pooling(arguments.pooling);
  const nlohmann::json config = cost_model_config(arguments.geometry);

  std::vector<CostEstimate> estimates;
  for (const std::string& name : names) estimates.push_back(estimate_cost(config, name, method_options, shape));

  if (!arguments.table) {
    if (estimates.size() == 1) {
      std::cout << estimates[0].to_json().dump(2) << "\n";
    } else {
      nlohmann::json all = nlohmann::json::array();
      for (const CostEstimate& estimate : estimates) all.push_back(estimate.to_json());
      std::cout << all.dump(2) << "\n";
    }
    return 0;
  }
  std::printf("%s, batch %lld, seq %lld\n", arguments.geometry.c_str(), static_cast<long long>(shape.batch),
              static_cast<long long>(shape.seq));
  std::printf("%-9s %14s %11s %12s %16s %17s %14s\n", "method", "trainable", "trainable%", "stored", "forward/example",
              "training/example", "train memory");
  for (const CostEstimate& e : estimates) {
    const double percent = 100.0 * static_cast<double>(e.trainable_parameters) / static_cast<double>(e.total_parameters);
    std::printf("%-9s %14lld %10.4f%% %12s %16s %17s %14s\n", e.method.c_str(),
                static_cast<long long>(e.trainable_parameters), percent,
                human(static_cast<double>(e.stored_bytes), "B").c_str(),
                human(e.forward_flops_per_example(), "FLOP").c_str(), human(e.training_flops_per_example(), "FLOP").c_str(),
                human(static_cast<double>(e.memory.total()), "B").c_str());
  }
  return 0;
}

}  // namespace

CliCommand add_cost_command(CLI::App& app) {
  auto arguments = std::make_shared<CostArguments>();
  CLI::App* cost = app.add_subcommand(
      "cost", "closed-form parameters, stored bytes, FLOPs per example and memory estimate, without training");
  cost->add_option("--geometry", arguments->geometry, "named geometry (bert-tiny … roberta-large) or a model folder / config.json")
      ->required();
  cost->add_option("--method", arguments->methods, "method, or a comma-separated list");
  cost->add_option("--set", arguments->sets, "method options: --set method.length=20")->take_all();
  cost->add_option("--seq", arguments->shape.seq, "input tokens per example (the padded length)")->required();
  cost->add_option("--batch", arguments->shape.batch, "examples per batch (default 1)");
  cost->add_option("--target", arguments->shape.target, "decoder tokens per example (encoder-decoder; 0 = --seq)");
  cost->add_option("--head", arguments->head, "seqcls (default), choice, token, span, seq2seq");
  cost->add_option("--pooling", arguments->pooling, "seqcls head: auto, pooler, first_token_mlp");
  cost->add_option("--labels", arguments->shape.num_labels, "classes of the head (default 2)");
  cost->add_option("--choices", arguments->shape.num_choices, "multiple choice: choices per example (default 2)");
  cost->add_flag("--table", arguments->table, "a short human table instead of JSON");
  return {cost, [arguments] { return command_cost(*arguments); }};
}

}  // namespace ptbench
