// Meters (DESIGN.md section 3): timing statistics, process counters (peak RSS, CPU time, page
// faults), FLOPs (backbones/ops.h) and the environment a run records.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ptbench {

struct TimingStats {
  double median = 0, p10 = 0, p90 = 0, mean = 0;
  std::int64_t count = 0;
  static TimingStats of(std::vector<double> samples);
  nlohmann::json to_json(const std::string& unit) const;
};

// getrusage(RUSAGE_SELF) snapshot.
struct ProcessCounters {
  double user_seconds = 0, system_seconds = 0;
  std::int64_t minor_faults = 0, major_faults = 0;
  double peak_rss_mb = 0;
  static ProcessCounters now();
  ProcessCounters since(const ProcessCounters& earlier) const;  // differences (peak stays absolute)
  nlohmann::json to_json() const;
};

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double elapsed_ms() const {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

// Keeps freed memory mapped instead of returning it to the kernel on every step (glibc malloc:
// no mmap per allocation, no trimming). Measured on the reference Python stack here:
// re-faulting released activations cost half the inference time.
// Returns the settings applied, for the run record.
nlohmann::json configure_allocator();

// LibTorch version, the BLAS library actually mapped into the process, threads, device, host,
// git commit of the source tree.
nlohmann::json environment_info();

std::string iso_time_now();

}  // namespace ptbench
