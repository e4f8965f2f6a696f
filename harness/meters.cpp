#include "harness/meters.h"

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <limits>
#include <numeric>

#include <torch/torch.h>
#include <torch/version.h>

namespace ptbench {

TimingStats TimingStats::of(std::vector<double> samples) {
  TimingStats stats;
  stats.count = static_cast<std::int64_t>(samples.size());
  if (samples.empty()) return stats;
  std::sort(samples.begin(), samples.end());
  // Linear interpolation between closest ranks (numpy's default percentile).
  auto percentile = [&](double q) {
    const double position = q * static_cast<double>(samples.size() - 1);
    const std::size_t below = static_cast<std::size_t>(position);
    const std::size_t above = std::min(below + 1, samples.size() - 1);
    return samples[below] + (position - static_cast<double>(below)) * (samples[above] - samples[below]);
  };
  stats.median = percentile(0.5);
  stats.p10 = percentile(0.1);
  stats.p90 = percentile(0.9);
  stats.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(samples.size());
  return stats;
}

nlohmann::json TimingStats::to_json(const std::string& unit) const {
  return {{"median_" + unit, median}, {"p10_" + unit, p10}, {"p90_" + unit, p90}, {"mean_" + unit, mean}, {"count", count}};
}

ProcessCounters ProcessCounters::now() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  ProcessCounters counters;
  counters.user_seconds = static_cast<double>(usage.ru_utime.tv_sec) + usage.ru_utime.tv_usec / 1e6;
  counters.system_seconds = static_cast<double>(usage.ru_stime.tv_sec) + usage.ru_stime.tv_usec / 1e6;
  counters.minor_faults = usage.ru_minflt;
  counters.major_faults = usage.ru_majflt;
  counters.peak_rss_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
  return counters;
}

ProcessCounters ProcessCounters::since(const ProcessCounters& earlier) const {
  ProcessCounters delta = *this;
  delta.user_seconds -= earlier.user_seconds;
  delta.system_seconds -= earlier.system_seconds;
  delta.minor_faults -= earlier.minor_faults;
  delta.major_faults -= earlier.major_faults;
  return delta;
}

nlohmann::json ProcessCounters::to_json() const {
  return {{"user_s", user_seconds},
          {"system_s", system_seconds},
          {"minor_page_faults", minor_faults},
          {"major_page_faults", major_faults},
          {"peak_rss_mb", peak_rss_mb}};
}

nlohmann::json configure_allocator() {
  // Serve every allocation from the heap (no per-allocation mmap) and never trim it: a tensor
  // freed after one step is reused by the next without the kernel zero-filling its pages again.
  // Training bert-base (B16, L128) otherwise re-faulted ~170k pages per step (the 94 MB word
  // embedding gradient and the optimizer's temporaries exceed glibc's 32 MiB mmap ceiling).
  const bool mmap_off = mallopt(M_MMAP_MAX, 0) == 1;
  const bool trim_off = mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max()) == 1;
  const bool top_pad = mallopt(M_TOP_PAD, 64 << 20) == 1;
  // Worker threads' arenas are mmap'd heaps of at most 64 MiB; a larger request there falls back
  // to a fresh mmap whatever M_MMAP_MAX says. One arena keeps those blocks in the reused heap.
  const bool one_arena = mallopt(M_ARENA_MAX, 1) == 1;
  return {{"malloc_mmap_max", mmap_off ? 0 : -1},
          {"malloc_trim_threshold_bytes", trim_off ? std::numeric_limits<int>::max() : -1},
          {"malloc_top_pad_bytes", top_pad ? (64 << 20) : -1},
          {"malloc_arena_max", one_arena ? 1 : -1}};
}

namespace {

std::string blas_library() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  std::string found;
  while (std::getline(maps, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    if (path.find("openblas") != std::string::npos || path.find("libblas") != std::string::npos ||
        path.find("mkl") != std::string::npos || path.find("blis") != std::string::npos) {
      found = path;
      if (path.find("openblas") != std::string::npos || path.find("mkl") != std::string::npos) break;
    }
  }
  // libblas.so.3 is a Debian alternative: resolve the link to see which implementation it is.
  std::error_code ec;
  if (!found.empty()) {
    const auto resolved = std::filesystem::canonical(found, ec);
    if (!ec) found = resolved.string();
  }
  return found.empty() ? "unknown" : found;
}

std::string command_output(const std::string& command) {
  std::array<char, 256> buffer{};
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return "";
  while (fgets(buffer.data(), buffer.size(), pipe)) output += buffer.data();
  pclose(pipe);
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
  return output;
}

}  // namespace

nlohmann::json environment_info() {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  const std::string commit =
      command_output("git -C '" + std::string(PTBENCH_SOURCE_DIR) + "' rev-parse --short=12 HEAD 2>/dev/null");
  const std::string dirty = command_output("git -C '" + std::string(PTBENCH_SOURCE_DIR) +
                                           "' status --porcelain --untracked-files=no 2>/dev/null | head -1");
  return {{"ptbench_version", PTBENCH_VERSION},
          {"git_commit", commit.empty() ? "unknown" : commit + (dirty.empty() ? "" : "-dirty")},
          {"libtorch_version", TORCH_VERSION},
          {"blas", blas_library()},
          {"threads", torch::get_num_threads()},
          {"device", torch::cuda::is_available() ? "cuda" : "cpu"},
          {"cuda_devices", torch::cuda::is_available() ? torch::cuda::device_count() : 0},
          {"host", host},
          {"cores", static_cast<std::int64_t>(sysconf(_SC_NPROCESSORS_ONLN))}};
}

std::string iso_time_now() {
  const std::time_t now = std::time(nullptr);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buffer;
}

}  // namespace ptbench
