#include "cuda/kernel.h"
#include "ops/binary_cuda.h"
#include "ops/strided.h"

namespace erc::ops::cuda {

namespace {

constexpr unsigned kThreads = 256;

template <typename T>
__global__ void binary_kernel(BinaryKind kind, const T* a, const T* b, T* out, StridedLayout<2> layout, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    int64_t at[2];
    layout.offsets(i, at);
    out[i] = apply_binary(kind, a[at[0]], b[at[1]]);
  }
}

template <typename T>
__global__ void scalar_kernel(const T* x, T mul, T add, T* out, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) out[i] = x[i] * mul + add;
}

}  // namespace

void binary(BinaryKind kind, const Tensor& a, const Tensor& b, const Tensor& out) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const StridedLayout<2> layout = strided_layout<2>(out.shape(), {&a.strides(), &b.strides()}, "binary op");
  dispatch_float(out.dtype(), "binary op", [&](auto tag) {
    using scalar_t = decltype(tag);
    launch<binary_kernel<scalar_t>>(ERC_HERE, grid_for(n, kThreads), kThreads, 0, kind, a.device_data<scalar_t>(),
                                    b.device_data<scalar_t>(), out.device_data<scalar_t>(), layout, n);
  });
}

void scalar_op(const Tensor& x, double mul, double add, const Tensor& out) {
  const int64_t n = out.numel();
  if (n == 0) return;
  dispatch_float(out.dtype(), "scalar op", [&](auto tag) {
    using scalar_t = decltype(tag);
    launch<scalar_kernel<scalar_t>>(ERC_HERE, grid_for(n, kThreads), kThreads, 0, x.device_data<scalar_t>(),
                                    scalar_t(mul), scalar_t(add), out.device_data<scalar_t>(), n);
  });
}

}  // namespace erc::ops::cuda
