#include "cuda/memory.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <vector>

#include "cuda/check.h"
#include "cuda/stream.h"
#ifdef ERC_CUDA_SIM
#include "cuda/sim/device_memory.h"
#endif

namespace erc::cuda {

namespace {

std::atomic<size_t> waits{0};

// Pinned host blocks that host-to-device copies go through, so that the copy is asynchronous (from pageable memory a
// GPU waits for the stream first). A block is reused once the event recorded after its copy has passed; when every
// block is still in flight and there are kMaxBlocks of them, the oldest is waited for.
class Staging {
 public:
  Staging() { blocks_.reserve(kMaxBlocks); }
  void send(void* dst, const void* src, size_t nbytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    Block& b = free_block(nbytes);
    std::memcpy(b.host, src, nbytes);
    ERC_CUDA_CHECK(cudaMemcpyAsync(dst, b.host, nbytes, cudaMemcpyHostToDevice, stream()));
    ERC_CUDA_CHECK(cudaEventRecord(b.done, stream()));
    b.in_flight = true;
    b.sent = ++sent_;
  }

 private:
  static constexpr size_t kMaxBlocks = 8, kSmallest = 64 * 1024;
  struct Block {
    void* host = nullptr;
    size_t bytes = 0;
    cudaEvent_t done = nullptr;
    bool in_flight = false;
    uint64_t sent = 0;
  };

  bool passed(Block& b) {
    if (!b.in_flight) return true;
    const cudaError_t status = cudaEventQuery(b.done);
    if (status == cudaErrorNotReady) return false;
    ERC_CUDA_CHECK(status);
    b.in_flight = false;
    return true;
  }

  Block& free_block(size_t nbytes) {
    Block* fits = nullptr;  // the smallest block whose copy has run that holds nbytes
    Block* idle = nullptr;  // another block whose copy has run
    for (Block& b : blocks_) {
      if (!passed(b)) continue;
      if (b.bytes < nbytes)
        idle = &b;
      else if (!fits || b.bytes < fits->bytes)
        fits = &b;
    }
    if (fits) return *fits;
    if (!idle && blocks_.size() == kMaxBlocks) {
      Block* oldest = &blocks_[0];
      for (Block& b : blocks_) oldest = b.sent < oldest->sent ? &b : oldest;
      ERC_CUDA_CHECK(cudaEventSynchronize(oldest->done));
      ++waits;
      oldest->in_flight = false;
      idle = oldest;
    }
    if (!idle) {
      blocks_.emplace_back();
      idle = &blocks_.back();
      ERC_CUDA_CHECK(cudaEventCreate(&idle->done));
    }
    if (idle->bytes < nbytes) {
      if (idle->host) ERC_CUDA_CHECK(cudaFreeHost(idle->host));
      idle->bytes = std::max(kSmallest, nbytes);
      ERC_CUDA_CHECK(cudaMallocHost(&idle->host, idle->bytes));
    }
    return *idle;
  }

  std::mutex mutex_;
  std::vector<Block> blocks_;  // never more than kMaxBlocks: references stay valid
  uint64_t sent_ = 0;
};

Staging& staging() {
  static auto* s = new Staging();  // never destroyed: its pinned blocks live as long as the process
  return *s;
}

}  // namespace

CachingAllocator& device_allocator() {
  static CachingAllocator allocator(
      "cuda",
      [](size_t bytes) -> void* {
        void* ptr = nullptr;
        const cudaError_t status = cudaMalloc(&ptr, bytes);
        if (status == cudaErrorMemoryAllocation) {
          cudaGetLastError();  // clear it: the allocator frees its cache and asks again
          return nullptr;
        }
        ERC_CUDA_CHECK(status);
        return ptr;
      },
      [](void* ptr) {
        const cudaError_t status = cudaFree(ptr);
        if (status == cudaSuccess || status == cudaErrorCudartUnloading || status == cudaPeekAtLastError()) return;
        ERC_CUDA_CHECK(status);
      });
  return allocator;
}

void* allocate(size_t bytes) {
  void* ptr = device_allocator().allocate(bytes);
#ifdef ERC_CUDA_SIM
  if (ptr) sim::device_hand_out(ptr, bytes);
#endif
  return ptr;
}

void release(void* ptr) {
#ifdef ERC_CUDA_SIM
  if (ptr) sim::device_take_back(ptr);
#endif
  device_allocator().free(ptr);
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes) {
  if (nbytes == 0) return;
  const bool to_device = dst_device == Device::cuda, from_device = src_device == Device::cuda;
  if (to_device && !from_device) {
    staging().send(dst, src, nbytes);
    return;
  }
  const cudaMemcpyKind kind =
      to_device ? cudaMemcpyDeviceToDevice : (from_device ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
  ERC_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, kind, stream()));
  if (!to_device) {
    synchronize();
    ++waits;
  }
}

size_t host_waits() { return waits.load(); }

}  // namespace erc::cuda
