#include <cmath>

#include "cuda/kernel.h"
#include "ops/block_reduce.cuh"
#include "ops/softmax_cuda.h"

namespace erc::ops::cuda {

namespace {

constexpr unsigned kThreads = 256;
constexpr int64_t kSerialRow = 64;  // rows up to this long are one thread's, in the CPU's order (the same bits)

__device__ inline int64_t row_start(int64_t r, int64_t n, int64_t inner) { return (r / inner) * n * inner + r % inner; }

// Short rows: one thread each, the CPU's loop.
template <typename T>
__global__ void softmax_serial_kernel(const T* x, T* y, int64_t count, int64_t n, int64_t inner, bool take_log) {
  for (int64_t r = global_thread(); r < count; r += grid_threads())
    softmax_row(x + row_start(r, n, inner), y + row_start(r, n, inner), n, inner, take_log);
}

// Long rows: one block each; the threads' strided partials of the max and the sum meet in block_reduce's fixed tree.
template <typename T>
__global__ void softmax_block_kernel(const T* x, T* y, int64_t n, int64_t inner, bool take_log) {
  ERC_SHARED(double, row_max);
  ERC_SHARED(double, row_total);
  const T* xr = x + row_start(blockIdx.x, n, inner);
  T* yr = y + row_start(blockIdx.x, n, inner);
  double m = -INFINITY;
  for (int64_t k = threadIdx.x; k < n; k += kThreads) m = fmax(m, double(xr[k * inner]));
  m = block_reduce<kThreads>(m, double(-INFINITY), Max{});
  if (threadIdx.x == 0) row_max = m;
  __syncthreads();
  m = row_max;
  double total = 0;
  for (int64_t k = threadIdx.x; k < n; k += kThreads) total += exp(double(xr[k * inner]) - m);
  total = block_reduce<kThreads>(total, 0.0, Plus{});
  if (threadIdx.x == 0) row_total = total;
  __syncthreads();
  total = row_total;
  const double lse = m + log(total);
  for (int64_t k = threadIdx.x; k < n; k += kThreads)
    yr[k * inner] = take_log ? T(double(xr[k * inner]) - lse) : T(exp(double(xr[k * inner]) - m) / total);
}

template <typename T>
__global__ void softmax_backward_serial_kernel(const T* y, const T* g, T* gx, int64_t count, int64_t n, int64_t inner,
                                               bool take_log) {
  for (int64_t r = global_thread(); r < count; r += grid_threads()) {
    const int64_t s = row_start(r, n, inner);
    softmax_row_backward(y + s, g + s, gx + s, n, inner, take_log);
  }
}

template <typename T>
__global__ void softmax_backward_block_kernel(const T* y, const T* g, T* gx, int64_t n, int64_t inner, bool take_log) {
  ERC_SHARED(double, row_dot);
  const int64_t s = row_start(blockIdx.x, n, inner);
  double dot = 0;
  for (int64_t k = threadIdx.x; k < n; k += kThreads) {
    const int64_t i = s + k * inner;
    dot += take_log ? double(g[i]) : double(g[i]) * double(y[i]);
  }
  dot = block_reduce<kThreads>(dot, 0.0, Plus{});
  if (threadIdx.x == 0) row_dot = dot;
  __syncthreads();
  dot = row_dot;
  for (int64_t k = threadIdx.x; k < n; k += kThreads) {
    const int64_t i = s + k * inner;
    gx[i] = softmax_grad<T>(double(g[i]), double(y[i]), dot, take_log);
  }
}

}  // namespace

void softmax_forward(const Tensor& x, const Tensor& y, int64_t count, int64_t n, int64_t inner, bool take_log) {
  if (count == 0 || n == 0) return;
  dispatch_float(x.dtype(), take_log ? "log_softmax" : "softmax", [&](auto tag) {
    using scalar_t = decltype(tag);
    const scalar_t* px = x.device_data<scalar_t>();
    scalar_t* py = y.device_data<scalar_t>();
    if (n <= kSerialRow)
      launch<softmax_serial_kernel<scalar_t>>(ERC_HERE, grid_for(count, kThreads), kThreads, 0, px, py, count, n, inner,
                                              take_log);
    else
      launch<softmax_block_kernel<scalar_t>>(ERC_HERE, unsigned(count), kThreads, 0, px, py, n, inner, take_log);
  });
}

void softmax_backward(const Tensor& y, const Tensor& grad_y, const Tensor& grad_x, int64_t count, int64_t n,
                      int64_t inner, bool take_log) {
  if (count == 0 || n == 0) return;
  dispatch_float(y.dtype(), take_log ? "log_softmax backward" : "softmax backward", [&](auto tag) {
    using scalar_t = decltype(tag);
    const scalar_t* py = y.device_data<scalar_t>();
    const scalar_t* pg = grad_y.device_data<scalar_t>();
    scalar_t* pgx = grad_x.device_data<scalar_t>();
    if (n <= kSerialRow)
      launch<softmax_backward_serial_kernel<scalar_t>>(ERC_HERE, grid_for(count, kThreads), kThreads, 0, py, pg, pgx,
                                                       count, n, inner, take_log);
    else
      launch<softmax_backward_block_kernel<scalar_t>>(ERC_HERE, unsigned(count), kThreads, 0, py, pg, pgx, n, inner,
                                                      take_log);
  });
}

}  // namespace erc::ops::cuda
