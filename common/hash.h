#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace ptbench {

// Lower-case hex SHA-1 of a byte string.
std::string sha1_hex(const std::string& bytes);

// Stable id of a JSON value: SHA-1 of its canonical dump (keys sorted, no spaces), first
// `length` hex digits. Used for run ids, so it must never change between versions.
std::string stable_json_id(const nlohmann::json& value, std::size_t length = 16);

}  // namespace ptbench
