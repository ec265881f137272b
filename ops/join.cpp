#include "ops/join.h"

#include "autograd/node.h"
#include "ops/device.h"

namespace erc::ops {

namespace {

// The inputs share a dtype and a shape except at `dim` (whose sizes are checked by the caller's rule).
void check_joinable(const std::vector<Tensor>& tensors, int64_t dim, bool same_at_dim, const char* op) {
  const Tensor& first = tensors[0];
  for (size_t i = 1; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    bool match = t.dim() == first.dim() && t.dtype() == first.dtype();
    for (int64_t d = 0; match && d < t.dim(); ++d) match = t.size(d) == first.size(d) || (d == dim && !same_at_dim);
    ERC_CHECK(
        match, op, ": tensor ", i, " has shape ", shape_str(t.shape()), " ", dtype_name(t.dtype()), ", tensor 0 has ",
        shape_str(first.shape()), " ", dtype_name(first.dtype()),
        same_at_dim ? " (all must match)" : (" (all must match except at dimension " + std::to_string(dim) + ")"));
  }
}

// Copies each input into its slice [offsets[i], offsets[i + 1]) of `dim` of a fresh output, on the inputs' device.
Tensor join_forward(const char* op, const std::vector<Tensor>& parts, int64_t dim, Shape out_shape,
                    std::vector<int64_t>& offsets) {
  Tensor y = Tensor::empty(out_shape, parts[0].dtype(), device_of(op, parts));
  offsets.assign(1, 0);
  for (const Tensor& t : parts) {
    y.narrow(dim, offsets.back(), t.size(dim)).copy_(t.detach());
    offsets.push_back(offsets.back() + t.size(dim));
  }
  return y;
}

struct JoinBackward : autograd::Node {
  const char* op;
  int64_t dim;
  std::vector<int64_t> offsets;  // input i is slice [offsets[i], offsets[i + 1]) of `dim`
  std::vector<Shape> shapes;     // each input's shape (stack: without the new dimension)
  const char* name() const override { return op; }
  std::vector<Tensor> backward(const Tensor& g) override {
    std::vector<Tensor> grads(shapes.size());
    for (size_t i = 0; i < shapes.size(); ++i)
      if (needs_input_grad(i))
        grads[i] = g.detach().narrow(dim, offsets[i], offsets[i + 1] - offsets[i]).contiguous().reshape(shapes[i]);
    return grads;
  }
};

Tensor record_join(const char* op, Tensor y, int64_t dim, std::vector<int64_t> offsets,
                   const std::vector<Tensor>& tensors) {
  if (!autograd::needs_grad(tensors)) return y;
  auto node = std::make_shared<JoinBackward>();
  node->op = op;
  node->dim = dim;
  node->offsets = std::move(offsets);
  for (const Tensor& t : tensors) node->shapes.push_back(t.shape());
  return autograd::record(y, node, tensors);
}

// out[i] = x[i with the coordinates along `flipped` dims reversed]: the walk writes through output strides that
// run backwards along those dims, starting from their last position. Any element size (the op only moves bytes).
template <typename T>
void flip_copy(const Tensor& x, Tensor& y, const std::vector<bool>& flipped) {
  Shape strides = y.strides();
  int64_t start = 0;
  for (int64_t d = 0; d < y.dim(); ++d)
    if (flipped[d]) {
      start += (y.size(d) - 1) * strides[d];
      strides[d] = -strides[d];
    }
  const T* px = static_cast<const T*>(x.raw_data());
  T* py = static_cast<T*>(y.raw_data());
  for_each_offset2(x.shape(), strides, start, x.strides(), 0,
                   [&](int64_t, int64_t oy, int64_t ox) { py[oy] = px[ox]; });
}

struct FlipBackward : autograd::Node {
  Shape dims;
  const char* name() const override { return "flip"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {flip(g, dims)}; }  // its own inverse
};

}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  ERC_CHECK(!tensors.empty(), "cat: expected at least one tensor");
  ERC_CHECK(tensors[0].dim() >= 1, "cat: expected tensors with at least one dimension, got ",
            shape_str(tensors[0].shape()));
  dim = wrap_dim(dim, tensors[0].dim(), "cat");
  check_joinable(tensors, dim, /*same_at_dim=*/false, "cat");
  Shape out_shape = tensors[0].shape();
  out_shape[dim] = 0;
  for (const Tensor& t : tensors) out_shape[dim] += t.size(dim);
  std::vector<int64_t> offsets;
  Tensor y = join_forward("cat", tensors, dim, out_shape, offsets);
  return record_join("cat", y, dim, std::move(offsets), tensors);
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  ERC_CHECK(!tensors.empty(), "stack: expected at least one tensor");
  dim = wrap_dim(dim, tensors[0].dim() + 1, "stack");
  check_joinable(tensors, dim, /*same_at_dim=*/true, "stack");
  Shape unsqueezed = tensors[0].shape();
  unsqueezed.insert(unsqueezed.begin() + dim, 1);
  std::vector<Tensor> parts;  // each input with a size-1 dim at `dim` (a view when contiguous)
  for (const Tensor& t : tensors) parts.push_back(t.detach().reshape(unsqueezed));
  Shape out_shape = unsqueezed;
  out_shape[dim] = int64_t(tensors.size());
  std::vector<int64_t> offsets;
  Tensor y = join_forward("stack", parts, dim, out_shape, offsets);
  return record_join("stack", y, dim, std::move(offsets), tensors);
}

Tensor flip(const Tensor& x, const Shape& dims) {
  require_cpu("flip", {x});
  std::vector<bool> flipped(size_t(x.dim()), false);
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, x.dim(), "flip");
    ERC_CHECK(!flipped[w], "flip: dimension ", w, " appears twice in dims ", shape_str(dims));
    flipped[w] = true;
  }
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  switch (dtype_size(x.dtype())) {
    case 2: flip_copy<uint16_t>(x, y, flipped); break;
    case 4: flip_copy<uint32_t>(x, y, flipped); break;
    case 8: flip_copy<uint64_t>(x, y, flipped); break;
    default: ERC_CHECK(false, "flip: unsupported element size for dtype ", dtype_name(x.dtype()));
  }
  if (!autograd::needs_grad({x})) return y;
  auto node = std::make_shared<FlipBackward>();
  node->dims = dims;
  return autograd::record(y, node, {x});
}

}  // namespace erc::ops
