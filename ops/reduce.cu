#include "cuda/kernel.h"
#include "ops/block_reduce.cuh"
#include "ops/reduce_cuda.h"

namespace erc::ops::cuda {

namespace {

constexpr unsigned kThreads = 256;
constexpr int64_t kSerialRow = 64;  // rows up to this long are summed by one thread
constexpr int64_t kChunk = 8192;    // elements one block sums of a longer row

template <typename T>
__global__ void sum_rows_serial_kernel(const T* rows, int64_t n_out, int64_t inner, double scale, T* out) {
  for (int64_t r = global_thread(); r < n_out; r += grid_threads()) out[r] = sum_row(rows + r * inner, inner, scale);
}

// Block b sums chunk (b % parts) of row (b / parts) into partial[b].
template <typename T>
__global__ void sum_rows_chunk_kernel(const T* rows, int64_t inner, int64_t parts, double* partial) {
  const int64_t row = blockIdx.x / parts, begin = (blockIdx.x % parts) * kChunk;
  const int64_t end = begin + kChunk < inner ? begin + kChunk : inner;
  double acc = 0;
  for (int64_t j = begin + threadIdx.x; j < end; j += kThreads) acc += double(rows[row * inner + j]);
  acc = block_reduce<kThreads>(acc, 0.0, Plus{});
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

template <typename T>
__global__ void sum_partials_kernel(const double* partial, int64_t n_out, int64_t parts, double scale, T* out) {
  for (int64_t r = global_thread(); r < n_out; r += grid_threads()) {
    double acc = 0;
    for (int64_t p = 0; p < parts; ++p) acc += partial[r * parts + p];
    out[r] = T(acc * scale);
  }
}

template <typename T>
__global__ void scale_kernel(T* x, double scale, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) x[i] = T(double(x[i]) * scale);
}

// One thread per output walks its n elements in order, as the CPU does: the first maximum wins.
template <typename T>
__global__ void max_forward_kernel(const T* x, int64_t outer, int64_t n, int64_t inner, T* out, int64_t* argmax) {
  for (int64_t r = global_thread(); r < outer * inner; r += grid_threads()) {
    const T* row = x + (r / inner) * n * inner + r % inner;
    const int64_t best = argmax_along(row, n, inner);
    out[r] = row[best * inner];
    argmax[r] = best;
  }
}

template <typename T>
__global__ void max_backward_kernel(const T* grad, const int64_t* argmax, int64_t outer, int64_t n, int64_t inner,
                                    T* grad_x) {
  for (int64_t r = global_thread(); r < outer * inner; r += grid_threads()) {
    const int64_t o = r / inner, i = r % inner;
    grad_x[(o * n + argmax[r]) * inner + i] = grad[r];
  }
}

}  // namespace

void sum_rows(const Tensor& rows, int64_t n_out, int64_t inner, double scale, const Tensor& out) {
  if (n_out == 0) return;
  dispatch_float(out.dtype(), "sum", [&](auto tag) {
    using scalar_t = decltype(tag);
    const scalar_t* x = rows.device_data<scalar_t>();
    scalar_t* y = out.device_data<scalar_t>();
    if (inner <= kSerialRow) {
      launch<sum_rows_serial_kernel<scalar_t>>(ERC_HERE, grid_for(n_out, kThreads), kThreads, 0, x, n_out, inner, scale,
                                               y);
      return;
    }
    const int64_t parts = (inner + kChunk - 1) / kChunk;
    Tensor partial = Tensor::empty({n_out * parts}, DType::f64, Device::cuda);
    launch<sum_rows_chunk_kernel<scalar_t>>(ERC_HERE, unsigned(n_out * parts), kThreads, 0, x, inner, parts,
                                            partial.device_data<double>());
    launch<sum_partials_kernel<scalar_t>>(ERC_HERE, grid_for(n_out, kThreads), kThreads, 0,
                                          partial.device_data<double>(), n_out, parts, scale, y);
  });
}

void scale_(const Tensor& x, double scale) {
  const int64_t n = x.numel();
  if (n == 0) return;
  dispatch_float(x.dtype(), "sum backward", [&](auto tag) {
    using scalar_t = decltype(tag);
    launch<scale_kernel<scalar_t>>(ERC_HERE, grid_for(n, kThreads), kThreads, 0, x.device_data<scalar_t>(), scale, n);
  });
}

void max_forward(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out, const Tensor& argmax) {
  if (outer * inner == 0) return;
  dispatch_float(x.dtype(), "max", [&](auto tag) {
    using scalar_t = decltype(tag);
    launch<max_forward_kernel<scalar_t>>(ERC_HERE, grid_for(outer * inner, kThreads), kThreads, 0,
                                         x.device_data<scalar_t>(), outer, n, inner, out.device_data<scalar_t>(),
                                         argmax.device_data<int64_t>());
  });
}

void max_backward(const Tensor& grad, const Tensor& argmax, int64_t outer, int64_t n, int64_t inner,
                  const Tensor& grad_x) {
  if (outer * inner == 0) return;
  dispatch_float(grad.dtype(), "max backward", [&](auto tag) {
    using scalar_t = decltype(tag);
    launch<max_backward_kernel<scalar_t>>(ERC_HERE, grid_for(outer * inner, kThreads), kThreads, 0,
                                          grad.device_data<scalar_t>(), argmax.device_data<int64_t>(), outer, n, inner,
                                          grad_x.device_data<scalar_t>());
  });
}

}  // namespace erc::ops::cuda
