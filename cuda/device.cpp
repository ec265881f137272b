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

std::string device_summary() {
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    return std::string("no CUDA device: ") + cudaGetErrorString(status);
  }
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
