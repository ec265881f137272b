// Element-wise arithmetic with NumPy broadcasting, and the scalar forms. Backward sums each gradient back over
// the dimensions its input was broadcast along (ops::sum_to).
#pragma once
#include "tensor/tensor.h"

namespace erc::ops {

Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& x);
Tensor add_scalar(const Tensor& x, double s);
Tensor mul_scalar(const Tensor& x, double s);

}  // namespace erc::ops
