#include "harness/config.h"

#include <algorithm>

#include "common/error.h"

namespace ptbench {

nlohmann::json parse_set_override(const std::string& assignment) {
  const auto equals = assignment.find('=');
  if (equals == std::string::npos || equals == 0) {
    fail("--set expects key=value (e.g. --set train.lr=3e-4), got '", assignment, "'");
  }
  const std::string key = assignment.substr(0, equals);
  const std::string text = assignment.substr(equals + 1);
  nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = text;
  nlohmann::json patch = value;
  std::size_t end = key.size();
  while (true) {
    const auto dot = key.rfind('.', end - 1);
    const std::string part = key.substr(dot == std::string::npos ? 0 : dot + 1,
                                        end - (dot == std::string::npos ? 0 : dot + 1));
    if (part.empty()) fail("--set key '", key, "' has an empty component");
    patch = nlohmann::json{{part, patch}};
    if (dot == std::string::npos) break;
    end = dot;
  }
  return patch;
}

void apply_merge_patch(nlohmann::json& target, const nlohmann::json& patch) { target.merge_patch(patch); }

namespace {

std::string type_name(const nlohmann::json& value) {
  if (value.is_number_integer()) return "an integer";
  if (value.is_number()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_boolean()) return "true or false";
  if (value.is_array()) return "a list";
  if (value.is_object()) return "an object";
  return "null";
}

bool compatible(const nlohmann::json& given, const nlohmann::json& schema) {
  if (schema.is_null() || given.is_null()) return true;
  if (schema.is_number_integer()) return given.is_number_integer() ||
                                         (given.is_number_float() && given.get<double>() == static_cast<double>(static_cast<long long>(given.get<double>())));
  if (schema.is_number()) return given.is_number();
  if (schema.is_string()) return given.is_string();
  if (schema.is_boolean()) return given.is_boolean();
  if (schema.is_array()) return given.is_array();
  if (schema.is_object()) return given.is_object();
  return false;
}

void check(const nlohmann::json& given, const nlohmann::json& schema, const std::string& path,
           const std::string& where) {
  if (!given.is_object()) return;
  std::vector<std::string> known;
  for (const auto& [key, value] : schema.items()) known.push_back(key);
  for (const auto& [key, value] : given.items()) {
    const std::string full = path.empty() ? key : path + "." + key;
    if (!schema.contains(key)) {
      fail("unknown key '", full, "' in ", where, suggestion_suffix(key, known),
           known.empty() ? std::string(" (it takes no options)") : " (valid: " + join(known, ", ") + ")");
    }
    const nlohmann::json& expected = schema.at(key);
    if (!compatible(value, expected)) {
      fail("key '", full, "' in ", where, " must be ", type_name(expected), ", got ", value.dump());
    }
    if (expected.is_object() && !expected.empty()) check(value, expected, full, where);
  }
}

}  // namespace

void check_known_keys(const nlohmann::json& given, const nlohmann::json& schema, const std::string& where) {
  if (!given.is_null() && !given.is_object()) fail(where, " must be a JSON object, got ", given.dump());
  check(given, schema, "", where);
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string suggestion_suffix(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::string::npos;
  for (const std::string& candidate : candidates) {
    const std::size_t d = edit_distance(name, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  const std::size_t limit = std::max<std::size_t>(2, name.size() / 3);
  if (best.empty() || best_distance > limit) return "";
  return " (did you mean '" + best + "'?)";
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string result;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) result += separator;
    result += parts[i];
  }
  return result;
}

}  // namespace ptbench
