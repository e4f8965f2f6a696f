#include "common/hash.h"

#include <cstdio>

#include <boost/uuid/detail/sha1.hpp>

namespace ptbench {

std::string sha1_hex(const std::string& bytes) {
  boost::uuids::detail::sha1 hasher;
  hasher.process_bytes(bytes.data(), bytes.size());
  boost::uuids::detail::sha1::digest_type digest;
  hasher.get_digest(digest);
  std::string hex;
  char buffer[9];
  for (unsigned word : digest) {
    std::snprintf(buffer, sizeof buffer, "%08x", word);
    hex += buffer;
  }
  return hex;
}

std::string stable_json_id(const nlohmann::json& value, std::size_t length) {
  // nlohmann::json stores objects in std::map, so dump() is already key-sorted.
  return sha1_hex(value.dump()).substr(0, length);
}

}  // namespace ptbench
