#include "ops/binary.h"

#include "autograd/node.h"
#include "ops/binary_cuda.h"
#include "ops/device.h"
#include "ops/reduce.h"

namespace erc::ops {

namespace {

const char* kind_name(BinaryKind k) {
  switch (k) {
    case BinaryKind::add: return "add";
    case BinaryKind::sub: return "sub";
    case BinaryKind::mul: return "mul";
    case BinaryKind::div: return "div";
  }
  return "?";
}

Tensor binary_forward(BinaryKind kind, const Tensor& a, const Tensor& b) {
  const char* op = kind_name(kind);
  const Device device = device_of(op, {a, b});
  ERC_CHECK(a.dtype() == b.dtype(), op, ": dtypes differ (", dtype_name(a.dtype()), " and ", dtype_name(b.dtype()), ")");
  Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
  Tensor out = Tensor::empty(shape, a.dtype(), device);
  Tensor ea = a.detach().expand(shape), eb = b.detach().expand(shape);
  if (device == Device::cuda) {
    ERC_CUDA_CALL(cuda::binary(kind, ea, eb, out));
    return out;
  }
  dispatch_float(a.dtype(), op, [&](auto tag) {
    using scalar_t = decltype(tag);
    scalar_t* o = out.data<scalar_t>();
    const scalar_t* pa = ea.data<scalar_t>();
    const scalar_t* pb = eb.data<scalar_t>();
    if (a.shape() == shape && b.shape() == shape && a.is_contiguous() && b.is_contiguous()) {
      // The common case gets a flat loop the compiler vectorises.
      const int64_t n = out.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
      for (int64_t i = 0; i < n; ++i) o[i] = apply_binary(kind, pa[i], pb[i]);
      return;
    }
    for_each_offset2(shape, ea.strides(), 0, eb.strides(), 0,
                     [&](int64_t i, int64_t ia, int64_t ib) { o[i] = apply_binary(kind, pa[ia], pb[ib]); });
  });
  return out;
}

struct BinaryBackward : autograd::Node {
  BinaryKind kind;
  Tensor a, b;  // saved (detached) only where the gradient needs them: mul and div
  Shape a_shape, b_shape;
  const char* name() const override { return kind_name(kind); }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor ga, gb;
    switch (kind) {
      case BinaryKind::add:
        if (needs_input_grad(0)) ga = sum_to(g, a_shape);
        if (needs_input_grad(1)) gb = sum_to(g, b_shape);
        break;
      case BinaryKind::sub:
        if (needs_input_grad(0)) ga = sum_to(g, a_shape);
        if (needs_input_grad(1)) gb = sum_to(neg(g), b_shape);
        break;
      case BinaryKind::mul:
        if (needs_input_grad(0)) ga = sum_to(mul(g, b), a_shape);
        if (needs_input_grad(1)) gb = sum_to(mul(g, a), b_shape);
        break;
      case BinaryKind::div:  // d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
        if (needs_input_grad(0)) ga = sum_to(div(g, b), a_shape);
        if (needs_input_grad(1)) gb = sum_to(neg(div(mul(g, a), mul(b, b))), b_shape);
        break;
    }
    return {ga, gb};
  }
};

Tensor binary(BinaryKind kind, const Tensor& a, const Tensor& b) {
  Tensor y = binary_forward(kind, a, b);
  if (!autograd::needs_grad({a, b})) return y;
  auto node = std::make_shared<BinaryBackward>();
  node->kind = kind;
  node->a_shape = a.shape();
  node->b_shape = b.shape();
  if (kind == BinaryKind::mul || kind == BinaryKind::div) {
    node->a = a.detach();
    node->b = b.detach();
  }
  return autograd::record(y, node, {a, b});
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryKind::add, a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryKind::sub, a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryKind::mul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryKind::div, a, b); }

Tensor neg(const Tensor& x) { return mul_scalar(x, -1.0); }

namespace {

struct ScalarBackward : autograd::Node {
  const char* op;
  double scale;  // dy/dx: 1 for add_scalar, s for mul_scalar
  const char* name() const override { return op; }
  std::vector<Tensor> backward(const Tensor& g) override { return {scale == 1.0 ? g : mul_scalar(g, scale)}; }
};

// y = x * mul + add
Tensor scalar_op(const char* op, const Tensor& x, double add, double mul) {
  Tensor xc = x.detach().contiguous();
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.device() == Device::cuda) {
    ERC_CUDA_CALL(cuda::scalar_op(xc, mul, add, y));
  } else {
    dispatch_float(x.dtype(), "scalar op", [&](auto tag) {
      using scalar_t = decltype(tag);
      const scalar_t* p = xc.data<scalar_t>();
      scalar_t* o = y.data<scalar_t>();
      const scalar_t m = scalar_t(mul), a = scalar_t(add);
      const int64_t n = y.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
      for (int64_t i = 0; i < n; ++i) o[i] = p[i] * m + a;
    });
  }
  if (!autograd::needs_grad({x})) return y;
  auto node = std::make_shared<ScalarBackward>();
  node->op = op;
  node->scale = mul;
  return autograd::record(y, node, {x});
}

}  // namespace

Tensor add_scalar(const Tensor& x, double s) { return scalar_op("add_scalar", x, s, 1.0); }
Tensor mul_scalar(const Tensor& x, double s) { return scalar_op("mul_scalar", x, 0.0, s); }

}  // namespace erc::ops
