// The selective scan's vector kernels for AVX-512 (ops/selective_scan_simd.h), the only code compiled with
// -mavx512f -mfma; ops/selective_scan.cpp calls them only when ops::cpu_isa() says avx512.
#include "ops/selective_scan_simd.h"
#include "ops/simd_avx512.h"

namespace erc::ops::scan_cpu {

Kernels<float> avx512_f32() {
  using V = simd_avx512::F32;
  return {V::W, kPiece, forward_range<V>, backward_range<V>, forward_scratch<V>, backward_scratch<V>};
}

Kernels<double> avx512_f64() {
  using V = simd_avx512::F64;
  return {V::W, kPiece, forward_range<V>, backward_range<V>, forward_scratch<V>, backward_scratch<V>};
}

}  // namespace erc::ops::scan_cpu
