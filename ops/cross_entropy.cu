#include "cuda/kernel.h"
#include "ops/cross_entropy_cuda.h"

namespace erc::ops::cuda {

namespace {

constexpr unsigned kThreads = 256;

// A thread per row (C is a handful of classes): its probabilities and its loss, lse - logit[target], 0 when ignored,
// NaN when the target is outside [0, C), into row_loss.
template <typename T>
__global__ void cross_entropy_rows_kernel(const T* logits, const int64_t* targets, int64_t ignore_index, T* probs,
                                          double* row_loss, int64_t n_rows, int64_t n_classes) {
  for (int64_t u = global_thread(); u < n_rows; u += grid_threads()) {
    const double lse = cross_entropy_row(logits + u * n_classes, n_classes, probs + u * n_classes);
    const int64_t t = targets[u];
    row_loss[u] = t == ignore_index ? 0.0 : (t >= 0 && t < n_classes ? lse - double(logits[u * n_classes + t]) : NAN);
  }
}

// One thread counts the rows not ignored and adds their losses in row order, as the CPU does: the same bits. U is the
// utterances of one batch.
template <typename T>
__global__ void cross_entropy_mean_kernel(const double* row_loss, const int64_t* targets, int64_t ignore_index,
                                          int64_t n_rows, T* loss, int64_t* count) {
  double total = 0;
  int64_t counted = 0;
  for (int64_t u = 0; u < n_rows; ++u)
    if (targets[u] != ignore_index) total += row_loss[u], ++counted;
  *loss = T(counted > 0 ? total / double(counted) : 0.0);
  *count = counted;
}

template <typename T>
__global__ void cross_entropy_backward_kernel(const T* probs, const int64_t* targets, int64_t ignore_index,
                                              const int64_t* count, const T* grad_loss, T* grad, int64_t n_rows,
                                              int64_t n_classes) {
  const double scale = double(*grad_loss) / double(*count);  // no row is counted when count is 0: grad stays zero
  for (int64_t i = global_thread(); i < n_rows * n_classes; i += grid_threads()) {
    const int64_t u = i / n_classes;
    if (targets[u] != ignore_index) grad[i] = cross_entropy_grad<T>(scale, double(probs[i]), i % n_classes, targets[u]);
  }
}

}  // namespace

void cross_entropy_forward(const Tensor& logits, const Tensor& targets, int64_t ignore_index, const Tensor& probs,
                           Tensor loss, Tensor count) {
  const int64_t n_rows = logits.size(0), n_classes = logits.size(1);
  if (n_rows == 0) {
    loss.fill_(0.0);
    count.fill_(0.0);
    return;
  }
  dispatch_float(logits.dtype(), "cross_entropy", [&](auto tag) {
    using scalar_t = decltype(tag);
    Tensor row_loss = Tensor::empty({n_rows}, DType::f64, Device::cuda);
    launch<cross_entropy_rows_kernel<scalar_t>>(ERC_HERE, grid_for(n_rows, kThreads), kThreads, 0,
                                                logits.device_data<scalar_t>(), targets.device_data<int64_t>(),
                                                ignore_index, probs.device_data<scalar_t>(),
                                                row_loss.device_data<double>(), n_rows, n_classes);
    launch<cross_entropy_mean_kernel<scalar_t>>(ERC_HERE, 1, 1, 0, row_loss.device_data<double>(),
                                                targets.device_data<int64_t>(), ignore_index, n_rows,
                                                loss.device_data<scalar_t>(), count.device_data<int64_t>());
  });
}

void cross_entropy_backward(const Tensor& probs, const Tensor& targets, int64_t ignore_index, const Tensor& count,
                            const Tensor& grad_loss, const Tensor& grad) {
  const int64_t n_rows = probs.size(0), n_classes = probs.size(1);
  if (n_rows == 0) return;
  dispatch_float(probs.dtype(), "cross_entropy backward", [&](auto tag) {
    using scalar_t = decltype(tag);
    launch<cross_entropy_backward_kernel<scalar_t>>(
        ERC_HERE, grid_for(n_rows * n_classes, kThreads), kThreads, 0, probs.device_data<scalar_t>(),
        targets.device_data<int64_t>(), ignore_index, count.device_data<int64_t>(), grad_loss.device_data<scalar_t>(),
        grad.device_data<scalar_t>(), n_rows, n_classes);
  });
}

}  // namespace erc::ops::cuda
