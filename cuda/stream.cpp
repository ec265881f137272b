#include "cuda/stream.h"

#include <cstdlib>
#include <cstring>

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

}  // namespace erc::cuda

namespace erc {

bool launch_blocking() {
  static const bool blocking = [] {
    const char* value = std::getenv("CUDA_LAUNCH_BLOCKING");
    return value && std::strcmp(value, "1") == 0;
  }();
  return blocking;
}

}  // namespace erc

namespace erc::cuda {

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
