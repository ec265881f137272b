// What tensor/ needs from a GPU: device memory, copies between host and device, and the element-wise work behind
// Tensor's own methods on a device tensor (strided copies and dtype casts, fills, in-place adds, random draws).
//
// tensor/ is the lowest layer and cannot call the CUDA runtime or launch a kernel, so it asks through this interface,
// which the CUDA backend implements with erc_cuda's memory and ops/' kernels (ops/device_backend.cpp) and installs
// at start-up, as PyTorch's CPU library reaches CUDA through its CUDAHooks. A program built without the CUDA backend
// has none installed, and every request says so.
#pragma once
#include <cstddef>
#include <cstdint>

#include "tensor/dtype.h"

namespace erc {

class Tensor;

enum class RandomDraw : uint8_t { uniform, normal, bernoulli };

class DeviceBackend {
 public:
  virtual ~DeviceBackend() = default;
  virtual void* allocate(size_t nbytes) = 0;  // nullptr for 0 bytes
  virtual void free(void* ptr) = 0;
  // nbytes from src to dst; each side is host or device memory as its Device says. Returns when dst holds them.
  virtual void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes) = 0;
  // Element-wise dst = src on the device: one shape, any strides (stride 0 included), any two dtypes.
  virtual void copy(const Tensor& dst, const Tensor& src) = 0;
  virtual void fill(const Tensor& dst, double value) = 0;
  // dst += src, both contiguous with one shape and one floating dtype.
  virtual void add_(const Tensor& dst, const Tensor& src) = 0;
  // A contiguous floating dst filled as tensor/philox.h draws it: (a, b) are (low, high), (mean, stddev) or (p, -).
  virtual void fill_random(const Tensor& dst, RandomDraw draw, uint64_t seed, uint64_t offset, double a, double b) = 0;
};

// Installs the CUDA backend (called once, at start-up, by the backend itself).
void install_device_backend(DeviceBackend* backend);
// The installed backend; an erc::Error that explains itself when this program has none.
DeviceBackend& device_backend();

}  // namespace erc
