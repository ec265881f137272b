// Device memory: the caching allocator every CUDA tensor's storage comes from (tensor/caching_allocator.h over
// cudaMalloc / cudaFree), so that a training step in steady state calls cudaMalloc not at all; and copies between
// host and device memory. Plain C++ header: callers need no CUDA headers.
#pragma once
#include <cstddef>

#include "tensor/caching_allocator.h"
#include "tensor/dtype.h"

namespace erc::cuda {

// The process's allocator for the device, made on first use. cudaMalloc's out-of-memory answer becomes a nullptr
// (the allocator then returns its cache and retries); any other CUDA error is an erc::Error, except at cudaFree
// after the device faulted (or while the runtime unloads at exit), where there is nothing left to free.
CachingAllocator& device_allocator();

// A tensor's storage: a block of device_allocator(). In a SIM build the simulator is told the block's exact size in
// use, and makes it poison and unwritten again, as a GPU gives a reused block's old bytes (cuda/sim/device_memory.h).
void* allocate(size_t bytes);
void release(void* ptr);

// nbytes from src to dst on erc's stream, each side host or device memory as its Device says. A copy to the host
// returns when dst holds the bytes (it waits for the stream); a copy to the device returns at once: from host memory
// it goes through a pinned staging buffer (copy_bytes copies the source there first, so the caller may reuse its
// memory at once), and the stream runs it before any later work.
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes);

// How many times copy_bytes waited for the stream (tests count a training step's).
size_t host_waits();

}  // namespace erc::cuda
