// The simulated device: an sm_90 part's launch limits (those of an H100, what erc's kernels are written for), which
// the simulator enforces and cudaGetDeviceProperties reports.
#pragma once
#include <cstddef>

namespace erc::sim {

struct DeviceLimits {
  unsigned max_threads_per_block = 1024;
  unsigned max_block[3] = {1024, 1024, 64};
  unsigned max_grid[3] = {2147483647u, 65535, 65535};
  size_t max_shared_default = 48 * 1024;  // static + dynamic shared memory a block gets without asking
  size_t max_shared_optin = 227 * 1024;   // the most cudaFuncSetAttribute can allow (static + dynamic)
  size_t max_static_shared = 48 * 1024;   // static shared memory, whatever the kernel asked
  size_t max_param_bytes = 32764;         // a kernel's arguments (CUDA 12.1 and later on Volta and later)
  int multiprocessors = 132;
  int major = 9, minor = 0;
};

const DeviceLimits& device_limits();

// The dynamic shared memory `kernel` may use: the default, or what cudaFuncSetAttribute allowed it.
size_t dynamic_shared_allowed(const void* kernel);
// Static and dynamic shared memory together: the default, or the device's most once the kernel asked for more.
size_t shared_total_allowed(const void* kernel);

}  // namespace erc::sim
