#include "ops/softmax.h"

#include "autograd/node.h"
#include "ops/device.h"
#include "ops/softmax_cuda.h"

namespace erc::ops {

namespace {

// A contiguous tensor seen as [outer, n, inner] around `dim`: row (o, i) is the n elements at
// o * n * inner + k * inner + i, k = 0..n-1.
struct Rows {
  int64_t outer = 1, n = 1, inner = 1;
  Rows(const Shape& shape, int64_t dim) {
    n = shape[dim];
    for (int64_t d = 0; d < dim; ++d) outer *= shape[d];
    for (int64_t d = dim + 1; d < int64_t(shape.size()); ++d) inner *= shape[d];
  }
  int64_t count() const { return outer * inner; }
  int64_t start(int64_t r) const { return (r / inner) * n * inner + r % inner; }  // element 0 of row r
};

Tensor softmax_forward(const Tensor& x, int64_t dim, bool take_log) {
  Tensor xc = x.detach().contiguous();
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  const Rows rows(x.shape(), dim);
  if (x.device() == Device::cuda) {
    ERC_CUDA_CALL(cuda::softmax_forward(xc, y, rows.count(), rows.n, rows.inner, take_log));
    return y;
  }
  dispatch_float(x.dtype(), take_log ? "log_softmax" : "softmax", [&](auto tag) {
    using scalar_t = decltype(tag);
    const scalar_t* in = xc.data<scalar_t>();
    scalar_t* out = y.data<scalar_t>();
    const int64_t n = rows.n, stride = rows.inner, count = rows.count();
#pragma omp parallel for schedule(static) if (count * n > 65536)
    for (int64_t r = 0; r < count; ++r) softmax_row(in + rows.start(r), out + rows.start(r), n, stride, take_log);
  });
  return y;
}

// Saves the output y. softmax: dx = y (g - sum(g y)); log_softmax: dx = g - e^y sum(g), sums along dim.
struct SoftmaxBackward : autograd::Node {
  Tensor y;  // detached, contiguous
  int64_t dim = 0;
  bool take_log = false;
  const char* name() const override { return take_log ? "log_softmax" : "softmax"; }
  std::vector<Tensor> backward(const Tensor& grad_output) override {
    Tensor g = grad_output.detach().contiguous();
    Tensor gx = Tensor::empty(y.shape(), y.dtype(), y.device());
    const Rows rows(y.shape(), dim);
    if (y.device() == Device::cuda) {
      ERC_CUDA_CALL(cuda::softmax_backward(y, g, gx, rows.count(), rows.n, rows.inner, take_log));
      return {gx};
    }
    dispatch_float(y.dtype(), name(), [&](auto tag) {
      using scalar_t = decltype(tag);
      const scalar_t* yp = y.data<scalar_t>();
      const scalar_t* gp = g.data<scalar_t>();
      scalar_t* out = gx.data<scalar_t>();
      const int64_t n = rows.n, stride = rows.inner, count = rows.count();
#pragma omp parallel for schedule(static) if (count * n > 65536)
      for (int64_t r = 0; r < count; ++r) {
        const int64_t s = rows.start(r);
        softmax_row_backward(yp + s, gp + s, out + s, n, stride, take_log);
      }
    });
    return {gx};
  }
};

Tensor softmax_op(const Tensor& x, int64_t dim, bool take_log) {
  const char* op = take_log ? "log_softmax" : "softmax";
  ERC_CHECK(x.dim() >= 1, op, ": expected a tensor with at least one dim, got shape ", shape_str(x.shape()));
  dim = wrap_dim(dim, x.dim(), op);
  Tensor y = softmax_forward(x, dim, take_log);
  if (!autograd::needs_grad({x})) return y;
  auto node = std::make_shared<SoftmaxBackward>();
  node->y = y.detach();
  node->dim = dim;
  node->take_log = take_log;
  return autograd::record(y, node, {x});
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_op(x, dim, false); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_op(x, dim, true); }

}  // namespace erc::ops
