// The unary ops' vector fast paths for AVX2 (ops/unary_cpu.h), compiled with -mavx2 -mfma.
#include "ops/simd_avx2.h"
#include "ops/simd_math.h"
#include "ops/unary_cpu.h"

namespace erc::ops::unary_cpu {

namespace {

using V = simd_avx2::F32;

// y = f(x) over n elements: whole vectors, then the last n % 8 lanes.
template <V (*f)(V)>
void forward(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + V::W <= n; i += V::W) V::store(y + i, f(V::load(x + i)));
  if (i < n) V::store_n(y + i, f(V::load_n(x + i, n - i)), n - i);
}

// dx = g f'(x) over n elements.
template <V (*slope)(V)>
void backward(const float* x, const float* g, float* dx, int64_t n) {
  int64_t i = 0;
  for (; i + V::W <= n; i += V::W) V::store(dx + i, V::load(g + i) * slope(V::load(x + i)));
  if (i < n) V::store_n(dx + i, V::load_n(g + i, n - i) * slope(V::load_n(x + i, n - i)), n - i);
}

}  // namespace

Kernels avx2(UnaryKind kind) {
  switch (kind) {
    case UnaryKind::sigmoid: return {forward<simd::stable_sigmoid<V>>, nullptr};
    case UnaryKind::silu: return {forward<simd::silu<V>>, backward<simd::silu_slope<V>>};
    case UnaryKind::gelu: return {forward<simd::gelu<V>>, nullptr};
    default: return {};
  }
}

}  // namespace erc::ops::unary_cpu
