// How a kernel walks tensors of one shape that are laid out with any strides (broadcast dims have stride 0, a flip
// negative ones): element i, counted row-major over the shape, sits at offset(k, i) in operand k. Dimensions that
// are contiguous with their inner neighbour in every operand are merged first, so the common cases cost one or two
// divisions per element.
#pragma once
#include <array>

#include "tensor/host_device.h"
#include "tensor/tensor.h"

namespace erc::ops {

constexpr int kMaxKernelDims = 8;

template <int N>
struct StridedLayout {
  int ndim = 0;  // after merging; 0 for a single element
  int64_t size[kMaxKernelDims] = {};
  int64_t stride[N][kMaxKernelDims] = {};

  // The offsets of element i in every operand.
  ERC_HOST_DEVICE void offsets(int64_t i, int64_t (&out)[N]) const {
    for (int k = 0; k < N; ++k) out[k] = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      const int64_t index = i % size[d];
      i /= size[d];
      for (int k = 0; k < N; ++k) out[k] += index * stride[k][d];
    }
  }
};

// The layout of N operands of `shape` with the given strides (each of the shape's rank).
template <int N>
StridedLayout<N> strided_layout(const Shape& shape, const std::array<const Shape*, N>& strides, const char* op) {
  StridedLayout<N> layout;
  // Walk from the innermost dimension out, merging a dimension into the one inside it when every operand steps
  // over it as over one longer dimension; size-1 dimensions vanish.
  int64_t merged_size[64], merged_stride[N][64];
  int n = 0;
  for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
    if (shape[d] == 1) continue;
    bool merge = n > 0;
    for (int k = 0; k < N && merge; ++k) merge = (*strides[k])[d] == merged_stride[k][n - 1] * merged_size[n - 1];
    if (merge) {
      merged_size[n - 1] *= shape[d];
      continue;
    }
    ERC_CHECK(n < 64, op, ": too many dimensions");
    merged_size[n] = shape[d];
    for (int k = 0; k < N; ++k) merged_stride[k][n] = (*strides[k])[d];
    ++n;
  }
  ERC_CHECK(n <= kMaxKernelDims, op, ": shape ", shape_str(shape), " has ", n, " dimensions that do not merge; the ",
            "CUDA kernels walk at most ", kMaxKernelDims);
  layout.ndim = n;
  for (int j = 0; j < n; ++j) {  // back to outermost-first order
    layout.size[j] = merged_size[n - 1 - j];
    for (int k = 0; k < N; ++k) layout.stride[k][j] = merged_stride[k][n - 1 - j];
  }
  return layout;
}

}  // namespace erc::ops
