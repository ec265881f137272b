// erc's one CUDA stream, on which every kernel, copy and cuBLAS call runs in order, and events to time it.
// Plain C++ header: callers need no CUDA headers beyond cuda/api.h.
#pragma once
#include "cuda/api.h"

namespace erc::cuda {

cudaStream_t stream();  // made on first use (non-blocking: it does not wait for work on the legacy default stream)
void synchronize();     // returns when everything queued on the stream has run

// A point in the stream's work; elapsed_ms(start, end) is the GPU time between two recorded events.
class Event {
 public:
  Event();
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  void record();
  friend float elapsed_ms(const Event& start, const Event& end);  // waits for `end`

 private:
  cudaEvent_t event_ = nullptr;
};

}  // namespace erc::cuda
