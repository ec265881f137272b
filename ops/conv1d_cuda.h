// The CUDA face of ops/conv1d: the launchers ops/conv1d.cu defines and ops/conv1d.cpp calls. Each output tile of
// ops/conv1d_geometry.h is im2col on the device and one cuBLAS GEMM batched over the groups, as the CPU's reference
// does it per group; the backward's column-to-input sums run in the CPU's order (tile, then tap).
#pragma once
#include "ops/conv1d_geometry.h"
#include "tensor/tensor.h"

namespace erc::ops::cuda {

// y [B, C_out, L_out] = conv1d(x [B, C_in, L], weight [C_out, C_in / groups, K]) + bias [C_out] (undefined: none);
// every tensor contiguous, on the device.
void conv1d_forward(const Conv1dGeometry& geo, const Tensor& x, const Tensor& weight, const Tensor& bias,
                    const Tensor& y);

// From g [B, C_out, L_out]: dx [B, C_in, L] and dweight (zeros, or undefined when not asked for) accumulate the
// gradient; dbias [C_out] is written, each channel's sum over batch and positions in double in the CPU's order.
void conv1d_backward(const Conv1dGeometry& geo, const Tensor& x, const Tensor& weight, const Tensor& g,
                     const Tensor& dx, const Tensor& dweight, const Tensor& dbias);

}  // namespace erc::ops::cuda
