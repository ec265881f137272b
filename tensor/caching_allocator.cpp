#include "tensor/caching_allocator.h"

#include <algorithm>
#include <cstdio>

#include "tensor/check.h"

namespace erc {

namespace {
constexpr size_t kSmallStep = 512, kLargeStep = size_t(1) << 20;

std::string mib(size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", double(bytes) / double(kLargeStep));
  return text;
}
}  // namespace

CachingAllocator::CachingAllocator(std::string device_name, RawAlloc raw_alloc, RawFree raw_free, bool caching,
                                   size_t max_cached_bytes)
    : device_name_(std::move(device_name)),
      raw_alloc_(std::move(raw_alloc)),
      raw_free_(std::move(raw_free)),
      caching_(caching),
      max_cached_bytes_(max_cached_bytes) {}

CachingAllocator::~CachingAllocator() {
  std::lock_guard<std::mutex> lock(mutex_);
  try {
    release_cached_locked();
  } catch (...) {  // a destructor must not throw: at exit a device error has already been reported, or never will be
  }
}

size_t CachingAllocator::round_size(size_t bytes) {
  const size_t step = bytes < kLargeStep ? kSmallStep : kLargeStep;
  return (bytes + step - 1) / step * step;
}

void* CachingAllocator::allocate(size_t bytes) {
  if (bytes == 0) return nullptr;
  const size_t size = caching_ ? round_size(bytes) : bytes;
  std::lock_guard<std::mutex> lock(mutex_);
  void* ptr = nullptr;
  size_t got = size;
  // The smallest cached block that fits, if it wastes no more than a quarter of itself.
  auto it = cached_.lower_bound(size);
  if (it != cached_.end() && it->first - size <= it->first / 4) {
    got = it->first;
    ptr = it->second;
    cached_.erase(it);
    stats_.cached_bytes -= got;
    ++stats_.reuses;
  } else {
    ptr = raw_alloc_(size);
    if (!ptr && !cached_.empty()) {  // full: give the cache back and try once more
      release_cached_locked();
      ptr = raw_alloc_(size);
    }
    ERC_CHECK(ptr, device_name_, ": out of memory allocating ", mib(size), " (in use ", mib(stats_.in_use_bytes),
              ", peak ", mib(stats_.peak_in_use_bytes), "; the cache was returned to the device first)");
    ++stats_.raw_allocations;
  }
  in_use_.emplace(ptr, got);
  stats_.in_use_bytes += got;
  stats_.peak_in_use_bytes = std::max(stats_.peak_in_use_bytes, stats_.in_use_bytes);
  return ptr;
}

void CachingAllocator::free(void* ptr) {
  if (!ptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = in_use_.find(ptr);
  ERC_CHECK(it != in_use_.end(), device_name_, ": free of a pointer this allocator did not hand out (or freed twice)");
  stats_.in_use_bytes -= it->second;
  if (caching_ && stats_.cached_bytes + it->second <= max_cached_bytes_) {
    stats_.cached_bytes += it->second;
    cached_.emplace(it->second, ptr);
  } else {
    raw_free_(ptr);
    ++stats_.raw_frees;
  }
  in_use_.erase(it);
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  release_cached_locked();
}

void CachingAllocator::release_cached_locked() {
  for (const auto& [size, ptr] : cached_) {
    raw_free_(ptr);
    ++stats_.raw_frees;
  }
  cached_.clear();
  stats_.cached_bytes = 0;
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void CachingAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peak_in_use_bytes = stats_.in_use_bytes;
}

}  // namespace erc
