#include "common/paths.h"

#include <cstdlib>

namespace ptbench {
namespace fs = std::filesystem;

namespace {
fs::path from_env(const char* name) {
  const char* value = std::getenv(name);
  return value && *value ? fs::path(value) : fs::path();
}
}  // namespace

fs::path shared_dir() {
  if (fs::path env = from_env("PTBENCH_SHARED"); !env.empty()) return env;
  for (const fs::path& candidate : {fs::path("../shared"), fs::path(PTBENCH_DEFAULT_SHARED_DIR)}) {
    std::error_code ec;
    if (fs::is_directory(candidate, ec)) return fs::weakly_canonical(candidate, ec);
  }
  return fs::path(".");
}

fs::path data_dir() {
  if (fs::path env = from_env("PTBENCH_DATA"); !env.empty()) return env;
  const fs::path shared = shared_dir() / "data";
  std::error_code ec;
  return fs::is_directory(shared, ec) ? shared : fs::path("data");
}

fs::path models_dir() {
  if (fs::path env = from_env("PTBENCH_MODELS"); !env.empty()) return env;
  return fs::path("models");
}

fs::path vocab_dir() { return shared_dir() / "vocab"; }

fs::path resolve_model_path(const std::string& name_or_path) {
  std::error_code ec;
  const fs::path direct(name_or_path);
  if (fs::is_directory(direct, ec)) return direct;
  const fs::path named = models_dir() / name_or_path;
  if (fs::is_directory(named, ec)) return named;
  return direct;
}

}  // namespace ptbench
