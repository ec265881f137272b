#include <cmath>

#include "cuda/kernel.h"
#include "ops/block_reduce.cuh"
#include "ops/device.h"
#include "ops/layer_norm_cuda.h"
#include "ops/unary_cuda.h"

namespace erc::ops::cuda {

namespace {

// A warp per row: D = 256 (the encoder) or 1024 (WavLM) is 8 or 32 elements per lane, read coalesced, and the row's
// sums meet in a butterfly that leaves them in every lane.
constexpr unsigned kThreads = 256, kRowsPerBlock = kThreads / 32;

// With kGelu, y = GELU(layer_norm(x)) as the two ops give it, and no statistics are kept (mean, rstd null).
template <typename T, bool kGelu>
__global__ void layer_norm_forward_kernel(const T* x, const T* weight, const T* bias, T* y, double* mean, double* rstd,
                                          int64_t rows, int64_t D, double eps) {
  const int64_t r = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32;
  if (r >= rows) return;  // the whole warp: no lane of a shuffle is missing
  const unsigned lane = threadIdx.x % 32;
  const T* xr = x + r * D;
  double sum = 0;
  for (int64_t j = lane; j < D; j += 32) sum += double(xr[j]);
  const double m = warp_all_reduce(sum, Plus{}) / double(D);
  double sq = 0;
  for (int64_t j = lane; j < D; j += 32) sq += (double(xr[j]) - m) * (double(xr[j]) - m);
  const double s = 1.0 / sqrt(warp_all_reduce(sq, Plus{}) / double(D) + eps);
  for (int64_t j = lane; j < D; j += 32) {
    const T normed = T((double(xr[j]) - m) * s * double(weight[j]) + double(bias[j]));
    y[r * D + j] = kGelu ? Gelu::value(normed, normed) : normed;
  }
  if (!kGelu && lane == 0) mean[r] = m, rstd[r] = s;
}

template <typename T>
__global__ void layer_norm_dx_kernel(const T* x, const T* weight, const double* mean, const double* rstd, const T* g,
                                     T* dx, int64_t rows, int64_t D) {
  const int64_t r = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32;
  if (r >= rows) return;
  const unsigned lane = threadIdx.x % 32;
  const T *xr = x + r * D, *gr = g + r * D;
  const double m = mean[r], s = rstd[r];
  double sum_gh = 0, sum_gh_xhat = 0;
  for (int64_t j = lane; j < D; j += 32) {
    const double gh = double(gr[j]) * double(weight[j]);
    sum_gh += gh;
    sum_gh_xhat += gh * ((double(xr[j]) - m) * s);
  }
  const double mean_gh = warp_all_reduce(sum_gh, Plus{}) / double(D);
  const double mean_gh_xhat = warp_all_reduce(sum_gh_xhat, Plus{}) / double(D);
  for (int64_t j = lane; j < D; j += 32)
    dx[r * D + j] =
        T(layer_norm_dx(double(gr[j]) * double(weight[j]), (double(xr[j]) - m) * s, s, mean_gh, mean_gh_xhat));
}

// Block (b, c) sums column chunk c of row block b in row order: partial[b][0][j] = Σ g x̂, partial[b][1][j] = Σ g.
template <typename T>
__global__ void layer_norm_param_partial_kernel(const T* x, const double* mean, const double* rstd, const T* g,
                                                double* partial, int64_t rows, int64_t D, int64_t n_blocks) {
  const int64_t j = int64_t(blockIdx.y) * kThreads + threadIdx.x;
  if (j >= D) return;
  const int64_t block = blockIdx.x;
  double acc_w = 0, acc_b = 0;
  for (int64_t r = layer_norm_block_begin(block, rows, n_blocks); r < layer_norm_block_begin(block + 1, rows, n_blocks);
       ++r) {
    const double xhat = (double(x[r * D + j]) - mean[r]) * rstd[r];
    acc_w += double(g[r * D + j]) * xhat;
    acc_b += double(g[r * D + j]);
  }
  partial[block * 2 * D + j] = acc_w;
  partial[block * 2 * D + D + j] = acc_b;
}

template <typename T>
__global__ void layer_norm_param_total_kernel(const double* partial, T* dweight, T* dbias, int64_t D,
                                              int64_t n_blocks) {
  for (int64_t j = global_thread(); j < D; j += grid_threads()) {
    double sw = 0, sb = 0;
    for (int64_t block = 0; block < n_blocks; ++block) {
      sw += partial[block * 2 * D + j];
      sb += partial[block * 2 * D + D + j];
    }
    if (dweight) dweight[j] = T(sw);
    if (dbias) dbias[j] = T(sb);
  }
}

unsigned row_blocks(int64_t rows) { return unsigned((rows + kRowsPerBlock - 1) / kRowsPerBlock); }

}  // namespace

void layer_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, const Tensor& y,
                        const Tensor& mean, const Tensor& rstd) {
  const int64_t rows = x.size(0), D = x.size(1);
  if (rows == 0) return;
  dispatch_float(x.dtype(), "layer_norm", [&](auto tag) {
    using scalar_t = decltype(tag);
    launch<layer_norm_forward_kernel<scalar_t, false>>(
        ERC_HERE, row_blocks(rows), kThreads, 0, x.device_data<scalar_t>(), weight.device_data<scalar_t>(),
        bias.device_data<scalar_t>(), y.device_data<scalar_t>(), mean.device_data<double>(), rstd.device_data<double>(),
        rows, D, eps);
  });
}

void layer_norm_gelu_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, const Tensor& y) {
  const int64_t rows = x.size(0), D = x.size(1);
  if (rows == 0) return;
  dispatch_float(x.dtype(), "layer_norm_gelu", [&](auto tag) {
    using scalar_t = decltype(tag);
    launch<layer_norm_forward_kernel<scalar_t, true>>(
        ERC_HERE, row_blocks(rows), kThreads, 0, x.device_data<scalar_t>(), weight.device_data<scalar_t>(),
        bias.device_data<scalar_t>(), y.device_data<scalar_t>(), nullptr, nullptr, rows, D, eps);
  });
}

void layer_norm_backward(const Tensor& x, const Tensor& weight, const Tensor& mean, const Tensor& rstd, const Tensor& g,
                         const Tensor& dx, const Tensor& dweight, const Tensor& dbias) {
  const int64_t rows = x.size(0), D = x.size(1);
  if (rows == 0) return;
  dispatch_float(x.dtype(), "layer_norm backward", [&](auto tag) {
    using scalar_t = decltype(tag);
    const scalar_t *px = x.device_data<scalar_t>(), *pg = g.device_data<scalar_t>();
    const double *pm = mean.device_data<double>(), *pr = rstd.device_data<double>();
    if (dx.defined())
      launch<layer_norm_dx_kernel<scalar_t>>(ERC_HERE, row_blocks(rows), kThreads, 0, px,
                                             weight.device_data<scalar_t>(), pm, pr, pg, dx.device_data<scalar_t>(),
                                             rows, D);
    if (!dweight.defined() && !dbias.defined()) return;
    const int64_t n_blocks = rows < kLayerNormRowBlocks ? rows : kLayerNormRowBlocks;
    Tensor partial = Tensor::empty({n_blocks, 2, D}, DType::f64, Device::cuda);
    const dim3 grid(unsigned(n_blocks), unsigned((D + kThreads - 1) / kThreads));
    launch<layer_norm_param_partial_kernel<scalar_t>>(ERC_HERE, grid, kThreads, 0, px, pm, pr, pg,
                                                      partial.device_data<double>(), rows, D, n_blocks);
    launch<layer_norm_param_total_kernel<scalar_t>>(
        ERC_HERE, grid_for(D, kThreads), kThreads, 0, partial.device_data<double>(),
        device_data_or_null<scalar_t>(dweight), device_data_or_null<scalar_t>(dbias), D, n_blocks);
  });
}

}  // namespace erc::ops::cuda
