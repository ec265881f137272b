// The CUDA backend answers where a GPU exists and says plainly when none does.
#include <gtest/gtest.h>

#include "cuda/device.h"

TEST(Cuda, DeviceQuery) {
  const int count = erc::cuda::device_count();
  const std::string summary = erc::cuda::device_summary();
  if (count == 0) GTEST_SKIP() << "no CUDA GPU on this machine, CUDA parity not run: " << summary;
  EXPECT_NE(summary.find("cuda:0"), std::string::npos) << summary;
}
