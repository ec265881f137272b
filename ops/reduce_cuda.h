// The CUDA face of ops/reduce: the launchers ops/reduce.cu defines and ops/reduce.cpp calls, and the loops over one
// row that both faces run (the CPU on every row, a kernel's thread on a short one: the same bits).
#pragma once
#include "tensor/host_device.h"
#include "tensor/tensor.h"

namespace erc::ops {

// scale * the sum of n contiguous elements, accumulated in double in order.
template <typename T>
ERC_HOST_DEVICE inline T sum_row(const T* row, int64_t n, double scale) {
  double acc = 0;
  for (int64_t j = 0; j < n; ++j) acc += double(row[j]);
  return T(acc * scale);
}

// The index of the first maximum of n elements `stride` apart (a NaN wins only in first place, as no comparison
// with it is true).
template <typename T>
ERC_HOST_DEVICE inline int64_t argmax_along(const T* row, int64_t n, int64_t stride) {
  int64_t best = 0;
  for (int64_t k = 1; k < n; ++k)
    if (row[k * stride] > row[best * stride]) best = k;
  return best;
}

namespace cuda {

// out[r] = scale * sum_j rows[r, j], accumulated in double. rows: [n_out, inner] contiguous; out: [n_out] elements.
// Short rows are summed by one thread in order (the CPU's order, so the same bits); long ones in fixed chunks by
// blocks, whose partials are added in chunk order.
void sum_rows(const Tensor& rows, int64_t n_out, int64_t inner, double scale, const Tensor& out);
// x = x * scale, computed in double, x contiguous.
void scale_(const Tensor& x, double scale);
// x viewed as [outer, n, inner] (contiguous): out and argmax [outer, inner] take the first maximum along n.
void max_forward(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out, const Tensor& argmax);
// grad_x [outer, n, inner] (zeroed) gets grad[o, i] at (o, argmax[o, i], i).
void max_backward(const Tensor& grad, const Tensor& argmax, int64_t outer, int64_t n, int64_t inner,
                  const Tensor& grad_x);

}  // namespace cuda
}  // namespace erc::ops
