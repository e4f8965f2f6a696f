// Configuration helpers: JSON merge-patch layering (RFC 7396, never a shallow merge),
// `--set key=value` overrides, and strict validation against a schema of defaults that names
// an unknown key and the nearest valid one.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ptbench {

// "train.lr=3e-4" → {"train": {"lr": 0.0003}}. The value is parsed as JSON when it is valid JSON
// (numbers, true/false, null, arrays, objects, quoted strings), otherwise taken as a string.
nlohmann::json parse_set_override(const std::string& assignment);

// Applies JSON merge-patch (RFC 7396): objects merge recursively, null deletes, anything else
// replaces.
void apply_merge_patch(nlohmann::json& target, const nlohmann::json& patch);

// Every key of `given` must exist in `schema` (recursively for objects). A schema value of null
// accepts anything; otherwise the given value must have a compatible type (any number for a
// number, integer for an integer). `where` prefixes key paths in messages ("method (prefix)").
void check_known_keys(const nlohmann::json& given, const nlohmann::json& schema, const std::string& where);

// " (did you mean 'x'?)" for the candidate nearest to `name` by edit distance, or "" when
// nothing is close.
std::string suggestion_suffix(const std::string& name, const std::vector<std::string>& candidates);

std::size_t edit_distance(const std::string& a, const std::string& b);
std::string join(const std::vector<std::string>& parts, const std::string& separator);

}  // namespace ptbench
