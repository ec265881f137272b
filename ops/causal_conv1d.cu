#include "cuda/kernel.h"
#include "ops/causal_conv1d_cuda.h"
#include "ops/device.h"
#include "ops/packed_cuda.h"

namespace erc::ops::cuda {

namespace {

constexpr unsigned kThreads = 256;

// A thread per (frame, channel); the threads of a warp take consecutive channels, so every read is coalesced.
template <typename T>
__global__ void causal_conv1d_kernel(const T* x, const T* taps, const T* bias, const int64_t* offsets, int64_t n_seqs,
                                     T* y, int64_t T_frames, int64_t E, int64_t K) {
  for (int64_t i = global_thread(); i < T_frames * E; i += grid_threads()) {
    const int64_t t = i / E, e = i % E, start = offsets[sequence_of(offsets, n_seqs, t)];
    T acc = bias[e];
    for (int64_t k = start - t + (K - 1) > 0 ? start - t + (K - 1) : 0; k < K; ++k)
      acc += taps[k * E + e] * x[(t - (K - 1) + k) * E + e];
    y[i] = acc;
  }
}

// Frame s feeds outputs t = s + (K - 1) - k of its own sequence only.
template <typename T>
__global__ void causal_conv1d_dx_kernel(const T* taps, const T* g, const int64_t* offsets, int64_t n_seqs, T* dx,
                                        int64_t T_frames, int64_t E, int64_t K) {
  for (int64_t i = global_thread(); i < T_frames * E; i += grid_threads()) {
    const int64_t s = i / E, e = i % E, end = offsets[sequence_of(offsets, n_seqs, s) + 1];
    T acc = 0;
    for (int64_t k = 0; k < K; ++k)
      if (s + (K - 1) - k < end) acc += taps[k * E + e] * g[(s + (K - 1) - k) * E + e];
    dx[i] = acc;
  }
}

// Thread (block b, row r, channel e) sums over the frames of block b, in order: r < K gives g[t] x[t - (K - 1) + r]
// (dweight's tap r), r = K gives g[t] (dbias). partial: [n_blocks, K + 1, E].
template <typename T>
__global__ void causal_conv1d_param_partial_kernel(const T* x, const T* g, const int64_t* offsets, int64_t n_seqs,
                                                   double* partial, int64_t T_frames, int64_t E, int64_t K,
                                                   int64_t n_blocks) {
  for (int64_t i = global_thread(); i < n_blocks * (K + 1) * E; i += grid_threads()) {
    const int64_t block = i / ((K + 1) * E), r = i / E % (K + 1), e = i % E;
    const int64_t first = block * kCausalConvFrameBlock;
    const int64_t last = first + kCausalConvFrameBlock < T_frames ? first + kCausalConvFrameBlock : T_frames;
    double acc = 0;
    for (int64_t t = first; t < last; ++t) {
      if (r == K) {
        acc += double(g[t * E + e]);
        continue;
      }
      const int64_t source = t - (K - 1) + r;
      if (source >= offsets[sequence_of(offsets, n_seqs, t)]) acc += double(g[t * E + e]) * double(x[source * E + e]);
    }
    partial[i] = acc;
  }
}

template <typename T>
__global__ void causal_conv1d_param_total_kernel(const double* partial, T* dweight, T* dbias, int64_t E, int64_t K,
                                                 int64_t n_blocks) {
  for (int64_t i = global_thread(); i < (K + 1) * E; i += grid_threads()) {
    const int64_t r = i / E, e = i % E;
    double total = 0;
    for (int64_t block = 0; block < n_blocks; ++block) total += partial[block * (K + 1) * E + i];
    if (r < K && dweight) dweight[e * K + r] = T(total);
    if (r == K && dbias) dbias[e] = T(total);
  }
}

}  // namespace

void causal_conv1d_forward(const Tensor& x, const Tensor& taps, const Tensor& bias, const Tensor& offsets,
                           const Tensor& y) {
  const int64_t T_frames = x.size(0), E = x.size(1), K = taps.size(0);
  if (T_frames * E == 0) return;
  dispatch_float(x.dtype(), "causal_conv1d", [&](auto tag) {
    using scalar_t = decltype(tag);
    launch<causal_conv1d_kernel<scalar_t>>(ERC_HERE, grid_for(T_frames * E, kThreads), kThreads, 0,
                                           x.device_data<scalar_t>(), taps.device_data<scalar_t>(),
                                           bias.device_data<scalar_t>(), offsets.device_data<int64_t>(),
                                           offsets.numel() - 1, y.device_data<scalar_t>(), T_frames, E, K);
  });
}

void causal_conv1d_backward(const Tensor& x, const Tensor& taps, const Tensor& g, const Tensor& offsets,
                            const Tensor& dx, const Tensor& dweight, const Tensor& dbias) {
  const int64_t T_frames = x.size(0), E = x.size(1), K = taps.size(0), n_seqs = offsets.numel() - 1;
  if (T_frames * E == 0) return;
  dispatch_float(x.dtype(), "causal_conv1d backward", [&](auto tag) {
    using scalar_t = decltype(tag);
    const int64_t* po = offsets.device_data<int64_t>();
    if (dx.defined())
      launch<causal_conv1d_dx_kernel<scalar_t>>(ERC_HERE, grid_for(T_frames * E, kThreads), kThreads, 0,
                                                taps.device_data<scalar_t>(), g.device_data<scalar_t>(), po, n_seqs,
                                                dx.device_data<scalar_t>(), T_frames, E, K);
    if (!dweight.defined() && !dbias.defined()) return;
    const int64_t n_blocks = (T_frames + kCausalConvFrameBlock - 1) / kCausalConvFrameBlock;
    Tensor partial = Tensor::empty({n_blocks, K + 1, E}, DType::f64, Device::cuda);
    launch<causal_conv1d_param_partial_kernel<scalar_t>>(
        ERC_HERE, grid_for(partial.numel(), kThreads), kThreads, 0, x.device_data<scalar_t>(),
        g.device_data<scalar_t>(), po, n_seqs, partial.device_data<double>(), T_frames, E, K, n_blocks);
    launch<causal_conv1d_param_total_kernel<scalar_t>>(
        ERC_HERE, grid_for((K + 1) * E, kThreads), kThreads, 0, partial.device_data<double>(),
        device_data_or_null<scalar_t>(dweight), device_data_or_null<scalar_t>(dbias), E, K, n_blocks);
  });
}

}  // namespace erc::ops::cuda
