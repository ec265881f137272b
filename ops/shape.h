// Differentiable views and layout ops. Each forward is the Tensor method of the same name (tensor/tensor.h);
// each backward routes the gradient back through the inverse layout.
#pragma once
#include "tensor/tensor.h"

namespace erc::ops {

Tensor reshape(const Tensor& x, const Shape& shape);          // view when possible; one dim may be -1
Tensor permute(const Tensor& x, const Shape& dims);
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t length);  // = narrow
Tensor expand(const Tensor& x, const Shape& shape);
Tensor contiguous(const Tensor& x);

}  // namespace erc::ops
