// Element-wise functions of one tensor (f32, f64) and their derivatives. Each backward uses what its forward
// saved: the output where dy/dx is cheaper from y (exp, sqrt, sigmoid, tanh, relu), the input otherwise.
// x, y: any shape (the output has x's shape).
#pragma once
#include "tensor/tensor.h"

namespace erc::ops {

Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
// x^exponent. As PyTorch: the gradient is 0 everywhere when exponent == 0; a negative x with a non-integer
// exponent gives NaN.
Tensor pow(const Tensor& x, double exponent);
// 1 / (1 + e^-x), written so that neither branch overflows: sigmoid(+-1000) is exactly 1 and 0.
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
// max(x, 0); the gradient at x == 0 is 0 (as PyTorch).
Tensor relu(const Tensor& x);
// SiLU = Swish: x * sigmoid(x).
Tensor silu(const Tensor& x);
// The exact GELU: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)).
Tensor gelu(const Tensor& x);
// torch.nn.functional.softplus with beta 1, threshold 20: x where x > 20, else log1p(e^x). The threshold keeps
// e^x from overflowing; below it e^x only underflows, to the right limit 0 (softplus(-1000) = 0).
Tensor softplus(const Tensor& x);

}  // namespace erc::ops
