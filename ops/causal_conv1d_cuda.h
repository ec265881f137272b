// The CUDA face of ops/causal_conv1d: the launchers ops/causal_conv1d.cu defines and ops/causal_conv1d.cpp calls.
// Tensors are contiguous: x and g [T, E], taps [K, E] (the weight transposed), offsets from seq_offsets_tensor.
#pragma once
#include "tensor/tensor.h"

namespace erc::ops {

// dweight and dbias are sums over frames in blocks of this many, each in frame order, added in block order: the
// same bits on the CPU and on the device.
constexpr int64_t kCausalConvFrameBlock = 256;

namespace cuda {

// y [T, E] = bias + the causal taps over each frame's own sequence, in the CPU's order of additions.
void causal_conv1d_forward(const Tensor& x, const Tensor& taps, const Tensor& bias, const Tensor& offsets,
                           const Tensor& y);
// dx [T, E] (when defined); dweight [E, 1, K] and dbias [E] (each when defined).
void causal_conv1d_backward(const Tensor& x, const Tensor& taps, const Tensor& g, const Tensor& offsets,
                            const Tensor& dx, const Tensor& dweight, const Tensor& dbias);

}  // namespace cuda
}  // namespace erc::ops
