// The selective scan's vector kernels for AVX2 (ops/selective_scan_simd.h), the only code compiled with
// -mavx2 -mfma; ops/selective_scan.cpp calls them only when ops::cpu_isa() says avx2.
#include "ops/selective_scan_simd.h"
#include "ops/simd_avx2.h"

namespace erc::ops::scan_cpu {

Kernels<float> avx2_f32() {
  using V = simd_avx2::F32;
  return {V::W, kPiece, forward_range<V>, backward_range<V>, forward_scratch<V>, backward_scratch<V>};
}

Kernels<double> avx2_f64() {
  using V = simd_avx2::F64;
  return {V::W, kPiece, forward_range<V>, backward_range<V>, forward_scratch<V>, backward_scratch<V>};
}

}  // namespace erc::ops::scan_cpu
