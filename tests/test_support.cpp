#include "tests/test_support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace ptbench::testing {
namespace fs = std::filesystem;

fs::path source_dir() { return fs::path(PTBENCH_SOURCE_DIR); }

fs::path shared_dir() {
  if (const char* env = std::getenv("PTBENCH_SHARED"); env && *env) return env;
  return fs::weakly_canonical(source_dir() / ".." / "shared");
}

fs::path golden_dir() { return shared_dir() / "golden"; }
fs::path fixtures_dir() { return source_dir() / "tests" / "fixtures"; }
fs::path ptbench_binary() { return fs::path(PTBENCH_TEST_BINARY_DIR) / "ptbench"; }

namespace {
std::mutex temp_mutex;
std::vector<fs::path>& temp_dirs() {
  static std::vector<fs::path> dirs;
  return dirs;
}
void remove_temp_dirs() {
  std::error_code ec;
  for (const fs::path& dir : temp_dirs()) fs::remove_all(dir, ec);
}
}  // namespace

fs::path temp_dir(const std::string& name) {
  std::lock_guard lock(temp_mutex);
  if (temp_dirs().empty()) std::atexit(remove_temp_dirs);
  const fs::path dir = fs::temp_directory_path() /
                       ("ptbench-test-" + std::to_string(::getpid()) + "-" + name + "-" +
                        std::to_string(temp_dirs().size()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  temp_dirs().push_back(dir);
  return dir;
}

CommandResult run_shell(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer{};
  while (std::size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) result.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

CommandResult run_ptbench(const std::string& arguments) {
  return run_shell("'" + ptbench_binary().string() + "' " + arguments);
}

}  // namespace ptbench::testing
