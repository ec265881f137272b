#include "cuda/device.h"

#include <sstream>

#include "cuda/check.h"

namespace erc::cuda {

int device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error so later calls start clean
    return 0;
  }
  return count;
}

namespace {

// Why no device answers, in words a user can act on: the runtime's own text for a missing driver ("CUDA driver version
// is insufficient for CUDA runtime version") reads like a broken install.
std::string why_no_device(cudaError_t status) {
  int driver = 0, runtime = 0;
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  auto version = [](int v) { return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10); };
  if (driver == 0) return "no NVIDIA driver is installed on this machine (no GPU to use)";
  if (driver < runtime)
    return "the NVIDIA driver supports CUDA " + version(driver) + ", and this build needs CUDA " + version(runtime) +
           (runtime >= 13000 ? " (driver 580 or newer)" : "") + ": update the driver";
  return std::string("no CUDA device: ") + cudaGetErrorString(status);
}

}  // namespace

std::string device_summary() {
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    return why_no_device(status);
  }
  if (count == 0) return "no CUDA device: the driver finds no GPU";
  std::ostringstream out;
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    ERC_CUDA_CHECK(cudaGetDeviceProperties(&prop, i));
    out << "cuda:" << i << " " << prop.name << ", sm_" << prop.major << prop.minor << ", "
        << prop.totalGlobalMem / (1 << 20) << " MiB, " << prop.multiProcessorCount << " SMs\n";
  }
  return out.str();
}

bool simulated() {
#ifdef ERC_CUDA_SIM
  return true;
#else
  return false;
#endif
}

}  // namespace erc::cuda
