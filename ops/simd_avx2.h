// AVX2 + FMA vectors of float (8 lanes) and double (4 lanes) for the CPU fast paths: SLEEF's log1p and double exp
// (1.0 ulp), and the inline float exp of ops/simd_exp.h. Include only from a file compiled with -mavx2 -mfma
// (ops/CMakeLists.txt), and use only from code that runs after ops::cpu_isa() said avx2.
#pragma once
#include <immintrin.h>
#include <sleef.h>

#include <cstdint>

#include "ops/simd_exp.h"

namespace erc::ops::simd_avx2 {

struct F32 {
  using scalar = float;
  static constexpr int64_t W = 8;
  __m256 r;
  friend F32 operator+(F32 a, F32 b) { return {_mm256_add_ps(a.r, b.r)}; }
  friend F32 operator-(F32 a, F32 b) { return {_mm256_sub_ps(a.r, b.r)}; }
  friend F32 operator*(F32 a, F32 b) { return {_mm256_mul_ps(a.r, b.r)}; }
  friend F32 operator/(F32 a, F32 b) { return {_mm256_div_ps(a.r, b.r)}; }
  static F32 zero() { return {_mm256_setzero_ps()}; }
  static F32 set(float x) { return {_mm256_set1_ps(x)}; }
  static F32 load(const float* p) { return {_mm256_loadu_ps(p)}; }
  static void store(float* p, F32 x) { _mm256_storeu_ps(p, x.r); }
  // The first n < W lanes from p, the rest 0.
  static F32 load_n(const float* p, int64_t n) { return {_mm256_maskload_ps(p, first_lanes(n))}; }
  static void store_n(float* p, F32 x, int64_t n) { _mm256_maskstore_ps(p, first_lanes(n), x.r); }
  static F32 fma(F32 a, F32 b, F32 c) { return {_mm256_fmadd_ps(a.r, b.r, c.r)}; }
  static F32 min(F32 a, F32 b) { return {_mm256_min_ps(a.r, b.r)}; }
  static F32 abs(F32 a) { return {_mm256_andnot_ps(_mm256_set1_ps(-0.0f), a.r)}; }
  static F32 max(F32 a, F32 b) { return {_mm256_max_ps(a.r, b.r)}; }
  static F32 exp(F32 a) { return simd::exp_f32(a); }  // inline (ops/simd_exp.h)
  static F32 log1p(F32 a) { return {Sleef_log1pf8_u10avx2(a.r)}; }
  // Lane by lane: a > b, a >= b (false where either is NaN), and where(mask, if_true, if_false).
  static F32 greater(F32 a, F32 b) { return {_mm256_cmp_ps(a.r, b.r, _CMP_GT_OQ)}; }
  static F32 greater_equal(F32 a, F32 b) { return {_mm256_cmp_ps(a.r, b.r, _CMP_GE_OQ)}; }
  static F32 where(F32 mask, F32 if_true, F32 if_false) { return {_mm256_blendv_ps(if_false.r, if_true.r, mask.r)}; }
  // 2^k1 and 2^k2, k1 = floor(k / 2) and k2 = k - k1, for the integer k in shifted's low bits (k + 1.5 2^23, as
  // simd::exp_f32 makes it): each a normal float for k in [-150, 127].
  static void pow2_halves(F32 shifted, F32& first, F32& second) {
    const __m256i k = _mm256_sub_epi32(_mm256_castps_si256(shifted.r), _mm256_set1_epi32(0x4B400000));
    const __m256i k1 = _mm256_srai_epi32(k, 1), k2 = _mm256_sub_epi32(k, k1), bias = _mm256_set1_epi32(127);
    first = {_mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, bias), 23))};
    second = {_mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k2, bias), 23))};
  }
  // W running sums in double, kept in registers: acc_load, acc_add (acc + x, lane by lane), acc_store.
  struct Acc {
    __m256d low, high;
  };
  static Acc acc_load(const double* p) { return {_mm256_loadu_pd(p), _mm256_loadu_pd(p + 4)}; }
  static void acc_store(double* p, Acc a) {
    _mm256_storeu_pd(p, a.low);
    _mm256_storeu_pd(p + 4, a.high);
  }
  static Acc acc_add(Acc a, F32 x) {
    return {_mm256_add_pd(a.low, _mm256_cvtps_pd(_mm256_castps256_ps128(x.r))),
            _mm256_add_pd(a.high, _mm256_cvtps_pd(_mm256_extractf128_ps(x.r, 1)))};
  }
  // acc[i] += the sum of v[i]'s lanes, for i < count, each sum in one fixed order.
  static void add_lane_sums(const F32* v, int64_t count, double* acc) {
    int64_t i = 0;
    for (; i + 8 <= count; i += 8) {
      // Pairwise sums of 8 vectors at once: after two rounds of hadd each 128-bit half holds 4 of the 8 sums.
      const __m256 s01 = _mm256_hadd_ps(v[i].r, v[i + 1].r), s23 = _mm256_hadd_ps(v[i + 2].r, v[i + 3].r);
      const __m256 s45 = _mm256_hadd_ps(v[i + 4].r, v[i + 5].r), s67 = _mm256_hadd_ps(v[i + 6].r, v[i + 7].r);
      const __m256 s0123 = _mm256_hadd_ps(s01, s23), s4567 = _mm256_hadd_ps(s45, s67);
      const __m256 sums =
          _mm256_add_ps(_mm256_permute2f128_ps(s0123, s4567, 0x20), _mm256_permute2f128_ps(s0123, s4567, 0x31));
      acc_store(acc + i, acc_add(acc_load(acc + i), {sums}));
    }
    for (; i < count; ++i) {
      const __m128 half = _mm_add_ps(_mm256_castps256_ps128(v[i].r), _mm256_extractf128_ps(v[i].r, 1));
      const __m128 pair = _mm_add_ps(half, _mm_movehl_ps(half, half));
      acc[i] += double(_mm_cvtss_f32(_mm_add_ss(pair, _mm_movehdup_ps(pair))));
    }
  }

 private:
  static __m256i first_lanes(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
};

struct F64 {
  using scalar = double;
  static constexpr int64_t W = 4;
  __m256d r;
  friend F64 operator+(F64 a, F64 b) { return {_mm256_add_pd(a.r, b.r)}; }
  friend F64 operator-(F64 a, F64 b) { return {_mm256_sub_pd(a.r, b.r)}; }
  friend F64 operator*(F64 a, F64 b) { return {_mm256_mul_pd(a.r, b.r)}; }
  friend F64 operator/(F64 a, F64 b) { return {_mm256_div_pd(a.r, b.r)}; }
  static F64 zero() { return {_mm256_setzero_pd()}; }
  static F64 set(double x) { return {_mm256_set1_pd(x)}; }
  static F64 load(const double* p) { return {_mm256_loadu_pd(p)}; }
  static void store(double* p, F64 x) { _mm256_storeu_pd(p, x.r); }
  static F64 load_n(const double* p, int64_t n) { return {_mm256_maskload_pd(p, first_lanes(n))}; }
  static void store_n(double* p, F64 x, int64_t n) { _mm256_maskstore_pd(p, first_lanes(n), x.r); }
  static F64 fma(F64 a, F64 b, F64 c) { return {_mm256_fmadd_pd(a.r, b.r, c.r)}; }
  static F64 min(F64 a, F64 b) { return {_mm256_min_pd(a.r, b.r)}; }
  static F64 abs(F64 a) { return {_mm256_andnot_pd(_mm256_set1_pd(-0.0), a.r)}; }
  static F64 exp(F64 a) { return {Sleef_expd4_u10avx2(a.r)}; }
  static F64 log1p(F64 a) { return {Sleef_log1pd4_u10avx2(a.r)}; }
  static F64 greater(F64 a, F64 b) { return {_mm256_cmp_pd(a.r, b.r, _CMP_GT_OQ)}; }
  static F64 greater_equal(F64 a, F64 b) { return {_mm256_cmp_pd(a.r, b.r, _CMP_GE_OQ)}; }
  static F64 where(F64 mask, F64 if_true, F64 if_false) { return {_mm256_blendv_pd(if_false.r, if_true.r, mask.r)}; }
  struct Acc {
    __m256d sum;
  };
  static Acc acc_load(const double* p) { return {_mm256_loadu_pd(p)}; }
  static void acc_store(double* p, Acc a) { _mm256_storeu_pd(p, a.sum); }
  static Acc acc_add(Acc a, F64 x) { return {_mm256_add_pd(a.sum, x.r)}; }
  static void add_lane_sums(const F64* v, int64_t count, double* acc) {
    for (int64_t i = 0; i < count; ++i) {
      const __m128d half = _mm_add_pd(_mm256_castpd256_pd128(v[i].r), _mm256_extractf128_pd(v[i].r, 1));
      acc[i] += _mm_cvtsd_f64(_mm_add_sd(half, _mm_unpackhi_pd(half, half)));
    }
  }

 private:
  static __m256i first_lanes(int64_t n) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
  }
};

}  // namespace erc::ops::simd_avx2
