// Device memory: the caching allocator every CUDA tensor's storage comes from (tensor/caching_allocator.h over
// cudaMalloc / cudaFree), so that a training step in steady state calls cudaMalloc not at all; and copies between
// host and device memory. Plain C++ header: callers need no CUDA headers.
#pragma once
#include <cstddef>

#include "tensor/caching_allocator.h"
#include "tensor/dtype.h"

namespace erc::cuda {

// The process's allocator for the device, made on first use. cudaMalloc's out-of-memory answer becomes a nullptr
// (the allocator then returns its cache and retries); any other CUDA error is an erc::Error. In a SIM build it
// caches nothing and hands every buffer out at its exact size, so that the simulator's guard page sits right
// after its last byte.
CachingAllocator& device_allocator();

// nbytes from src to dst on erc's stream, each side host or device memory as its Device says; returns when dst
// holds them.
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes);

}  // namespace erc::cuda
