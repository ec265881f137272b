// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3") and the draws erc makes from it,
// shared by the CPU loops of tensor/random.cpp and the CUDA kernels of ops/random.cu.
//
// Counter based: element i of a draw that starts at counter `offset` is a pure function of (seed, offset, i), so a
// draw is the same on every thread count and on the GPU. Under nvcc the float arithmetic is written with the
// round-to-nearest intrinsics so that the compiler cannot fuse a multiply and an add into an FMA (a different
// rounding): uniform and Bernoulli draws are bit-identical on both sides. A normal draw also calls log, cos and sin,
// whose last bit may differ between the host's libm and CUDA's.
#pragma once
#include <cmath>
#include <cstdint>

#include "tensor/host_device.h"

namespace erc {

struct PhiloxBlock {
  uint32_t word[4];
};

// The round's multipliers and the key's Weyl increments (also read by the CPU's vector dropout, ops/dropout_avx2.cpp).
inline constexpr uint32_t kPhiloxM0 = 0xD2511F53, kPhiloxM1 = 0xCD9E8D57, kPhiloxW0 = 0x9E3779B9,
                          kPhiloxW1 = 0xBB67AE85;
inline constexpr int kPhiloxRounds = 10;

ERC_HOST_DEVICE inline PhiloxBlock philox4x32(PhiloxBlock c, uint32_t key0, uint32_t key1) {
  for (int round = 0; round < kPhiloxRounds; ++round) {
    const uint64_t p0 = uint64_t(kPhiloxM0) * c.word[0], p1 = uint64_t(kPhiloxM1) * c.word[2];
    c = {{uint32_t(p1 >> 32) ^ c.word[1] ^ key0, uint32_t(p1), uint32_t(p0 >> 32) ^ c.word[3] ^ key1, uint32_t(p0)}};
    key0 += kPhiloxW0;
    key1 += kPhiloxW1;
  }
  return c;
}

// 64 random bits for element `i` of the draw that starts at counter `offset`: element i reads half (i % 2) of
// block offset + i / 2, so a draw of n elements consumes ceil(n / 2) counters.
// Counter block `block` as two 64-bit draws: elements 2j and 2j + 1 of a draw whose block is offset + j.
struct PhiloxPair {
  uint64_t even, odd;
};
ERC_HOST_DEVICE inline PhiloxPair philox_pair(uint64_t seed, uint64_t block) {
  const PhiloxBlock r =
      philox4x32({{uint32_t(block), uint32_t(block >> 32), 0, 0}}, uint32_t(seed), uint32_t(seed >> 32));
  return {uint64_t(r.word[0]) << 32 | r.word[1], uint64_t(r.word[2]) << 32 | r.word[3]};
}

ERC_HOST_DEVICE inline uint64_t philox_bits64(uint64_t seed, uint64_t offset, uint64_t i) {
  const PhiloxPair pair = philox_pair(seed, offset + i / 2);
  return i % 2 == 0 ? pair.even : pair.odd;
}

// Uniform in [0, 1) from 64 bits: 53 bits for double, 24 for float, so a float draw never rounds up to 1.
ERC_HOST_DEVICE inline double unit_double(uint64_t bits) { return double(bits >> 11) * 0x1.0p-53; }
ERC_HOST_DEVICE inline float unit_float(uint64_t bits) { return float(bits >> 40) * 0x1.0p-24f; }

// a + b * c, rounded after the product and after the sum, never fused.
ERC_HOST_DEVICE inline float add_mul_unfused(float a, float b, float c) {
#ifdef __CUDA_ARCH__
  return __fadd_rn(a, __fmul_rn(b, c));
#else
  return a + unfused(b * c);
#endif
}
ERC_HOST_DEVICE inline double add_mul_unfused(double a, double b, double c) {
#ifdef __CUDA_ARCH__
  return __dadd_rn(a, __dmul_rn(b, c));
#else
  return a + unfused(b * c);
#endif
}

// Element i of a uniform draw in [low, high), computed in T.
// Each draw below is also given from the element's bits (and, for a normal, its pair's), for loops that compute a
// counter block once for both of its elements (tensor/random.cpp).
template <typename T>
ERC_HOST_DEVICE inline T uniform_from_bits(uint64_t bits, double low, double high) {
  if constexpr (sizeof(T) == 4)
    return add_mul_unfused(float(low), float(high - low), unit_float(bits));
  else
    return add_mul_unfused(low, high - low, unit_double(bits));
}
template <typename T>
ERC_HOST_DEVICE inline T philox_uniform(uint64_t seed, uint64_t offset, uint64_t i, double low, double high) {
  return uniform_from_bits<T>(philox_bits64(seed, offset, i), low, high);
}

// The Box-Muller transform: two uniform draws u1 in (0, 1] (the log stays finite) and u2 in [0, 1) give two
// independent standard normals, r cos(2 pi u2) (the first) and r sin(2 pi u2) (the second), r = sqrt(-2 ln u1).
ERC_HOST_DEVICE inline double box_muller(double u1, double u2, bool second) {
  const double r = sqrt(-2.0 * log(u1));
  const double angle = 2.0 * M_PI * u2;
  return second ? r * sin(angle) : r * cos(angle);
}

// Element i of a normal draw: pair j = (2j, 2j + 1) takes u1 from element 2j's bits and u2 from element 2j + 1's,
// and gives the pair's first normal to element 2j and its second to element 2j + 1.
template <typename T>
ERC_HOST_DEVICE inline T normal_from_bits(PhiloxPair pair, bool second, double mean, double stddev) {
  const double u1 = 1.0 - unit_double(pair.even), u2 = unit_double(pair.odd);
  return T(add_mul_unfused(mean, stddev, box_muller(u1, u2, second)));
}
template <typename T>
ERC_HOST_DEVICE inline T philox_normal(uint64_t seed, uint64_t offset, uint64_t i, double mean, double stddev) {
  return normal_from_bits<T>(philox_pair(seed, offset + i / 2), i % 2 == 1, mean, stddev);
}

// Element i of a Bernoulli draw: 1 with probability p, else 0.
template <typename T>
ERC_HOST_DEVICE inline T bernoulli_from_bits(uint64_t bits, double p) {
  return unit_double(bits) < p ? T(1) : T(0);
}
// The same test in integers, for vector loops: bernoulli_from_bits(bits, p) is 1 exactly when (bits >> 11) <
// bernoulli_keep_below(p), because k 2^-53 < p iff k < p 2^53 (both sides exact in double), iff k < ceil(p 2^53).
ERC_HOST_DEVICE inline uint64_t bernoulli_keep_below(double p) { return uint64_t(ceil(p * 0x1.0p53)); }
template <typename T>
ERC_HOST_DEVICE inline T philox_bernoulli(uint64_t seed, uint64_t offset, uint64_t i, double p) {
  return bernoulli_from_bits<T>(philox_bits64(seed, offset, i), p);
}

}  // namespace erc
