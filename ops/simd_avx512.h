// AVX-512F vectors of float (16 lanes) and double (8 lanes) for the CPU fast paths: SLEEF's log1p and double exp
// (1.0 ulp), and the inline float exp of ops/simd_exp.h. Include only from a file compiled with -mavx512f
// (ops/CMakeLists.txt), and use only from code that runs after ops::cpu_isa() said avx512. The same interface as
// ops/simd_avx2.h; masks are kept as vectors of all-ones lanes so that the kernels read the same on both.
#pragma once
#include <immintrin.h>
#include <sleef.h>

#include <cstdint>

#include "ops/simd_exp.h"

namespace erc::ops::simd_avx512 {

struct F32 {
  using scalar = float;
  static constexpr int64_t W = 16;
  __m512 r;
  friend F32 operator+(F32 a, F32 b) { return {_mm512_add_ps(a.r, b.r)}; }
  friend F32 operator-(F32 a, F32 b) { return {_mm512_sub_ps(a.r, b.r)}; }
  friend F32 operator*(F32 a, F32 b) { return {_mm512_mul_ps(a.r, b.r)}; }
  friend F32 operator/(F32 a, F32 b) { return {_mm512_div_ps(a.r, b.r)}; }
  static F32 zero() { return {_mm512_setzero_ps()}; }
  static F32 set(float x) { return {_mm512_set1_ps(x)}; }
  static F32 load(const float* p) { return {_mm512_loadu_ps(p)}; }
  static void store(float* p, F32 x) { _mm512_storeu_ps(p, x.r); }
  static F32 load_n(const float* p, int64_t n) { return {_mm512_maskz_loadu_ps(first_lanes(n), p)}; }
  static void store_n(float* p, F32 x, int64_t n) { _mm512_mask_storeu_ps(p, first_lanes(n), x.r); }
  static F32 fma(F32 a, F32 b, F32 c) { return {_mm512_fmadd_ps(a.r, b.r, c.r)}; }
  static F32 min(F32 a, F32 b) { return {_mm512_min_ps(a.r, b.r)}; }
  static F32 abs(F32 a) { return {_mm512_abs_ps(a.r)}; }
  static F32 max(F32 a, F32 b) { return {_mm512_max_ps(a.r, b.r)}; }
  static F32 exp(F32 a) { return simd::exp_f32(a); }  // inline (ops/simd_exp.h)
  static F32 log1p(F32 a) { return {Sleef_log1pf16_u10avx512f(a.r)}; }
  static F32 greater(F32 a, F32 b) { return mask_vector(_mm512_cmp_ps_mask(a.r, b.r, _CMP_GT_OQ)); }
  static F32 greater_equal(F32 a, F32 b) { return mask_vector(_mm512_cmp_ps_mask(a.r, b.r, _CMP_GE_OQ)); }
  static F32 where(F32 mask, F32 if_true, F32 if_false) {
    const __mmask16 m = _mm512_test_epi32_mask(_mm512_castps_si512(mask.r), _mm512_castps_si512(mask.r));
    return {_mm512_mask_blend_ps(m, if_false.r, if_true.r)};
  }
  // As ops/simd_avx2.h's pow2_halves.
  static void pow2_halves(F32 shifted, F32& first, F32& second) {
    const __m512i k = _mm512_sub_epi32(_mm512_castps_si512(shifted.r), _mm512_set1_epi32(0x4B400000));
    const __m512i k1 = _mm512_srai_epi32(k, 1), k2 = _mm512_sub_epi32(k, k1), bias = _mm512_set1_epi32(127);
    first = {_mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(k1, bias), 23))};
    second = {_mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(k2, bias), 23))};
  }
  struct Acc {
    __m512d low, high;
  };
  static Acc acc_load(const double* p) { return {_mm512_loadu_pd(p), _mm512_loadu_pd(p + 8)}; }
  static void acc_store(double* p, Acc a) {
    _mm512_storeu_pd(p, a.low);
    _mm512_storeu_pd(p + 8, a.high);
  }
  static Acc acc_add(Acc a, F32 x) {
    const __m256 high = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x.r), 1));
    return {_mm512_add_pd(a.low, _mm512_cvtps_pd(_mm512_castps512_ps256(x.r))),
            _mm512_add_pd(a.high, _mm512_cvtps_pd(high))};
  }
  // acc[i] += the sum of v[i]'s lanes, for i < count, each sum in one fixed order: the two 256-bit halves added,
  // then, 8 vectors at a time, the pairwise hadd tree of ops/simd_avx2.h, whose 8 sums leave in one vector (one sum
  // per vector reduced alone would wait on the one before it through acc).
  static void add_lane_sums(const F32* v, int64_t count, double* acc) {
    auto halves = [&](int64_t i) {
      return _mm256_add_ps(_mm512_castps512_ps256(v[i].r),
                           _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v[i].r), 1)));
    };
    int64_t i = 0;
    for (; i + 8 <= count; i += 8) {
      const __m256 s01 = _mm256_hadd_ps(halves(i), halves(i + 1)), s23 = _mm256_hadd_ps(halves(i + 2), halves(i + 3));
      const __m256 s45 = _mm256_hadd_ps(halves(i + 4), halves(i + 5)),
                   s67 = _mm256_hadd_ps(halves(i + 6), halves(i + 7));
      const __m256 s0123 = _mm256_hadd_ps(s01, s23), s4567 = _mm256_hadd_ps(s45, s67);
      const __m256 sums =
          _mm256_add_ps(_mm256_permute2f128_ps(s0123, s4567, 0x20), _mm256_permute2f128_ps(s0123, s4567, 0x31));
      _mm512_storeu_pd(acc + i, _mm512_add_pd(_mm512_loadu_pd(acc + i), _mm512_cvtps_pd(sums)));
    }
    for (; i < count; ++i) acc[i] += double(_mm512_reduce_add_ps(v[i].r));
  }

 private:
  static __mmask16 first_lanes(int64_t n) { return __mmask16((1u << n) - 1); }
  static F32 mask_vector(__mmask16 m) { return {_mm512_castsi512_ps(_mm512_maskz_set1_epi32(m, -1))}; }
};

struct F64 {
  using scalar = double;
  static constexpr int64_t W = 8;
  __m512d r;
  friend F64 operator+(F64 a, F64 b) { return {_mm512_add_pd(a.r, b.r)}; }
  friend F64 operator-(F64 a, F64 b) { return {_mm512_sub_pd(a.r, b.r)}; }
  friend F64 operator*(F64 a, F64 b) { return {_mm512_mul_pd(a.r, b.r)}; }
  friend F64 operator/(F64 a, F64 b) { return {_mm512_div_pd(a.r, b.r)}; }
  static F64 zero() { return {_mm512_setzero_pd()}; }
  static F64 set(double x) { return {_mm512_set1_pd(x)}; }
  static F64 load(const double* p) { return {_mm512_loadu_pd(p)}; }
  static void store(double* p, F64 x) { _mm512_storeu_pd(p, x.r); }
  static F64 load_n(const double* p, int64_t n) { return {_mm512_maskz_loadu_pd(first_lanes(n), p)}; }
  static void store_n(double* p, F64 x, int64_t n) { _mm512_mask_storeu_pd(p, first_lanes(n), x.r); }
  static F64 fma(F64 a, F64 b, F64 c) { return {_mm512_fmadd_pd(a.r, b.r, c.r)}; }
  static F64 min(F64 a, F64 b) { return {_mm512_min_pd(a.r, b.r)}; }
  static F64 abs(F64 a) { return {_mm512_abs_pd(a.r)}; }
  static F64 exp(F64 a) { return {Sleef_expd8_u10avx512f(a.r)}; }
  static F64 log1p(F64 a) { return {Sleef_log1pd8_u10avx512f(a.r)}; }
  static F64 greater(F64 a, F64 b) { return mask_vector(_mm512_cmp_pd_mask(a.r, b.r, _CMP_GT_OQ)); }
  static F64 greater_equal(F64 a, F64 b) { return mask_vector(_mm512_cmp_pd_mask(a.r, b.r, _CMP_GE_OQ)); }
  static F64 where(F64 mask, F64 if_true, F64 if_false) {
    const __mmask8 m = _mm512_test_epi64_mask(_mm512_castpd_si512(mask.r), _mm512_castpd_si512(mask.r));
    return {_mm512_mask_blend_pd(m, if_false.r, if_true.r)};
  }
  struct Acc {
    __m512d sum;
  };
  static Acc acc_load(const double* p) { return {_mm512_loadu_pd(p)}; }
  static void acc_store(double* p, Acc a) { _mm512_storeu_pd(p, a.sum); }
  static Acc acc_add(Acc a, F64 x) { return {_mm512_add_pd(a.sum, x.r)}; }
  static void add_lane_sums(const F64* v, int64_t count, double* acc) {
    for (int64_t i = 0; i < count; ++i) acc[i] += _mm512_reduce_add_pd(v[i].r);
  }

 private:
  static __mmask8 first_lanes(int64_t n) { return __mmask8((1u << n) - 1); }
  static F64 mask_vector(__mmask8 m) { return {_mm512_castsi512_pd(_mm512_maskz_set1_epi64(m, -1))}; }
};

}  // namespace erc::ops::simd_avx512
