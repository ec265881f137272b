// What the CUDA tests share: a fixture that skips, saying why, where no device answers (a CUDA build on a machine
// without a GPU; in a SIM build the simulator always answers), and test_util.h (same_bits among them).
#pragma once
#include <gtest/gtest.h>

#include "cuda/device.h"
#include "tensor/tensor.h"
#include "test_util.h"

namespace erc::test {

class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda::device_count() == 0) GTEST_SKIP() << "no CUDA GPU answers on this machine: " << cuda::device_summary();
  }
};

}  // namespace erc::test
