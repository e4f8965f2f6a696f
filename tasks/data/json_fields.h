// Internal to tasks/data: typed access to the fields of one JSON record with errors that name
// the file, the line (or record) and the field path, e.g.
//   superglue/MultiRC/val.jsonl:12: field passage.questions[3].answers[0].label: missing
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/error.h"

namespace ptbench::data::detail {

class JsonFields {
 public:
  // `where` is the location prefix of every error, e.g. "path/val.jsonl:12";
  // `prefix` is the path of `object` inside the record ("" at the top).
  JsonFields(const nlohmann::json& object, std::string where, std::string prefix = "")
      : object_(object), where_(std::move(where)), prefix_(std::move(prefix)) {
    if (!object_.is_object())
      fail(where_, ": ", prefix_.empty() ? "record" : "field " + prefix_, " is not a JSON object");
  }

  bool has(std::string_view name) const {
    auto it = object_.find(std::string(name));
    return it != object_.end() && !it->is_null();
  }

  const nlohmann::json& get(std::string_view name) const {
    auto it = object_.find(std::string(name));
    if (it == object_.end()) problem(name, "missing");
    return *it;
  }

  std::string string(std::string_view name) const {
    const auto& value = get(name);
    if (!value.is_string()) problem(name, "expected a string, found " + value.dump());
    return value.get<std::string>();
  }

  std::int64_t integer(std::string_view name) const {
    const auto& value = get(name);
    if (!value.is_number_integer()) problem(name, "expected an integer, found " + value.dump());
    return value.get<std::int64_t>();
  }

  bool boolean(std::string_view name) const {
    const auto& value = get(name);
    if (!value.is_boolean()) problem(name, "expected true or false, found " + value.dump());
    return value.get<bool>();
  }

  // A nested object.
  JsonFields object(std::string_view name) const { return JsonFields(get(name), where_, path(name)); }

  // A nested array; calls visit(JsonFields element, index) for objects.
  template <typename Visit>
  void for_each_object(std::string_view name, Visit&& visit) const {
    const auto& value = get(name);
    if (!value.is_array()) problem(name, "expected an array, found " + abbreviated(value));
    for (std::size_t i = 0; i < value.size(); ++i) {
      visit(JsonFields(value[i], where_, path(name) + "[" + std::to_string(i) + "]"), i);
    }
  }

  [[noreturn]] void problem(std::string_view name, const std::string& what) const {
    fail(where_, ": field ", path(name), ": ", what);
  }

  const std::string& where() const { return where_; }
  const nlohmann::json& json() const { return object_; }

 private:
  std::string path(std::string_view name) const {
    return prefix_.empty() ? std::string(name) : prefix_ + "." + std::string(name);
  }
  static std::string abbreviated(const nlohmann::json& value) {
    std::string text = value.dump();
    return text.size() > 60 ? text.substr(0, 57) + "..." : text;
  }

  const nlohmann::json& object_;
  std::string where_;
  std::string prefix_;
};

}  // namespace ptbench::data::detail
