// The device layer answers with a usable device: the query names it with its limits, and values written to its
// memory come back, and a kernel's result comes back, unchanged. Skips, saying why, where no GPU answers.
#include <gtest/gtest.h>

#include "cuda/device.h"
#include "cuda_test_util.h"
#include "ops/binary.h"
#include "test_util.h"

namespace {

using erc::Device;
using erc::Tensor;
using CudaDevice = erc::test::CudaTest;

TEST_F(CudaDevice, SummaryNamesTheDeviceAndItsLimits) {
  const std::string summary = erc::cuda::device_summary();
  EXPECT_TRUE(erc::test::mentions(summary, "cuda:0 "));
  EXPECT_TRUE(erc::test::mentions(summary, "sm_"));
  EXPECT_TRUE(erc::test::mentions(summary, " SMs"));
  EXPECT_EQ(erc::cuda::device_count() >= 1, true);
}

TEST_F(CudaDevice, MemoryAndAKernelGiveBackWhatTheyWereGiven) {
  const Tensor host = Tensor::from_vector<float>({1.5f, -2.0f, 3.25f, 0.0f, 7.0f}, {5});
  const Tensor on_device = host.to(Device::cuda);
  EXPECT_EQ(on_device.device(), Device::cuda);
  EXPECT_EQ(on_device.to(Device::cpu).to_vector<float>(), host.to_vector<float>());
  const Tensor doubled = erc::ops::add(on_device, on_device);
  EXPECT_EQ(doubled.to(Device::cpu).to_vector<float>(), (std::vector<float>{3.0f, -4.0f, 6.5f, 0.0f, 14.0f}));
}

// Where none answers (this test's case on a machine without a GPU), the summary says why in words a user can act on,
// not as the runtime's "CUDA driver version is insufficient for CUDA runtime version".
TEST(CudaDeviceSummary, SaysPlainlyWhyNoDeviceAnswers) {
  if (erc::cuda::device_count() > 0) GTEST_SKIP() << "a device answers: " << erc::cuda::device_summary();
  const std::string summary = erc::cuda::device_summary();
  EXPECT_EQ(summary.find("insufficient"), std::string::npos) << summary;
  EXPECT_TRUE(summary.find("no NVIDIA driver is installed") != std::string::npos ||
              summary.find("update the driver") != std::string::npos ||
              summary.find("the driver finds no GPU") != std::string::npos)
      << summary;
}

}  // namespace
