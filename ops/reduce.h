// Reductions over dimensions: sum, mean, max. Accumulation is in double, so a sum over 27k frames in f32 loses
// nothing to the order of additions.
#pragma once
#include "tensor/tensor.h"

namespace erc::ops {

// Over `dims` (empty = all dims). keepdim keeps each reduced dim with size 1.
Tensor sum(const Tensor& x, const Shape& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const Shape& dims = {}, bool keepdim = false);
// The maximum along one dim; its gradient goes to the first position holding the maximum (as PyTorch's max).
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);

// Sums a broadcast gradient back to `shape`: over leading dims and over dims where `shape` has size 1.
Tensor sum_to(const Tensor& x, const Shape& shape);

}  // namespace erc::ops
