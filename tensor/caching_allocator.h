// A caching allocator for device memory: freed blocks are kept and handed out again, so that a training step in
// steady state makes no cudaMalloc / cudaFree at all (each costs a device synchronisation and up to milliseconds).
// The host's large tensors use one too (tensor/tensor.cpp): there a fresh block costs a page fault per 4 KiB when
// first written (a tenth of a CPU training step, measured), and glibc gives every block over 32 MiB back at free.
//
// Device-agnostic: the raw allocation is a pair of functions (cudaMalloc / cudaFree in cuda/, a counting fake in
// the tests), so the policy is tested on any machine. With caching off every request goes to the backend at its
// exact size and every free straight back. With one stream, work is ordered: a block freed by the host may be reused
// by the next kernel launched on that stream, because that kernel runs after every earlier use.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

namespace erc {

struct AllocatorStats {
  size_t in_use_bytes = 0, peak_in_use_bytes = 0;  // handed out (rounded sizes)
  size_t cached_bytes = 0;                         // held free for reuse
  size_t raw_allocations = 0, raw_frees = 0;       // calls to the backend
  size_t reuses = 0;                               // allocations served from the cache
};

class CachingAllocator {
 public:
  using RawAlloc = std::function<void*(size_t bytes)>;  // nullptr when out of memory
  using RawFree = std::function<void(void* ptr)>;
  // With caching, at most max_cached_bytes are held free: a block freed beyond that goes back to the backend.
  CachingAllocator(std::string device_name, RawAlloc raw_alloc, RawFree raw_free, bool caching = true,
                   size_t max_cached_bytes = SIZE_MAX);
  // Returns every cached block (an error doing so is dropped: nothing could act on it at exit); blocks still in use
  // are the caller's leak.
  ~CachingAllocator();
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // At least `bytes` (0 gives nullptr). Reuses the smallest cached block that fits and wastes at most a quarter of
  // it; else allocates, and when the device is full, returns the cache to it and tries once more. Out of memory
  // is an erc::Error naming the device, the request, what is in use and what was cached.
  void* allocate(size_t bytes);
  void free(void* ptr);    // nullptr is ignored; a pointer this allocator did not hand out is an erc::Error
  void empty_cache();      // returns every cached block to the backend
  AllocatorStats stats() const;
  void reset_peak();  // peak_in_use_bytes from now on: what is in use now, then the highest since

  // Sizes are rounded up to multiples of 512 B below 1 MiB and of 1 MiB above (what a block really occupies).
  static size_t round_size(size_t bytes);

 private:
  void release_cached_locked();
  std::string device_name_;
  RawAlloc raw_alloc_;
  RawFree raw_free_;
  bool caching_;
  size_t max_cached_bytes_;
  mutable std::mutex mutex_;
  std::multimap<size_t, void*> cached_;          // free blocks by size
  std::unordered_map<void*, size_t> in_use_;     // handed-out blocks and their sizes
  AllocatorStats stats_;
};

}  // namespace erc
