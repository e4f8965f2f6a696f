// `ptbench bench`: times training steps (forward + backward + optimizer) and inference batches
// of one backbone × method on random inputs, counts their FLOPs, and measures the machine's
// fp32 GEMM rate in the same process so the two can be compared as a ratio.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ptbench {

struct BenchOptions {
  std::string geometry;            // named geometry (random weights), or
  std::string backbone;            // a model folder
  std::string method = "full";
  nlohmann::json method_options = nlohmann::json::object();
  std::int64_t batch = 16;
  std::int64_t seq = 128;
  std::int64_t num_labels = 2;     // sequence-classification head size (encoders)
  std::int64_t target_seq = 4;     // encoder-decoder: decoder (target) length, e.g. a label word + </s>
  std::int64_t warmup_steps = 5;   // untimed steps first: the heap grows (first-touch page faults) for ~4 steps
  std::int64_t steps = 5;          // timed training steps
  std::int64_t infer_batches = 5;  // timed inference batches
  std::int64_t gemm_size = 2048;   // n of the n×n×n fp32 GEMM measured (0 skips)
  std::int64_t threads = 0;        // 0 = all cores
  std::uint64_t seed = 0;
};

// Runs one benchmark in this process and returns its figures.
nlohmann::json run_bench(const BenchOptions& options);

// fp32 GEMM rate of an n×n×n product (median of 5 after one warm-up), GFLOP/s.
double measure_gemm_gflops(std::int64_t n);

}  // namespace ptbench
