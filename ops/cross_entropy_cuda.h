// The CUDA face of ops/cross_entropy: the launchers ops/cross_entropy.cu defines and ops/cross_entropy.cpp calls, and
// the row loop and gradient both faces run (the same bits).
#pragma once
#include <cmath>

#include "tensor/host_device.h"
#include "tensor/tensor.h"

namespace erc::ops {

// The softmax probabilities p of one row of C logits, in double; returns the row's log-sum-exp.
template <typename T>
ERC_HOST_DEVICE inline double cross_entropy_row(const T* row, int64_t n_classes, T* p) {
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
ERC_HOST_DEVICE inline T cross_entropy_grad(double scale, double p, int64_t c, int64_t t) {
  return T(scale * (p - (c == t ? 1.0 : 0.0)));
}

namespace cuda {

// logits [U, C] and targets [U] contiguous -> probs [U, C], the 0-d loss (the mean over the rows not ignored of
// lse - logit[target], summed in row order; NaN when a target is outside [0, C)) and the 0-d i64 count of those rows,
// all on the device: the targets are never read back (that would wait for the stream).
void cross_entropy_forward(const Tensor& logits, const Tensor& targets, int64_t ignore_index, const Tensor& probs,
                           Tensor loss, Tensor count);
// grad [U, C] (zeroed) from the saved probs, targets and count and the 0-d grad_loss, all read on the device.
void cross_entropy_backward(const Tensor& probs, const Tensor& targets, int64_t ignore_index, const Tensor& count,
                            const Tensor& grad_loss, const Tensor& grad);

}  // namespace cuda
}  // namespace erc::ops
