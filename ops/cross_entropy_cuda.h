// The CUDA face of ops/cross_entropy: the launchers ops/cross_entropy.cu defines and ops/cross_entropy.cpp calls, and
// the row loop and gradient both faces run (the same bits).
#pragma once
#include <cmath>

#include "tensor/host_device.h"
#include "tensor/tensor.h"

namespace erc::ops {

// The softmax probabilities p of one row of C logits, in double; returns the row's log-sum-exp.
template <typename T>
ERC_HOST_DEVICE double cross_entropy_row(const T* row, int64_t n_classes, T* p) {
  double m = -INFINITY;
  for (int64_t c = 0; c < n_classes; ++c) m = fmax(m, double(row[c]));
  double sum = 0;
  for (int64_t c = 0; c < n_classes; ++c) sum += exp(double(row[c]) - m);
  const double lse = m + log(sum);
  for (int64_t c = 0; c < n_classes; ++c) p[c] = T(exp(double(row[c]) - lse));
  return lse;
}

// d(loss)/d(logit c) of a counted row with target t, scale = d(loss) / count.
template <typename T>
ERC_HOST_DEVICE T cross_entropy_grad(double scale, double p, int64_t c, int64_t t) {
  return T(scale * (p - (c == t ? 1.0 : 0.0)));
}

namespace cuda {

// logits [U, C] and targets [U] contiguous (targets already checked; count of them not ignore_index) -> probs
// [U, C] and the 0-d loss, the mean over counted rows of lse - logit[target], summed in row order.
void cross_entropy_forward(const Tensor& logits, const Tensor& targets, int64_t ignore_index, int64_t count,
                           const Tensor& probs, Tensor loss);
// grad [U, C] (zeroed) from the saved probs and targets and the 0-d grad_loss, read on the device.
void cross_entropy_backward(const Tensor& probs, const Tensor& targets, int64_t ignore_index, int64_t count,
                            const Tensor& grad_loss, const Tensor& grad);

}  // namespace cuda
}  // namespace erc::ops
