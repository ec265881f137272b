#include "ops/shape.h"

#include "autograd/node.h"
#include "ops/reduce.h"

namespace erc::ops {

namespace {

struct ReshapeBackward : autograd::Node {
  Shape input_shape;
  const char* name() const override { return "reshape"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {g.detach().reshape(input_shape)}; }
};

struct PermuteBackward : autograd::Node {
  Shape inverse;  // inverse[dims[i]] = i
  const char* name() const override { return "permute"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {g.detach().permute(inverse).contiguous()}; }
};

struct SliceBackward : autograd::Node {
  Shape input_shape;
  int64_t dim, start;
  const char* name() const override { return "slice"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor grad = Tensor::zeros(input_shape, g.dtype(), g.device());
    grad.narrow(dim, start, g.size(dim)).copy_(g.detach());
    return {grad};
  }
};

struct ExpandBackward : autograd::Node {
  Shape input_shape;
  const char* name() const override { return "expand"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {sum_to(g, input_shape)}; }
};

struct ContiguousBackward : autograd::Node {
  const char* name() const override { return "contiguous"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {g}; }
};

}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape) {
  Tensor y = x.detach().reshape(shape);
  if (!autograd::needs_grad({x})) return y;
  auto node = std::make_shared<ReshapeBackward>();
  node->input_shape = x.shape();
  return autograd::record(y, node, {x});
}

Tensor permute(const Tensor& x, const Shape& dims) {
  Tensor y = x.detach().permute(dims);
  if (!autograd::needs_grad({x})) return y;
  auto node = std::make_shared<PermuteBackward>();
  node->inverse.resize(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) node->inverse[wrap_dim(dims[i], x.dim(), "permute")] = int64_t(i);
  return autograd::record(y, node, {x});
}

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  Shape dims(x.dim());
  for (int64_t i = 0; i < x.dim(); ++i) dims[i] = i;
  std::swap(dims[wrap_dim(d0, x.dim(), "transpose")], dims[wrap_dim(d1, x.dim(), "transpose")]);
  return permute(x, dims);
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  Tensor y = x.detach().narrow(dim, start, length);
  if (!autograd::needs_grad({x})) return y;
  auto node = std::make_shared<SliceBackward>();
  node->input_shape = x.shape();
  node->dim = wrap_dim(dim, x.dim(), "slice");
  node->start = start;
  return autograd::record(y, node, {x});
}

Tensor expand(const Tensor& x, const Shape& shape) {
  Tensor y = x.detach().expand(shape);
  if (!autograd::needs_grad({x})) return y;
  auto node = std::make_shared<ExpandBackward>();
  node->input_shape = x.shape();
  return autograd::record(y, node, {x});
}

Tensor contiguous(const Tensor& x) {
  if (x.is_contiguous()) return x;
  Tensor y = x.detach().contiguous();
  if (!autograd::needs_grad({x})) return y;
  return autograd::record(y, std::make_shared<ContiguousBackward>(), {x});
}

}  // namespace erc::ops
