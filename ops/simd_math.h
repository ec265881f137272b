// Element functions over a vector type V (ops/simd_avx2.h, ops/simd_avx512.h), lane by lane the same as the
// reference's in ops/unary_cuda.h, for the CPU fast paths (ops/selective_scan_simd.h, ops/unary_avx2.cpp).
// Included only by the per-ISA files. Always inlined: GCC would otherwise call some of them from the vector loops,
// spilling every live vector register around each call.
#pragma once

namespace erc::ops::simd {

// softplus_and_slope (threshold 20) and stable_sigmoid.
template <typename V>
struct Softplus {
  V value, slope;
};
template <typename V>
[[gnu::always_inline]] inline Softplus<V> softplus_and_slope(V x) {
  using S = typename V::scalar;
  const V one = V::set(S(1)), above = V::greater(x, V::set(S(20)));
  const V e = V::exp(V::min(x, V::set(S(20))));
  return {V::where(above, x, V::log1p(e)), V::where(above, one, e / (e + one))};
}
template <typename V>
[[gnu::always_inline]] inline V stable_sigmoid(V x) {
  using S = typename V::scalar;
  const V one = V::set(S(1)), e = V::exp(V::zero() - V::abs(x));
  return V::where(V::greater_equal(x, V::zero()), one / (one + e), e / (one + e));
}

// SiLU's value x sigmoid(x) and its slope s (1 + x (1 - s)).
template <typename V>
[[gnu::always_inline]] inline V silu(V x) {
  return x * stable_sigmoid(x);
}
template <typename V>
[[gnu::always_inline]] inline V silu_slope(V x) {
  using S = typename V::scalar;
  const V one = V::set(S(1)), s = stable_sigmoid(x);
  return s * (one + x * (one - s));
}

// erf of float vectors, inline: SLEEF's erff (1.0 ulp) is an out-of-line call that costs 2.4 ns an element here,
// 0.09 s of a WavLM-Large forward in GELU; this costs 0.5 to 0.7 ns. Within 1.4 ulp of erf (8.5e-8 absolute) over
// every fourth normal float in [-6, 6], checked against double erf outside the suite (SLEEF's: 1.1 ulp).
//   |x| < 1:  erf(x) = x (2 / sqrt(pi) + u P(u)), u = x^2, P of degree 5; 2 / sqrt(pi) is two floats, hi + lo,
//             so that its rounding (half an ulp) does not reach the result.
//   |x| >= 1: a polynomial of degree 14 in s = (2 |x| - 5) / 3 in [-1, 1], |x| clamped to 4; exactly 1 from 3.919206,
//             where erf rounds to 1.
// The coefficients are least-squares fits at Chebyshev nodes, reweighted towards minimax (Lawson's iteration),
// of erf's relative error on [0, 1] and absolute error on [1, 4], rounded to float.
template <typename V>
[[gnu::always_inline]] inline V erf_f32(V x) {
  static constexpr float kSmall[] = {-3.761262894e-01f, 1.128361747e-01f,  -2.685491554e-02f,
                                     5.190161988e-03f,  -8.024812560e-04f, 7.898675540e-05f};
  static constexpr float kLarge[] = {9.995930195e-01f,  3.267283319e-03f,  -1.225277223e-02f, 2.818704024e-02f,
                                     -4.365234450e-02f, 4.639251530e-02f,  -3.186355531e-02f, 9.569230489e-03f,
                                     6.624590140e-03f,  -1.039502583e-02f, 4.685649183e-03f,  1.529436908e-03f,
                                     -2.045827918e-03f, 9.912303358e-05f,  2.616049605e-04f};
  const V ax = V::abs(x), u = ax * ax;
  V p = V::set(kSmall[5]);
  for (int i = 4; i >= 0; --i) p = V::fma(p, u, V::set(kSmall[i]));
  const V small = V::fma(ax, V::set(1.128379226e+00f), ax * V::fma(u, p, V::set(-5.863538277e-08f)));
  const V s = V::fma(V::min(ax, V::set(4.0f)), V::set(2.0f / 3.0f), V::set(-5.0f / 3.0f));
  V q = V::set(kLarge[14]);
  for (int i = 13; i >= 0; --i) q = V::fma(q, s, V::set(kLarge[i]));
  // From 3.919206 on, erf rounds to 1 in float: exactly 1 there, so that GELU's 1 + erf is exactly 0 far below 0.
  const V large = V::where(V::greater_equal(ax, V::set(3.919206f)), V::set(1.0f), V::min(q, V::set(1.0f)));
  const V r = V::where(V::greater_equal(ax, V::set(1.0f)), large, small);
  return V::where(V::greater(V::zero(), x), V::zero() - r, r);
}

// GELU as transformers' "gelu" and ops/unary_cuda.h's Gelu: x Phi(x) = x (1 + erf(x / sqrt 2)) / 2, the exact
// form (not tanh's approximation), the reference's operations in its order; float vectors (erf_f32).
template <typename V>
[[gnu::always_inline]] inline V gelu(V x) {
  const V inv_sqrt2 = V::set(0.70710678118654752440f);
  return V::set(0.5f) * x * (V::set(1.0f) + erf_f32(x * inv_sqrt2));
}

}  // namespace erc::ops::simd
