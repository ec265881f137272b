// The CUDA face of ops/binary: the launchers ops/binary.cu defines and ops/binary.cpp calls, and the arithmetic
// both faces compute (one copy, for host and device).
#pragma once
#include "tensor/host_device.h"
#include "tensor/tensor.h"

namespace erc::ops {

enum class BinaryKind { add, sub, mul, div };

template <typename T>
ERC_HOST_DEVICE inline T apply_binary(BinaryKind k, T a, T b) {
  switch (k) {
    case BinaryKind::add: return a + b;
    case BinaryKind::sub: return a - b;
    case BinaryKind::mul: return a * b;
    case BinaryKind::div: return a / b;
  }
  return T(0);
}

namespace cuda {

// out = a (kind) b element-wise. a and b are views of out's shape (a broadcast dimension has stride 0, any other
// layout is allowed); out is contiguous and may be a itself (the in-place add of gradient accumulation).
void binary(BinaryKind kind, const Tensor& a, const Tensor& b, const Tensor& out);

// out = x * mul + add, both contiguous, the scalars rounded to the dtype first (as the CPU loop does).
void scalar_op(const Tensor& x, double mul, double add, const Tensor& out);

}  // namespace cuda
}  // namespace erc::ops
