// The kernel behind Generator's fills of a device tensor (ops/random.cu), reached through ops/device_backend.cpp:
// element i is tensor/philox.h's draw i, as on the CPU (tensor/random.cpp).
#pragma once
#include <cstdint>

#include "tensor/device_backend.h"
#include "tensor/tensor.h"

namespace erc::ops::cuda {

// dst: contiguous f32 or f64 on the device. (a, b) as DeviceBackend::fill_random says.
void fill_random(const Tensor& dst, RandomDraw draw, uint64_t seed, uint64_t offset, double a, double b);

}  // namespace erc::ops::cuda
