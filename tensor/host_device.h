// ERC_HOST_DEVICE marks the few functions that host code and CUDA kernels share (dtype conversions, Philox), so
// that both compute them from one copy of the source. Under nvcc it means __host__ __device__; elsewhere, the
// CUDA simulator included, it means nothing.
#pragma once

#ifdef __CUDACC__
#define ERC_HOST_DEVICE __host__ __device__
#else
#define ERC_HOST_DEVICE
#endif
