#include "backbones/tokenizers/spm_backend.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

#include "common/error.h"

namespace ptbench::tok {
namespace fs = std::filesystem;

namespace {

using CreateFunction = SpmBackend* (*)(const char*, std::string*);

fs::path executable_dir() {
  char buffer[4096] = {0};
  const ssize_t n = readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  return n > 0 ? fs::path(std::string(buffer, n)).parent_path() : fs::path(".");
}

CreateFunction load_plugin() {
  static std::once_flag once;
  static CreateFunction create = nullptr;
  static std::string failure;
  std::call_once(once, [] {
    std::vector<fs::path> candidates;
    if (const char* env = std::getenv("PTBENCH_SPM_PLUGIN"); env && *env) candidates.emplace_back(env);
    const fs::path here = executable_dir();
    candidates.push_back(here / "libptbench_spm.so");
    candidates.push_back(here.parent_path() / "libptbench_spm.so");
    candidates.push_back(here.parent_path() / "lib" / "ptbench" / "libptbench_spm.so");
    candidates.emplace_back(PTBENCH_SPM_PLUGIN_PATH);
    std::string tried;
    for (const fs::path& candidate : candidates) {
      std::error_code ec;
      if (!fs::exists(candidate, ec)) {
        tried += " " + candidate.string();
        continue;
      }
      // RTLD_LOCAL keeps the plugin's (and libsentencepiece's) protobuf out of the global
      // namespace; RTLD_DEEPBIND makes libsentencepiece resolve its own copy first.
      void* handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
      if (!handle) {
        failure = "cannot load the SentencePiece plugin " + candidate.string() + ": " + dlerror();
        return;
      }
      create = reinterpret_cast<CreateFunction>(dlsym(handle, "ptbench_spm_create"));
      if (!create) failure = "the SentencePiece plugin " + candidate.string() + " lacks ptbench_spm_create";
      return;  // the handle stays open for the life of the process
    }
    failure = "the SentencePiece plugin libptbench_spm.so was not found (tried" + tried +
              "); build it with `make build` or point PTBENCH_SPM_PLUGIN at it";
  });
  if (!create) fail(failure);
  return create;
}

}  // namespace

std::unique_ptr<SpmBackend> load_spm_backend(const fs::path& model) {
  std::error_code ec;
  if (!fs::exists(model, ec)) fail("cannot read ", model.string(), ": no such file");
  CreateFunction create = load_plugin();
  std::string error;
  SpmBackend* backend = create(model.c_str(), &error);
  if (!backend) fail(model.string(), ": not a SentencePiece model (", error, ")");
  return std::unique_ptr<SpmBackend>(backend);
}

}  // namespace ptbench::tok
