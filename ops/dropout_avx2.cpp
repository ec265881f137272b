// Dropout's forward for AVX2 (ops/dropout_cpu.h), compiled with -mavx2 -mfma. Philox4x32-10 as tensor/philox.h
// computes it, on 8 counter blocks at once: bit for bit the reference's draws, since it is all integer arithmetic.
#include <immintrin.h>

#include "ops/dropout_cpu.h"
#include "tensor/philox.h"

namespace erc::ops::dropout_cpu {

namespace {

// The 64-bit products of a's 32-bit lanes with m (in every lane), split into high and low words. mul_epu32
// multiplies the even lanes only, so the odd lanes go through it shifted down.
struct Wide {
  __m256i high, low;
};
Wide multiply_wide(__m256i a, __m256i m) {
  const __m256i even = _mm256_mul_epu32(a, m), odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
  return {_mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA),
          _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA)};
}

// a < b as unsigned 32-bit lanes (AVX2 compares signed: flip the sign bits).
__m256i less_unsigned(__m256i a, __m256i b) {
  const __m256i sign = _mm256_set1_epi32(int(0x80000000u));
  return _mm256_cmpgt_epi32(_mm256_xor_si256(b, sign), _mm256_xor_si256(a, sign));
}

void forward(uint64_t seed, uint64_t first_block, uint64_t keep_below, float scale, const float* x, float* y,
             float* mask, int64_t n_groups) {
  // An element's bits are high << 32 | low, and it is kept when (bits >> 11) < keep_below < 2^53, that is when
  // high < keep_below >> 21, or high equals it and low >> 11 < keep_below's low 21 bits.
  const __m256i keep_high = _mm256_set1_epi32(int(uint32_t(keep_below >> 21)));
  const __m256i keep_low = _mm256_set1_epi32(int(uint32_t(keep_below & ((1u << 21) - 1))));
  auto kept = [&](__m256i high, __m256i low) {
    const __m256i low_less = _mm256_cmpgt_epi32(keep_low, _mm256_srli_epi32(low, 11));  // both below 2^21
    return _mm256_or_si256(less_unsigned(high, keep_high),
                           _mm256_and_si256(_mm256_cmpeq_epi32(high, keep_high), low_less));
  };
  __m256i key0[kPhiloxRounds], key1[kPhiloxRounds];
  uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
  for (int round = 0; round < kPhiloxRounds; ++round, k0 += kPhiloxW0, k1 += kPhiloxW1) {
    key0[round] = _mm256_set1_epi32(int(k0));
    key1[round] = _mm256_set1_epi32(int(k1));
  }
  const __m256i m0 = _mm256_set1_epi32(int(kPhiloxM0)), m1 = _mm256_set1_epi32(int(kPhiloxM1));
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), zero = _mm256_setzero_si256();
  const __m256 scales = _mm256_set1_ps(scale);
  for (int64_t group = 0; group < n_groups; ++group) {
    // The counter: block b = first_block + 8 group + lane as (low, high) words; a lane whose low word wrapped
    // around carries one into the high word (the compare gives -1 there).
    const uint64_t base = first_block + uint64_t(group) * 8;
    __m256i c0 = _mm256_add_epi32(_mm256_set1_epi32(int(uint32_t(base))), lane);
    __m256i c1 = _mm256_sub_epi32(_mm256_set1_epi32(int(uint32_t(base >> 32))), less_unsigned(c0, lane));
    __m256i c2 = zero, c3 = zero;
    for (int round = 0; round < kPhiloxRounds; ++round) {
      const Wide p0 = multiply_wide(c0, m0), p1 = multiply_wide(c2, m1);
      c0 = _mm256_xor_si256(_mm256_xor_si256(p1.high, c1), key0[round]);
      c1 = p1.low;
      c2 = _mm256_xor_si256(_mm256_xor_si256(p0.high, c3), key1[round]);
      c3 = p0.low;
    }
    // Block b gives element 2b its even half (words 0, 1) and element 2b + 1 its odd half (words 2, 3):
    // interleave the two keep-masks into element order (unpack works within 128-bit halves, hence the permutes).
    const __m256i even = kept(c0, c1), odd = kept(c2, c3);
    const __m256i low_pairs = _mm256_unpacklo_epi32(even, odd), high_pairs = _mm256_unpackhi_epi32(even, odd);
    const int64_t i = group * kGroup;
    const __m256 mask0 =
        _mm256_and_ps(_mm256_castsi256_ps(_mm256_permute2x128_si256(low_pairs, high_pairs, 0x20)), scales);
    const __m256 mask1 =
        _mm256_and_ps(_mm256_castsi256_ps(_mm256_permute2x128_si256(low_pairs, high_pairs, 0x31)), scales);
    _mm256_storeu_ps(mask + i, mask0);
    _mm256_storeu_ps(mask + i + 8, mask1);
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), mask0));
    _mm256_storeu_ps(y + i + 8, _mm256_mul_ps(_mm256_loadu_ps(x + i + 8), mask1));
  }
}

}  // namespace

Forward avx2() { return forward; }

}  // namespace erc::ops::dropout_cpu
