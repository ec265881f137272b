// IEEE half and bfloat16 conversions (round to nearest even), written out with integer arithmetic so that every
// platform, the CPU and every CUDA kernel give the same bits.
#pragma once
#include <cstdint>
#include <cstring>

#include "tensor/host_device.h"

namespace erc {

ERC_HOST_DEVICE inline uint32_t bits_of_f32(float x) {
  uint32_t u;
  memcpy(&u, &x, 4);
  return u;
}
ERC_HOST_DEVICE inline float f32_of_bits(uint32_t u) {
  float x;
  memcpy(&x, &u, 4);
  return x;
}

ERC_HOST_DEVICE inline uint16_t f32_to_bf16(float x) {
  uint32_t u = bits_of_f32(x);
  if ((u & 0x7fffffff) > 0x7f800000) return uint16_t((u >> 16) | 0x40);  // NaN stays a (quiet) NaN
  u += 0x7fff + ((u >> 16) & 1);                                         // round to nearest even
  return uint16_t(u >> 16);
}

ERC_HOST_DEVICE inline float bf16_to_f32(uint16_t x) { return f32_of_bits(uint32_t(x) << 16); }

ERC_HOST_DEVICE inline uint16_t f32_to_f16(float x) {
  uint32_t u = bits_of_f32(x);
  const uint32_t sign = (u >> 16) & 0x8000;
  uint32_t abs = u & 0x7fffffff;
  if (abs > 0x7f800000) return uint16_t(sign | 0x7e00);   // NaN
  if (abs >= 0x477ff000) return uint16_t(sign | 0x7c00);  // rounds past 65504: infinity
  if (abs < 0x38800000) {                                 // below 2^-14: subnormal half (or zero)
    // Scale into the subnormal range with one float add, which rounds to nearest even for us.
    const float f = f32_of_bits(abs) + 0.5f;
    return uint16_t(sign | (bits_of_f32(f) - bits_of_f32(0.5f)));
  }
  const uint32_t mant_odd = (abs >> 13) & 1;
  abs += 0xc8000fff + mant_odd;  // rebias exponent (127 -> 15) and round to nearest even
  return uint16_t(sign | (abs >> 13));
}

ERC_HOST_DEVICE inline float f16_to_f32(uint16_t x) {
  const uint32_t sign = uint32_t(x & 0x8000) << 16;
  const uint32_t exp = (x >> 10) & 0x1f;
  const uint32_t mant = x & 0x3ff;
  if (exp == 0x1f) return f32_of_bits(sign | 0x7f800000 | (mant << 13));
  if (exp == 0) {  // zero or subnormal: mant * 2^-24
    const float f = float(mant) * 5.9604644775390625e-8f;
    return sign ? -f : f;
  }
  return f32_of_bits(sign | ((exp + 112) << 23) | (mant << 13));
}

}  // namespace erc
