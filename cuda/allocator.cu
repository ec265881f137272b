#include "cuda/allocator.h"
#include "cuda/check.h"

namespace erc::cuda {

CachingAllocator& device_allocator() {
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
      [](void* ptr) { ERC_CUDA_CHECK(cudaFree(ptr)); });
  return allocator;
}

}  // namespace erc::cuda
