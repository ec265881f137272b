// The simulated device's state beyond its memory: its errors, kept as a GPU keeps them, and the copies waiting on its
// stream.
// - A launch the device refuses (its configuration) does not run; the next cudaGetLastError or cudaPeekAtLastError
//   reports it, and cudaGetLastError clears it.
// - A fault in a running kernel (the memory checker's findings, a barrier not every thread reaches, ...) is
//   asynchronous: the launch returns as if nothing happened, and the fault becomes the device's error at the next
//   synchronising call (a blocking copy, a stream, event or device synchronisation, cudaFree, cudaMalloc). From then
//   on every call returns it, cudaGetLastError included, as a GPU's context stays lost; launches after a fault do
//   not run. cudaGetErrorString then gives CUDA's text followed by the simulator's account of the fault.
#pragma once
#include <string>

#include "cuda/sim/runtime_api.h"

namespace erc::sim {

void launch_refused(cudaError_t error, const std::string& why);
void record_fault(cudaError_t error, const std::string& what);
bool device_lost();  // a fault is recorded, surfaced or not

// Runs the asynchronous copies still waiting (runtime_api.h): every stream operation does first, to keep the order.
void run_waiting_copies();

// For the simulator's own tests only: the device as a new process finds it, with no error recorded.
void forget_device_errors();

}  // namespace erc::sim
