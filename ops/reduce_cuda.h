// The CUDA face of ops/reduce: the launchers ops/reduce.cu defines and ops/reduce.cpp calls.
#pragma once
#include "tensor/tensor.h"

namespace erc::ops::cuda {

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

}  // namespace erc::ops::cuda
