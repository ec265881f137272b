#include "cuda/memory.h"

#include "cuda/check.h"
#include "cuda/stream.h"

namespace erc::cuda {

CachingAllocator& device_allocator() {
#ifdef ERC_CUDA_SIM
  constexpr bool caching = false;
#else
  constexpr bool caching = true;
#endif
  static CachingAllocator allocator(
      "cuda",
      [](size_t bytes) -> void* {
        void* ptr = nullptr;
        const cudaError_t status = cudaMalloc(&ptr, bytes);
        if (status == cudaErrorMemoryAllocation) {
          cudaGetLastError();  // clear it: the allocator frees its cache and asks again
          return nullptr;
        }
        ERC_CUDA_CHECK(status);
        return ptr;
      },
      [](void* ptr) { ERC_CUDA_CHECK(cudaFree(ptr)); }, caching);
  return allocator;
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes) {
  if (nbytes == 0) return;
  const bool to_device = dst_device == Device::cuda, from_device = src_device == Device::cuda;
  const cudaMemcpyKind kind = to_device ? (from_device ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                                        : (from_device ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
  ERC_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, kind, stream()));
  synchronize();
}

}  // namespace erc::cuda
