#include "cuda/sim/device_math.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "cuda/sim/scheduler.h"
#include "tensor/check.h"

namespace erc::sim {

namespace {

MathMode mode_from_environment() {
  const char* text = std::getenv("ERC_SIM_MATH");
  if (!text || !*text || std::strcmp(text, "exact") == 0) return MathMode::exact;
  ERC_CHECK(std::strcmp(text, "ulp") == 0, "ERC_SIM_MATH: expected exact or ulp, got '", text, "'");
  return MathMode::ulp;
}

MathMode& current_mode() {
  static MathMode mode = mode_from_environment();
  return mode;
}

uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

template <typename T>
uint64_t bits(T x) {
  uint64_t b = 0;
  std::memcpy(&b, &x, sizeof x);
  return b;
}

// A kernel's result of function `fn` at `x`: libm's `y`, or in ulp mode `y` moved by `ulps` units in the last place,
// up or down by the hash of (fn, x). Zeros, infinities and NaN stay (a GPU's are exact there too), as does a
// function of one argument at 0 (exp(0) is exactly 1 on a GPU: the softmax of a row's maximum is 1, not 1 + 2 ulps)
// and a result the move would take out of range.
template <typename T>
T device_result(T y, uint64_t fn, uint64_t x_bits, int ulps, bool at_zero = false) {
  if (running_context == nullptr || current_mode() != MathMode::ulp || !std::isfinite(y) || y == T(0) || at_zero)
    return y;
  const T toward = (mix(x_bits ^ (fn * 0x9E3779B97F4A7C15ull)) & 1) ? T(INFINITY) : T(-INFINITY);
  T moved = y;
  for (int i = 0; i < ulps; ++i) moved = std::nextafter(moved, toward);
  return std::isfinite(moved) ? moved : y;
}

}  // namespace

void set_math(MathMode mode) { current_mode() = mode; }
MathMode math() { return current_mode(); }

}  // namespace erc::sim

// name, its maximum ulp error on a GPU, and a number that tells the functions apart in the hash.
#define ERC_SIM_WRAP1(name, type, ulps, id)                                                      \
  extern "C" type __real_##name(type);                                                           \
  extern "C" type __wrap_##name(type x) {                                                        \
    return erc::sim::device_result<type>(__real_##name(x), id, erc::sim::bits(x), ulps, x == 0); \
  }
#define ERC_SIM_WRAP2(name, type, ulps, id)                                                                          \
  extern "C" type __real_##name(type, type);                                                                         \
  extern "C" type __wrap_##name(type x, type y) {                                                                    \
    return erc::sim::device_result<type>(__real_##name(x, y), id, erc::sim::bits(x) * 31 + erc::sim::bits(y), ulps); \
  }
ERC_SIM_WRAP1(expf, float, 2, 1)
ERC_SIM_WRAP1(exp2f, float, 2, 2)
ERC_SIM_WRAP1(expm1f, float, 1, 3)
ERC_SIM_WRAP1(logf, float, 1, 4)
ERC_SIM_WRAP1(log2f, float, 1, 5)
ERC_SIM_WRAP1(log1pf, float, 1, 6)
ERC_SIM_WRAP1(sinf, float, 2, 7)
ERC_SIM_WRAP1(cosf, float, 2, 8)
ERC_SIM_WRAP1(tanhf, float, 2, 9)
ERC_SIM_WRAP1(erff, float, 2, 10)
ERC_SIM_WRAP2(powf, float, 4, 11)
ERC_SIM_WRAP1(exp, double, 1, 12)
ERC_SIM_WRAP1(exp2, double, 1, 13)
ERC_SIM_WRAP1(expm1, double, 1, 14)
ERC_SIM_WRAP1(log, double, 1, 15)
ERC_SIM_WRAP1(log2, double, 1, 16)
ERC_SIM_WRAP1(log1p, double, 1, 17)
ERC_SIM_WRAP1(sin, double, 2, 18)
ERC_SIM_WRAP1(cos, double, 2, 19)
ERC_SIM_WRAP1(tanh, double, 2, 20)
ERC_SIM_WRAP1(erf, double, 2, 21)
ERC_SIM_WRAP2(pow, double, 2, 22)
