#include "tensor/random.h"

#include <cmath>

namespace erc {

std::array<uint32_t, 4> philox4x32(std::array<uint32_t, 4> c, std::array<uint32_t, 2> k) {
  constexpr uint32_t M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = uint64_t(M0) * c[0], p1 = uint64_t(M1) * c[2];
    c = {uint32_t(p1 >> 32) ^ c[1] ^ k[0], uint32_t(p1), uint32_t(p0 >> 32) ^ c[3] ^ k[1], uint32_t(p0)};
    k[0] += W0;
    k[1] += W1;
  }
  return c;
}

uint64_t Generator::bits64(uint64_t seed, uint64_t offset, uint64_t i) {
  uint64_t block = offset + i / 2;
  auto r = philox4x32({uint32_t(block), uint32_t(block >> 32), 0, 0}, {uint32_t(seed), uint32_t(seed >> 32)});
  return i % 2 == 0 ? (uint64_t(r[0]) << 32 | r[1]) : (uint64_t(r[2]) << 32 | r[3]);
}

// Uniform in [0, 1) from 64 bits: 53 bits for double, 24 for float, so a float draw never rounds up to 1.
static double unit_double(uint64_t bits) { return double(bits >> 11) * 0x1.0p-53; }
static float unit_float(uint64_t bits) { return float(bits >> 40) * 0x1.0p-24f; }

template <typename F>
static void fill_each(Tensor& t, uint64_t seed, uint64_t& offset, F&& value_of) {
  ERC_CHECK(t.is_contiguous(), "random fill: expected a contiguous tensor");
  const int64_t n = t.numel();
  const uint64_t start = offset;
  dispatch_float(t.dtype(), "random fill", [&](auto tag) {
    using scalar_t = decltype(tag);
    scalar_t* p = t.data<scalar_t>();
#pragma omp parallel for schedule(static) if (n > 16384)
    for (int64_t i = 0; i < n; ++i) p[i] = scalar_t(value_of(seed, start, uint64_t(i), scalar_t(0)));
  });
  offset += (uint64_t(n) + 1) / 2;
}

void Generator::fill_uniform(Tensor& t, double low, double high) {
  fill_each(t, seed_, offset_, [&](uint64_t s, uint64_t o, uint64_t i, auto tag) {
    uint64_t b = bits64(s, o, i);
    if constexpr (std::is_same_v<decltype(tag), float>) return double(float(low) + float(high - low) * unit_float(b));
    else return low + (high - low) * unit_double(b);
  });
}

void Generator::fill_normal(Tensor& t, double mean, double stddev) {
  // Pair j = (2j, 2j+1) shares one block: u1 from its first half, u2 from its second, z = r cos / r sin.
  fill_each(t, seed_, offset_, [&](uint64_t s, uint64_t o, uint64_t i, auto) {
    uint64_t pair = i / 2;
    double u1 = 1.0 - unit_double(bits64(s, o, 2 * pair));  // (0, 1]: the log stays finite
    double u2 = unit_double(bits64(s, o, 2 * pair + 1));
    double r = std::sqrt(-2.0 * std::log(u1));
    double angle = 2.0 * M_PI * u2;
    return mean + stddev * (i % 2 == 0 ? r * std::cos(angle) : r * std::sin(angle));
  });
}

void Generator::fill_bernoulli(Tensor& t, double p) {
  ERC_CHECK(p >= 0.0 && p <= 1.0, "bernoulli: p must be in [0, 1], got ", p);
  fill_each(t, seed_, offset_, [&](uint64_t s, uint64_t o, uint64_t i, auto) {
    return unit_double(bits64(s, o, i)) < p ? 1.0 : 0.0;
  });
}

Tensor rand(const Shape& shape, Generator& gen, DType dtype, double low, double high) {
  Tensor t = Tensor::empty(shape, dtype);
  gen.fill_uniform(t, low, high);
  return t;
}

Tensor randn(const Shape& shape, Generator& gen, DType dtype, double mean, double stddev) {
  Tensor t = Tensor::empty(shape, dtype);
  gen.fill_normal(t, mean, stddev);
  return t;
}

}  // namespace erc
