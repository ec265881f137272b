// What the CUDA tests share: a fixture that skips, saying why, where no device answers (a CUDA build on a machine
// without a GPU; in a SIM build the simulator always answers), and test_util.h (same_bits among them).
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "cuda/device.h"
#include "tensor/tensor.h"
#include "test_util.h"

namespace erc::test {

// The source tree, for a test that reads its files: $ERC_SOURCE_DIR where set (tools/gpu_check.sh runs the tests on a
// GPU machine, from a copy of the tree at another path), else where CMake found it.
inline std::string source_dir() {
  const char* moved = std::getenv("ERC_SOURCE_DIR");
  return moved ? moved : ERC_SOURCE_DIR;
}

class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda::device_count() == 0) GTEST_SKIP() << "no CUDA GPU answers on this machine: " << cuda::device_summary();
  }
};

}  // namespace erc::test
