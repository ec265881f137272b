// tensor/'s device requests (tensor/device_backend.h), served with erc_cuda's memory and ops/' kernels. Installed
// when the program starts: CMake links this file into every program that links erc_ops (see ops/CMakeLists.txt),
// because no code calls it by name.
#include "tensor/device_backend.h"

#include "cuda/memory.h"
#include "ops/binary_cuda.h"
#include "ops/copy_cuda.h"
#include "ops/random_cuda.h"

namespace erc::ops {

namespace {

class CudaBackend final : public DeviceBackend {
 public:
  void* allocate(size_t nbytes) override { return erc::cuda::allocate(nbytes); }
  void free(void* ptr) override { erc::cuda::release(ptr); }
  void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes) override {
    erc::cuda::copy_bytes(dst, dst_device, src, src_device, nbytes);
  }
  void copy(const Tensor& dst, const Tensor& src) override { cuda::copy(dst, src); }
  void fill(const Tensor& dst, double value) override { cuda::fill(dst, value); }
  void add_(const Tensor& dst, const Tensor& src) override { cuda::binary(BinaryKind::add, dst, src, dst); }
  void fill_random(const Tensor& dst, RandomDraw draw, uint64_t seed, uint64_t offset, double a, double b) override {
    cuda::fill_random(dst, draw, seed, offset, a, b);
  }
};

const bool installed = [] {
  static CudaBackend backend;
  install_device_backend(&backend);
  return true;
}();

}  // namespace

}  // namespace erc::ops
