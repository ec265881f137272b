// The GPU time of each kernel in a stretch of work, for erc_profile's breakdown of a training step. While a
// KernelTimeline records, every launch through launch() (cuda/kernel.h) and every GEMM that ops/matmul.cu hands to
// cuBLAS is bracketed by two events on erc's stream; kernels() then waits for the stream and sums the times by
// kernel name. The events add a little to each launch, so time the whole stretch without a timeline.
// Plain C++ header: callers need no CUDA headers.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace erc::cuda {

class Event;

class KernelTimeline {
 public:
  KernelTimeline();  // starts recording; one timeline records at a time
  ~KernelTimeline();
  KernelTimeline(const KernelTimeline&) = delete;
  KernelTimeline& operator=(const KernelTimeline&) = delete;

  struct Kernel {
    std::string name;
    int64_t launches = 0;
    double ms = 0;  // all its launches together
  };
  // Every kernel launched since construction, the slowest first; waits for the stream.
  std::vector<Kernel> kernels() const;
  int64_t launches() const { return int64_t(spans_.size()); }

  // Called by the launcher and the GEMM wrapper around each launch: nothing unless a timeline records.
  static bool recording();
  static void begin(const char* kernel);
  static void end();

 private:
  struct Span {
    const char* kernel;
    std::unique_ptr<Event> start, end;
  };
  std::vector<Span> spans_;
};

}  // namespace erc::cuda
