// The CUDA face of ops/softmax: the launchers ops/softmax.cu defines and ops/softmax.cpp calls, and the row loops
// both faces run (the CPU on every row, a kernel's thread on a short one: the same bits). A contiguous tensor is seen
// as rows of n elements `stride` apart: row r starts at (r / stride) * n * stride + r % stride.
#pragma once
#include <cmath>

#include "tensor/host_device.h"
#include "tensor/tensor.h"

namespace erc::ops {

// y = softmax or log_softmax of one row of x, the maximum and the sum of exponentials in double.
template <typename T>
ERC_HOST_DEVICE inline void softmax_row(const T* x, T* y, int64_t n, int64_t stride, bool take_log) {
  double m = -INFINITY;
  for (int64_t k = 0; k < n; ++k) m = fmax(m, double(x[k * stride]));
  double total = 0;
  for (int64_t k = 0; k < n; ++k) total += exp(double(x[k * stride]) - m);
  const double lse = m + log(total);
  for (int64_t k = 0; k < n; ++k)
    y[k * stride] = take_log ? T(double(x[k * stride]) - lse) : T(exp(double(x[k * stride]) - m) / total);
}

// The gradient of one row from the output y and its gradient g: y (g - sum(g y)), or g - e^y sum(g) for log_softmax.
template <typename T>
ERC_HOST_DEVICE inline T softmax_grad(double g, double y, double dot, bool take_log) {
  return take_log ? T(g - exp(y) * dot) : T(y * (g - dot));
}
template <typename T>
ERC_HOST_DEVICE inline void softmax_row_backward(const T* y, const T* g, T* gx, int64_t n, int64_t stride, bool take_log) {
  double dot = 0;
  for (int64_t k = 0; k < n; ++k)
    dot += take_log ? double(g[k * stride]) : double(g[k * stride]) * double(y[k * stride]);
  for (int64_t k = 0; k < n; ++k)
    gx[k * stride] = softmax_grad<T>(double(g[k * stride]), double(y[k * stride]), dot, take_log);
}

namespace cuda {

// y = softmax or log_softmax of each of the `count` rows of x (max and sum in double, as the CPU).
void softmax_forward(const Tensor& x, const Tensor& y, int64_t count, int64_t n, int64_t inner, bool take_log);
// grad_x from the saved output y and grad_y: y (g - sum(g y)), or g - e^y sum(g) for log_softmax.
void softmax_backward(const Tensor& y, const Tensor& grad_y, const Tensor& grad_x, int64_t count, int64_t n,
                      int64_t inner, bool take_log);

}  // namespace cuda
}  // namespace erc::ops
