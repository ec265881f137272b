// Element functions over a vector type V (ops/simd_avx2.h, ops/simd_avx512.h), lane by lane the same as the
// reference's in ops/unary_cuda.h, for the CPU fast paths (ops/selective_scan_simd.h, ops/unary_avx2.cpp).
// Included only by the per-ISA files.
#pragma once

namespace erc::ops::simd {

// softplus_and_slope (threshold 20) and stable_sigmoid.
template <typename V>
struct Softplus {
  V value, slope;
};
template <typename V>
Softplus<V> softplus_and_slope(V x) {
  using S = typename V::scalar;
  const V one = V::set(S(1)), above = V::greater(x, V::set(S(20)));
  const V e = V::exp(V::min(x, V::set(S(20))));
  return {V::where(above, x, V::log1p(e)), V::where(above, one, e / (e + one))};
}
template <typename V>
V stable_sigmoid(V x) {
  using S = typename V::scalar;
  const V one = V::set(S(1)), e = V::exp(V::zero() - V::abs(x));
  return V::where(V::greater_equal(x, V::zero()), one / (one + e), e / (one + e));
}

// SiLU's value x sigmoid(x) and its slope s (1 + x (1 - s)).
template <typename V>
V silu(V x) {
  return x * stable_sigmoid(x);
}
template <typename V>
V silu_slope(V x) {
  using S = typename V::scalar;
  const V one = V::set(S(1)), s = stable_sigmoid(x);
  return s * (one + x * (one - s));
}

}  // namespace erc::ops::simd
