// Full fine-tuning: every backbone parameter and the task head train; no injection.
#pragma once

#include "methods/method.h"

namespace ptbench {

struct FullOptions {
  static FullOptions from_json(const nlohmann::json& json);
  nlohmann::json to_json() const { return nlohmann::json::object(); }
  void validate() const {}
};

class FullImpl : public MethodImpl {
 public:
  explicit FullImpl(FullOptions options) : options_(options) {}
  std::string name() const override { return "full"; }
  nlohmann::json options_json() const override { return options_.to_json(); }
  bool trains_backbone() const override { return true; }
  void attach(BackboneImpl&) override {}
  Injection inject(const BackboneInput&, BackboneImpl&) override { return {}; }
  std::int64_t closed_form_parameters(const BackboneGeometry&) const override { return 0; }

 private:
  FullOptions options_;
};

}  // namespace ptbench
