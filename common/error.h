// One exception type for every failure a user can cause (bad path, malformed file, unknown
// option). The CLI prints its message on one line and exits with status 2; anything else that
// escapes is a bug and exits with status 1.
#pragma once

#include <stdexcept>
#include <string>

namespace ptbench {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Builds the message from any streamable parts: fail("no file ", path, " (expected ...)").
template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts);

}  // namespace ptbench

#include <sstream>

namespace ptbench {
template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream message;
  (message << ... << parts);
  throw Error(message.str());
}
}  // namespace ptbench
