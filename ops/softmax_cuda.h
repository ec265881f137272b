// The CUDA face of ops/softmax: the launchers ops/softmax.cu defines and ops/softmax.cpp calls. A contiguous tensor
// is seen as rows of n elements `inner` apart: row r starts at (r / inner) * n * inner + r % inner.
#pragma once
#include "tensor/tensor.h"

namespace erc::ops::cuda {

// y = softmax or log_softmax of each of the `count` rows of x (max and sum in double, as the CPU).
void softmax_forward(const Tensor& x, const Tensor& y, int64_t count, int64_t n, int64_t inner, bool take_log);
// grad_x from the saved output y and grad_y: y (g - sum(g y)), or g - e^y sum(g) for log_softmax.
void softmax_backward(const Tensor& y, const Tensor& grad_y, const Tensor& grad_x, int64_t count, int64_t n,
                      int64_t inner, bool take_log);

}  // namespace erc::ops::cuda
