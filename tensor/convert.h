// One element of any dtype read as a double, and a double stored as any dtype: the general path of every dtype
// conversion, on the CPU (Tensor::copy_) and in the CUDA copy kernel (ops/copy.cu), so that both round alike.
// Exact for f32, bf16, f16 and for i64 below 2^53; bf16 and f16 are rounded from the value's float; a floating value
// becomes an i64 as saturating_int64 says, on both sides.
#pragma once
#include <cstdint>

#include "tensor/dtype.h"
#include "tensor/half.h"

namespace erc {

ERC_HOST_DEVICE inline double load_as_double(const void* base, DType dtype, int64_t pos) {
  switch (dtype) {
    case DType::f32: return static_cast<const float*>(base)[pos];
    case DType::f64: return static_cast<const double*>(base)[pos];
    case DType::i64: return double(static_cast<const int64_t*>(base)[pos]);
    case DType::bf16: return bf16_to_f32(static_cast<const uint16_t*>(base)[pos]);
    case DType::f16: return f16_to_f32(static_cast<const uint16_t*>(base)[pos]);
  }
  return 0;
}

// Toward zero; NaN to 0; beyond int64's range (infinities included) to its nearest end. It is what a GPU's
// cvt.rzi.s64.f64 gives, and here what every CPU gives too: C++ leaves such a cast undefined, and x86's conversion
// gives INT64_MIN for all three.
ERC_HOST_DEVICE inline int64_t saturating_int64(double v) {
  if (v != v) return 0;
  if (v >= 0x1p63) return INT64_MAX;
  if (v < -0x1p63) return INT64_MIN;
  return int64_t(v);
}

ERC_HOST_DEVICE inline void store_from_double(void* base, DType dtype, int64_t pos, double v) {
  switch (dtype) {
    case DType::f32: static_cast<float*>(base)[pos] = float(v); break;
    case DType::f64: static_cast<double*>(base)[pos] = v; break;
    case DType::i64: static_cast<int64_t*>(base)[pos] = saturating_int64(v); break;
    case DType::bf16: static_cast<uint16_t*>(base)[pos] = f32_to_bf16(float(v)); break;
    case DType::f16: static_cast<uint16_t*>(base)[pos] = f32_to_f16(float(v)); break;
  }
}

}  // namespace erc
