// e^x for float vectors, inline: the F32::exp of ops/simd_avx2.h and ops/simd_avx512.h. SLEEF's out-of-line call
// (Debian's 3.5 has no inline headers) costs 3x as much, most of it in saving and restoring every vector register
// around the call. Included only by those two headers.
#pragma once

namespace erc::ops::simd {

// e^x = 2^k e^r with k = round(x / ln 2) and |r| <= ln 2 / 2, e^r by Cephes' expf polynomial (1 + r + r^2 p(r), p
// of degree 5), and 2^k applied as two powers of two so that results down to the subnormals round once. x is
// clamped to [-104, 88.38]: within 1 ulp of libm's expf for every float from -110 to 88.37 (docs/TESTING.md), 0 from
// -103.972 down (as expf), 2.4e38 above (expf: up to 3.4e38, then +inf); NaN stays NaN. The fast paths' arguments are
// dt A <= 0 (A < 0 in Mamba), -|x| and softplus's x <= 20. Every step is one IEEE operation or one fused multiply-add,
// so each ISA gives the same bits. V::pow2_halves does the integer part. Always inlined: GCC otherwise calls it, which
// brings back the cost of SLEEF's call.
template <typename V>
[[gnu::always_inline]] inline V exp_f32(V x_in) {
  // min and max return their second operand when one is NaN: x, in this order. Below -104 nothing changes: e^-104
  // is under half the smallest subnormal, and the product below rounds it to 0 as expf does.
  const V x = V::max(V::set(-104.0f), V::min(V::set(88.3762626f), x_in));
  // x log2(e) + 1.5 2^23 rounds to an integer k, which is then in the low bits of the float.
  const V shifted = V::fma(x, V::set(1.44269504088896341f), V::set(12582912.0f));
  const V k = shifted - V::set(12582912.0f);
  // r = x - k ln 2, with ln 2 in two parts so that k ln 2's rounding does not reach r.
  V r = V::fma(k, V::set(-0.693359375f), x);
  r = V::fma(k, V::set(2.12194440e-4f), r);
  V p = V::set(1.9875691500e-4f);
  p = V::fma(p, r, V::set(1.3981999507e-3f));
  p = V::fma(p, r, V::set(8.3334519073e-3f));
  p = V::fma(p, r, V::set(4.1665795894e-2f));
  p = V::fma(p, r, V::set(1.6666665459e-1f));
  p = V::fma(p, r, V::set(5.0000001201e-1f));
  const V e_r = V::fma(p * r, r, r) + V::set(1.0f);
  V two_k1, two_k2;
  V::pow2_halves(shifted, two_k1, two_k2);
  return e_r * two_k1 * two_k2;
}

}  // namespace erc::ops::simd
