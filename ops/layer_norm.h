// LayerNorm over the last dimension, as torch.nn.LayerNorm: population variance, affine weight and bias.
#pragma once
#include "tensor/tensor.h"

namespace erc::ops {

// x [..., D], weight [D], bias [D] -> [..., D] = (x - mean) / sqrt(var + eps) * weight + bias, where mean and the
// population variance var are taken over each row of D values.
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps = 1e-5);

// GELU(layer_norm(x)): WavLM's feature encoder after each convolution. On the device, with no gradient to record,
// one kernel that reads x once (bit for bit the two ops' result); otherwise the two ops.
Tensor layer_norm_gelu(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps = 1e-5);

}  // namespace erc::ops
