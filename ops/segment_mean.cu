#include "cuda/kernel.h"
#include "ops/packed_cuda.h"
#include "ops/segment_mean_cuda.h"

namespace erc::ops::cuda {

namespace {

constexpr unsigned kThreads = 256;

// A thread per (utterance, channel) walks the utterance's frames in order, as the CPU does (the same bits); the
// threads of a warp read consecutive channels of one frame.
template <typename T>
__global__ void segment_mean_kernel(const T* x, const int64_t* offsets, T* y, int64_t n_utts, int64_t D) {
  for (int64_t i = global_thread(); i < n_utts * D; i += grid_threads()) {
    const int64_t u = i / D, d = i % D, begin = offsets[u], end = offsets[u + 1];
    double acc = 0;
    for (int64_t t = begin; t < end; ++t) acc += double(x[t * D + d]);
    y[i] = T(acc / double(end - begin));
  }
}

template <typename T>
__global__ void segment_mean_backward_kernel(const T* g, const int64_t* offsets, T* dx, int64_t n_utts, int64_t D,
                                             int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const int64_t u = sequence_of(offsets, n_utts, i / D);
    dx[i] = T(double(g[u * D + i % D]) * (1.0 / double(offsets[u + 1] - offsets[u])));
  }
}

}  // namespace

void segment_mean_forward(const Tensor& x, const Tensor& utt_offsets, const Tensor& y) {
  const int64_t n_utts = y.size(0), D = y.size(1);
  if (n_utts * D == 0) return;
  dispatch_float(x.dtype(), "segment_mean", [&](auto tag) {
    using scalar_t = decltype(tag);
    launch<segment_mean_kernel<scalar_t>>(ERC_HERE, grid_for(n_utts * D, kThreads), kThreads, 0,
                                          x.device_data<scalar_t>(), utt_offsets.device_data<int64_t>(),
                                          y.device_data<scalar_t>(), n_utts, D);
  });
}

void segment_mean_backward(const Tensor& g, const Tensor& utt_offsets, const Tensor& dx) {
  const int64_t n = dx.numel();
  if (n == 0) return;
  dispatch_float(g.dtype(), "segment_mean backward", [&](auto tag) {
    using scalar_t = decltype(tag);
    launch<segment_mean_backward_kernel<scalar_t>>(ERC_HERE, grid_for(n, kThreads), kThreads, 0,
                                                   g.device_data<scalar_t>(), utt_offsets.device_data<int64_t>(),
                                                   dx.device_data<scalar_t>(), g.size(0), g.size(1), n);
  });
}

}  // namespace erc::ops::cuda
