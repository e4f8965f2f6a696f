#include "backbones/pretrain/random.h"

#include <sstream>

#include "common/error.h"

namespace ptbench::pretrain {

std::uint64_t mix64(std::uint64_t x) {
  // splitmix64 (Steele, Lea, Flood 2014), the finaliser Java's SplittableRandom uses.
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

Rng Rng::derived(std::initializer_list<std::uint64_t> parts) {
  std::uint64_t h = 0x243f6a8885a308d3ULL;
  for (std::uint64_t part : parts) h = mix64(h ^ mix64(part));
  return Rng(h);
}

std::uint64_t Rng::below(std::uint64_t n) {
  if (n == 0) fail("Rng::below(0): empty range");
  // Largest multiple of n that fits; draws at or above it are rejected so every residue is
  // equally likely.
  const std::uint64_t limit = (~std::uint64_t{0}) - ((~std::uint64_t{0}) % n + 1) % n;
  std::uint64_t draw = engine_();
  while (draw > limit) draw = engine_();
  return draw % n;
}

std::string Rng::state() const {
  std::ostringstream out;
  out << engine_;
  return out.str();
}

void Rng::restore(const std::string& state) {
  std::istringstream in(state);
  std::mt19937_64 engine;
  in >> engine;
  if (in.fail()) fail("random generator state in the checkpoint is malformed");
  engine_ = engine;
}

}  // namespace ptbench::pretrain
