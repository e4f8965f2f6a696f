// Paths and child processes every test uses. ../shared sits beside the checkout (CI and developers alike); the
// environment variable PTBENCH_SHARED overrides it.
#pragma once

#include <filesystem>
#include <string>

namespace ptbench::testing {

std::filesystem::path source_dir();
std::filesystem::path shared_dir();
std::filesystem::path golden_dir();
std::filesystem::path fixtures_dir();
// The built ptbench executable.
std::filesystem::path ptbench_binary();
// A fresh empty temporary folder, removed when the process exits.
std::filesystem::path temp_dir(const std::string& name);

struct CommandResult {
  int exit_code = -1;  // -1 when the command could not start or did not exit normally
  std::string output;  // stdout and stderr together
};
// Runs a shell command line, stderr folded into stdout.
CommandResult run_shell(const std::string& command);
// Runs the ptbench executable under test with `arguments` (shell syntax).
CommandResult run_ptbench(const std::string& arguments);

}  // namespace ptbench::testing
