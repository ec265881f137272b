// conv1d as torch.nn.functional.conv1d (zero padding on both sides, no dilation): WavLM's feature encoder and its
// grouped positional convolution. im2col per group and tile of output positions, then one BLAS GEMM; a frames-major
// x (x.transpose(1, 2) contiguous, as WavLM keeps its frames) skips im2col on the CPU's fast path (ops/cpu_isa.h):
// GEMMs over x's own memory, and y comes back frames-major too (ops/conv1d.cpp).
#pragma once
#include "tensor/tensor.h"

namespace erc::ops {

// x [B, C_in, L], weight [C_out, C_in / groups, K], bias [C_out] or an undefined Tensor
//   -> [B, C_out, L_out], L_out = (L + 2 padding - K) / stride + 1.
// Output channel o of group g = o / (C_out / groups) sees input channels [g C_in / groups, (g + 1) C_in / groups).
// Backward: dweight = g col^T and dx = col2im(weight^T g), one GEMM each per group and tile; dbias = the sum of g
// over B and L_out. Nothing but x and weight is saved: the columns are rebuilt in backward.
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), int64_t stride = 1,
              int64_t padding = 0, int64_t groups = 1);

}  // namespace erc::ops
