// The kernels behind Tensor's own copy_ and fill_ on the device (ops/copy.cu), which tensor/ reaches through
// ops/device_backend.cpp. Their CPU faces are in tensor/tensor.cpp.
#pragma once
#include "tensor/tensor.h"

namespace erc::ops::cuda {

// dst = src element-wise: one shape, both on the device, any strides (0 and negative included), any two dtypes
// (converted as tensor/convert.h does on the CPU).
void copy(const Tensor& dst, const Tensor& src);
// Every element of dst (any strides) = value, converted to dst's dtype.
void fill(const Tensor& dst, double value);

}  // namespace erc::ops::cuda
