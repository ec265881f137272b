// Which GPUs this process can use. Plain C++ header: callers need no CUDA headers.
#pragma once
#include <string>

namespace erc::cuda {

// The number of CUDA devices that answer; 0 when there is no driver or no GPU (never an error).
int device_count();

// One line per device: index, name, compute capability, memory, multiprocessors; or why there is none.
std::string device_summary();

// Whether "the device" is erc's CUDA simulator (a SIM build): kernels then run on the CPU, and their times are the
// simulator's, not a GPU's.
bool simulated();

}  // namespace erc::cuda
