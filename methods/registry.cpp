#include <mutex>

#include "common/error.h"
#include "harness/config.h"
#include "methods/full.h"
#include "methods/method.h"
#include "methods/prefix.h"
#include "methods/prompt.h"
#include "methods/ptuning.h"
#include "methods/smop.h"

namespace ptbench {

FullOptions FullOptions::from_json(const nlohmann::json& json) {
  check_known_keys(json, FullOptions{}.to_json(), "method (full)");
  return {};
}

namespace {

template <typename Options, typename Impl>
MethodEntry entry(const std::string& name, const std::string& summary) {
  return MethodEntry{name, summary, Options{}.to_json(), [](const nlohmann::json& json) -> Method {
                       Options options = Options::from_json(json);
                       options.validate();
                       return std::make_shared<Impl>(options);
                     }};
}

std::vector<MethodEntry> build_registry() {
  std::vector<MethodEntry> entries = {
      entry<FullOptions, FullImpl>("full", "full fine-tuning: every backbone parameter and the head train"),
      entry<PromptOptions, PromptImpl>("prompt",
                                       "prompt tuning (Lester et al. 2021): P soft tokens prepended to the input"),
      entry<PTuningOptions, PTuningImpl>("ptuning",
                                         "P-Tuning v1: soft tokens from a trainable LSTM or MLP prompt encoder"),
      entry<PrefixOptions, PrefixImpl>("prefix",
                                       "P-Tuning v2 deep prefix tuning: trainable key/value prefixes in every layer"),
      entry<SmopOptions, SmopImpl>("smop", "SMoP: a router picks one of k short soft prompts per example"),
  };
  for (std::size_t i = 0; i < entries.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (entries[i].name == entries[j].name) fail("method '", entries[i].name, "' is registered twice");
  return entries;
}

}  // namespace

const std::vector<MethodEntry>& method_registry() {
  static std::once_flag once;
  static std::vector<MethodEntry> entries;
  std::call_once(once, [] { entries = build_registry(); });
  return entries;
}

const MethodEntry& find_method(const std::string& name) {
  std::vector<std::string> known;
  for (const MethodEntry& entry : method_registry()) {
    if (entry.name == name) return entry;
    known.push_back(entry.name);
  }
  fail("unknown method '", name, "'", suggestion_suffix(name, known), " (known: ", join(known, ", "), ")");
}

Method make_method(const std::string& name, const nlohmann::json& options) {
  return find_method(name).make(options.is_null() ? nlohmann::json::object() : options);
}

}  // namespace ptbench
