#include "cuda/stream.h"

#include "cuda/check.h"

namespace erc::cuda {

cudaStream_t stream() {
  static cudaStream_t s = [] {
    cudaStream_t made = nullptr;
    ERC_CUDA_CHECK(cudaStreamCreateWithFlags(&made, cudaStreamNonBlocking));
    return made;
  }();
  return s;
}

void synchronize() { ERC_CUDA_CHECK(cudaStreamSynchronize(stream())); }

Event::Event() { ERC_CUDA_CHECK(cudaEventCreate(&event_)); }
Event::~Event() { cudaEventDestroy(event_); }
void Event::record() { ERC_CUDA_CHECK(cudaEventRecord(event_, stream())); }

float elapsed_ms(const Event& start, const Event& end) {
  ERC_CUDA_CHECK(cudaEventSynchronize(end.event_));
  float ms = 0;
  ERC_CUDA_CHECK(cudaEventElapsedTime(&ms, start.event_, end.event_));
  return ms;
}

}  // namespace erc::cuda
