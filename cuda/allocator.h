// The device's caching allocator (tensor/caching_allocator.h over cudaMalloc / cudaFree): what every CUDA tensor's
// storage comes from, so a training step in steady state calls cudaMalloc not at all. Plain C++ header.
#pragma once
#include "tensor/caching_allocator.h"

namespace erc::cuda {

// The process's allocator for the current device, made on first use. cudaMalloc's out-of-memory answer becomes a
// nullptr (the allocator then returns its cache and retries); any other CUDA error is an erc::Error.
CachingAllocator& device_allocator();

}  // namespace erc::cuda
