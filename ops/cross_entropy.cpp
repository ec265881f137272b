#include "ops/cross_entropy.h"

#include "autograd/node.h"
#include "ops/cross_entropy_cuda.h"
#include "ops/device.h"

namespace erc::ops {

namespace {

// Saves the softmax probabilities of every row and the targets: d(loss)/d(logits[u, c]) =
// (p[u, c] - [c == t_u]) / count for a counted row u, 0 for an ignored one.
struct CrossEntropyBackward : autograd::Node {
  Tensor probs;    // [U, C], the logits' dtype
  Tensor targets;  // [U] i64, contiguous
  int64_t ignore_index = -100;
  int64_t count = 0;    // rows not ignored (on the CPU)
  Tensor count_tensor;  // the same, 0-d i64 on the device, where the host never reads it
  const char* name() const override { return "cross_entropy"; }
  std::vector<Tensor> backward(const Tensor& grad_output) override {
    Tensor grad = Tensor::zeros(probs.shape(), probs.dtype(), probs.device());
    if (probs.device() == Device::cuda) {
      ERC_CUDA_CALL(
          cuda::cross_entropy_backward(probs, targets, ignore_index, count_tensor, grad_output.detach(), grad));
      return {grad, Tensor()};
    }
    if (count == 0) return {grad, Tensor()};
    const double scale = grad_output.item_as_double() / double(count);
    const int64_t n_rows = probs.size(0), n_classes = probs.size(1);
    const int64_t* t = targets.data<int64_t>();
    dispatch_float(probs.dtype(), "cross_entropy backward", [&](auto tag) {
      using scalar_t = decltype(tag);
      const scalar_t* p = probs.data<scalar_t>();
      scalar_t* out = grad.data<scalar_t>();
      for (int64_t u = 0; u < n_rows; ++u) {
        if (t[u] == ignore_index) continue;
        for (int64_t c = 0; c < n_classes; ++c)
          out[u * n_classes + c] = cross_entropy_grad<scalar_t>(scale, double(p[u * n_classes + c]), c, t[u]);
      }
    });
    return {grad, Tensor()};
  }
};

// U and C are small (utterances of one batch, 6 classes): one serial pass, accumulated in double.
void cross_entropy_forward_cpu(const Tensor& xc, const int64_t* t, int64_t ignore_index, int64_t count, Tensor probs,
                               Tensor loss) {
  const int64_t n_rows = xc.size(0), n_classes = xc.size(1);
  dispatch_float(xc.dtype(), "cross_entropy", [&](auto tag) {
    using scalar_t = decltype(tag);
    const scalar_t* x = xc.data<scalar_t>();
    scalar_t* p = probs.data<scalar_t>();
    double total = 0;
    for (int64_t u = 0; u < n_rows; ++u) {
      const double lse = cross_entropy_row(x + u * n_classes, n_classes, p + u * n_classes);
      if (t[u] != ignore_index) total += lse - double(x[u * n_classes + t[u]]);
    }
    *loss.data<scalar_t>() = scalar_t(count > 0 ? total / double(count) : 0.0);
  });
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index) {
  const Device device = device_of("cross_entropy", {logits, targets});
  ERC_CHECK(logits.dim() == 2 && logits.size(1) > 0, "cross_entropy: expected logits [U, C] with C > 0, got ",
            shape_str(logits.shape()));
  ERC_CHECK(targets.dtype() == DType::i64, "cross_entropy: expected i64 targets, got ", dtype_name(targets.dtype()));
  ERC_CHECK(targets.dim() == 1 && targets.size(0) == logits.size(0), "cross_entropy: expected targets [U] = [",
            logits.size(0), "] for logits ", shape_str(logits.shape()), ", got ", shape_str(targets.shape()));
  const int64_t n_rows = logits.size(0), n_classes = logits.size(1);
  Tensor xc = logits.detach().contiguous(), tc = targets.detach().contiguous();
  Tensor probs = Tensor::empty(logits.shape(), logits.dtype(), device);
  Tensor loss = Tensor::empty({}, logits.dtype(), device);
  auto node = std::make_shared<CrossEntropyBackward>();
  if (device == Device::cuda) {
    // Checked and counted on the device: reading the targets back would wait for the stream.
    node->count_tensor = Tensor::empty({}, DType::i64, device);
    ERC_CUDA_CALL(cuda::cross_entropy_forward(xc, tc, ignore_index, probs, loss, node->count_tensor));
  } else {
    const int64_t* t = tc.data<int64_t>();
    for (int64_t u = 0; u < n_rows; ++u) {
      if (t[u] == ignore_index) continue;
      ERC_CHECK(t[u] >= 0 && t[u] < n_classes, "cross_entropy: target ", t[u], " of row ", u, " is outside [0, ",
                n_classes, ") and is not ignore_index (", ignore_index, ")");
      ++node->count;
    }
    cross_entropy_forward_cpu(xc, t, ignore_index, node->count, probs, loss);
  }
  if (!autograd::needs_grad({logits})) return loss;
  node->probs = probs;
  node->targets = tc;
  node->ignore_index = ignore_index;
  return autograd::record(loss, node, {logits, targets});
}

}  // namespace erc::ops
