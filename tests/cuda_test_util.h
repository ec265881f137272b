// What the CUDA tests share: a fixture that skips, saying why, where no device answers (a CUDA build on a machine
// without a GPU; in a SIM build the simulator always answers), and a bit-for-bit comparison.
#pragma once
#include <gtest/gtest.h>

#include <cstring>

#include "cuda/device.h"
#include "tensor/tensor.h"

namespace erc::test {

class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda::device_count() == 0) GTEST_SKIP() << "no CUDA GPU answers on this machine: " << cuda::device_summary();
  }
};

// The same shape, dtype and bytes, wherever each lives (compared on the host).
inline bool same_bits(const Tensor& a, const Tensor& b) {
  const Tensor ha = a.detach().to(Device::cpu).contiguous(), hb = b.detach().to(Device::cpu).contiguous();
  return ha.shape() == hb.shape() && ha.dtype() == hb.dtype() &&
         std::memcmp(ha.raw_data(), hb.raw_data(), size_t(ha.numel()) * dtype_size(ha.dtype())) == 0;
}

}  // namespace erc::test
