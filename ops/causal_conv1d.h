// Mamba's causal depthwise convolution over a packed batch, time-major: each channel sees its own last K frames,
// and frames before the start of a frame's own sequence count as zero, so nothing leaks across a boundary.
#pragma once
#include "ops/packed.h"
#include "tensor/tensor.h"

namespace erc::ops {

// x [T, E], weight [E, 1, K] (nn.Conv1d(E, E, K, groups=E).weight), bias [E] or an undefined Tensor -> [T, E]:
//   y[t, e] = bias[e] + sum_k weight[e, 0, k] x[t - (K - 1) + k, e],  x = 0 before t's sequence starts.
// Per sequence this is PyTorch's Conv1d(E, E, K, groups=E, padding=K-1) on the channels-first sequence, truncated to
// its length. Backward: dx[s] = sum_k weight[k] g[s + (K - 1) - k] within s's sequence; dweight and dbias sum over
// frames in fixed blocks (deterministic). Saves x and weight.
Tensor causal_conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, const SeqOffsets& seq_offsets);

}  // namespace erc::ops
