// Matrix products on OpenBLAS: matmul, bmm and linear (PyTorch's layouts). A plain transpose of a contiguous
// matrix goes to BLAS as a transpose flag and leading dimension, never as a copy.
#pragma once
#include "tensor/tensor.h"

namespace erc::ops {

// a [M, K], b [K, N] -> [M, N]
Tensor matmul(const Tensor& a, const Tensor& b);

// a [B, M, K], b [B, K, N] -> [B, M, N]
Tensor bmm(const Tensor& a, const Tensor& b);

// x [..., in], weight [out, in], bias [out] or an undefined Tensor -> [..., out] = x weight^T + bias.
// Leading dims of x are flattened into rows. Backward: dx = g weight, dweight = g^T x (one GEMM each, over all
// rows), dbias = the sum of g over rows. A bf16 weight (with f32 x and bias; inference only) multiplies x rounded to
// bf16, summing the exact products in f32: tensor cores on the device.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace erc::ops
