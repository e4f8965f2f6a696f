// The method seam (DESIGN.md section 3, "Method"): a method creates its trainable modules from
// the backbone's geometry, decides what of the backbone is frozen, and produces the Injection
// per batch. It never branches on the backbone type beyond its geometry.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>

#include "backbones/backbone.h"

namespace ptbench {

class MethodImpl : public torch::nn::Module {
 public:
  ~MethodImpl() override = default;

  virtual std::string name() const = 0;
  // The resolved options (every field, defaults filled in), as recorded in run records.
  virtual nlohmann::json options_json() const = 0;
  // Whether every backbone parameter trains (full fine-tuning). When false the backbone is
  // frozen: its parameters get requires_grad = false.
  virtual bool trains_backbone() const { return false; }
  // Creates the method's modules for this backbone. Called once, before training.
  virtual void attach(BackboneImpl& backbone) = 0;
  // The injection for one batch. `training` is the model's mode (noise, dropout, routing).
  virtual Injection inject(const BackboneInput& input, BackboneImpl& backbone) = 0;
  // Extra figures for the run record (e.g. SMoP's per-prompt routing counts); empty by default.
  virtual nlohmann::json run_report() const { return nlohmann::json::object(); }
  // An extra loss term produced by the last inject() in training mode (SMoP's load-balancing
  // loss), to be added to the task loss before backward; undefined when the method has none.
  virtual torch::Tensor auxiliary_loss() const { return {}; }
  // Closed-form count of the method's own trainable parameters for a geometry (head excluded),
  // documented per method in the README.
  virtual std::int64_t closed_form_parameters(const BackboneGeometry& geometry) const = 0;
};

using Method = std::shared_ptr<MethodImpl>;

// Builds a method from its options (a JSON object; missing fields take their defaults).
// Unknown fields are errors naming the field and the nearest known one.
using MethodFactory = std::function<Method(const nlohmann::json& options)>;

struct MethodEntry {
  std::string name;
  std::string summary;               // one line for `ptbench info`
  nlohmann::json default_options;    // every option with its default
  MethodFactory make;
};

// The explicit registration list (methods/registry.cpp). Names are unique.
const std::vector<MethodEntry>& method_registry();
const MethodEntry& find_method(const std::string& name);  // Error listing the known names
Method make_method(const std::string& name, const nlohmann::json& options);

}  // namespace ptbench
