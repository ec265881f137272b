// The device's caching allocator, on a GPU and on the simulator alike: device memory written and read back through its
// blocks, a repeated pattern of allocations served from the cache after the first step, and the cache given back.
// (That a reused block is poison again to the simulator's memory checker is in tests/test_cuda_simulator.cu.)
#include <gtest/gtest.h>

#include <vector>

#include "cuda/check.h"
#include "cuda/device.h"
#include "cuda/memory.h"
#include "cuda_test_util.h"

namespace {

using CudaAllocator = erc::test::CudaTest;

TEST_F(CudaAllocator, RepeatedStepsReuseTheirBlocks) {
  erc::CachingAllocator& allocator = erc::cuda::device_allocator();
  const erc::AllocatorStats before = allocator.stats();
  std::vector<float> host(1 << 20), back(1 << 20);
  for (size_t i = 0; i < host.size(); ++i) host[i] = float(i) * 0.5f;
  for (int step = 0; step < 5; ++step) {
    void* a = allocator.allocate(host.size() * sizeof(float));
    void* b = allocator.allocate(3000);
    erc::cuda::copy_bytes(a, erc::Device::cuda, host.data(), erc::Device::cpu, host.size() * sizeof(float));
    erc::cuda::copy_bytes(back.data(), erc::Device::cpu, a, erc::Device::cuda, back.size() * sizeof(float));
    EXPECT_EQ(back, host);
    allocator.free(a);
    allocator.free(b);
  }
  const erc::AllocatorStats after = allocator.stats();
  EXPECT_EQ(after.raw_allocations - before.raw_allocations, 2u) << "steady state reached cudaMalloc";
  EXPECT_EQ(after.reuses - before.reuses, 8u);
  allocator.empty_cache();
  EXPECT_EQ(allocator.stats().cached_bytes, 0u);
}

}  // namespace
