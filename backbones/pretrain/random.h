// Random numbers for the pretraining data path whose sequence is fixed by the C++ standard, so a
// corpus stream, a masking pattern or a span layout is the same on every compiler and library:
// std::mt19937_64 is specified bit for bit, std::uniform_int_distribution and friends are not.
// The generator's state round-trips through text (checkpoints) exactly.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>

namespace ptbench::pretrain {

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) : engine_(seed) {}

  // A generator seeded from several numbers (seed, step, micro-batch, purpose), mixed with
  // splitmix64 so nearby inputs give unrelated streams.
  static Rng derived(std::initializer_list<std::uint64_t> parts);

  std::uint64_t next_u64() { return engine_(); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n), n > 0, without modulo bias (rejection sampling).
  std::uint64_t below(std::uint64_t n);
  bool bernoulli(double p) { return uniform() < p; }

  // The engine state as text (the standard's operator<< format) and back.
  std::string state() const;
  void restore(const std::string& state);

 private:
  std::mt19937_64 engine_;
};

// splitmix64 finaliser: a well-mixed 64-bit hash of x.
std::uint64_t mix64(std::uint64_t x);

}  // namespace ptbench::pretrain
