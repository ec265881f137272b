// The caching allocator on a real GPU: device memory written and read back through its blocks, a repeated pattern
// of allocations served from the cache, and the cache given back. Skips, saying so, where no GPU answers.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <vector>

#include "cuda/allocator.h"
#include "cuda/check.h"
#include "cuda/device.h"

namespace {

TEST(Cuda, CachingAllocatorReusesDeviceBlocks) {
  if (erc::cuda::device_count() == 0)
    GTEST_SKIP() << "no CUDA GPU on this machine, CUDA allocator not run: " << erc::cuda::device_summary();
  erc::CachingAllocator& allocator = erc::cuda::device_allocator();
  const size_t raw_before = allocator.stats().raw_allocations;
  std::vector<float> host(1 << 20), back(1 << 20);
  for (size_t i = 0; i < host.size(); ++i) host[i] = float(i) * 0.5f;
  for (int step = 0; step < 5; ++step) {
    void* a = allocator.allocate(host.size() * sizeof(float));
    void* b = allocator.allocate(3000);
    ERC_CUDA_CHECK(cudaMemcpy(a, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice));
    ERC_CUDA_CHECK(cudaMemcpy(back.data(), a, back.size() * sizeof(float), cudaMemcpyDeviceToHost));
    EXPECT_EQ(back, host);
    allocator.free(a);
    allocator.free(b);
  }
  EXPECT_EQ(allocator.stats().raw_allocations - raw_before, 2u) << "steady state reached cudaMalloc";
  allocator.empty_cache();
  EXPECT_EQ(allocator.stats().cached_bytes, 0u);
}

}  // namespace
