#include "ops/index.h"

#include <algorithm>
#include <cstring>

#include "autograd/node.h"
#include "ops/device.h"
#include "ops/shape.h"

namespace erc::ops {

namespace {

void check_index_dtype(const Tensor& index, const char* op) {
  ERC_CHECK(index.dtype() == DType::i64, op, ": expected i64 indices, got ", dtype_name(index.dtype()), " ",
            shape_str(index.shape()));
}

// The row-major coordinates of flat element i of a shape.
Shape unravel(int64_t i, const Shape& shape) {
  Shape position(shape.size());
  for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
    position[d] = i % shape[d];
    i /= shape[d];
  }
  return position;
}

// Every value of `index` lies in [0, size); the error names the first that does not, its position, and the range.
void check_range(const Tensor& index, int64_t size, const char* op, const std::string& target) {
  const int64_t* p = index.data<int64_t>();
  int64_t bad = -1, value = 0;
  for_each_offset(index.shape(), index.strides(), 0, [&](int64_t i, int64_t off) {
    if (bad < 0 && (p[off] < 0 || p[off] >= size)) bad = i, value = p[off];
  });
  ERC_CHECK(bad < 0, op, ": index ", value, " at position ", shape_str(unravel(bad, index.shape())), " of indices ",
            shape_str(index.shape()), " is out of the valid range [0, ", size, ") for ", target);
}

// x viewed as [outer, size, inner] around dimension `dim`.
struct Around {
  int64_t outer = 1, size = 1, inner = 1;
  Around(const Shape& shape, int64_t dim) {
    for (int64_t d = 0; d < int64_t(shape.size()); ++d) {
      int64_t& part = d < dim ? outer : d == dim ? size : inner;
      part *= shape[d];
    }
  }
};

struct IndexSelectBackward : autograd::Node {
  const char* op;
  Shape x_shape;
  int64_t dim;
  Tensor indices;  // i64 [n], contiguous
  const char* name() const override { return op; }
  // gx[o, indices[i], :] += g[o, i, :]. Each (outer row, tile of the inner dim) belongs to one iteration, which
  // adds the n rows in index order: repeated indices sum in the same order on any thread count.
  std::vector<Tensor> backward(const Tensor& grad) override {
    const Around a(x_shape, dim);
    const int64_t n = indices.numel();
    constexpr int64_t kTile = 256;
    const int64_t n_tiles = (a.inner + kTile - 1) / kTile;
    Tensor g = grad.detach().contiguous();
    Tensor gx = Tensor::zeros(x_shape, g.dtype());
    const int64_t* idx = indices.data<int64_t>();
    dispatch_float(g.dtype(), "index_select backward", [&](auto tag) {
      using scalar_t = decltype(tag);
      const scalar_t* pg = g.data<scalar_t>();
      scalar_t* px = gx.data<scalar_t>();
#pragma omp parallel for collapse(2) schedule(static) if (a.outer * n * a.inner > 65536)
      for (int64_t o = 0; o < a.outer; ++o)
        for (int64_t t = 0; t < n_tiles; ++t) {
          const int64_t e0 = t * kTile, e1 = std::min(a.inner, e0 + kTile);
          for (int64_t i = 0; i < n; ++i) {
            scalar_t* dst = px + (o * a.size + idx[i]) * a.inner;
            const scalar_t* src = pg + (o * n + i) * a.inner;
            for (int64_t e = e0; e < e1; ++e) dst[e] += src[e];
          }
        }
    });
    return {gx};
  }
};

// indices: i64 [n], already range-checked. Copies whole inner rows, so it serves every dtype.
Tensor index_select_checked(const char* op, const Tensor& x, int64_t dim, const Tensor& indices) {
  const Around a(x.shape(), dim);
  const int64_t n = indices.numel();
  Tensor idx = indices.detach().contiguous();
  Tensor xc = x.detach().contiguous();
  Shape out_shape = x.shape();
  out_shape[dim] = n;
  Tensor y = Tensor::empty(out_shape, x.dtype());
  const size_t row_bytes = size_t(a.inner) * dtype_size(x.dtype());
  const char* px = static_cast<const char*>(xc.raw_data());
  char* py = static_cast<char*>(y.raw_data());
  const int64_t* pi = idx.data<int64_t>();
#pragma omp parallel for collapse(2) schedule(static) if (a.outer * n * a.inner > 65536)
  for (int64_t o = 0; o < a.outer; ++o)
    for (int64_t i = 0; i < n; ++i)
      std::memcpy(py + size_t(o * n + i) * row_bytes, px + size_t(o * a.size + pi[i]) * row_bytes, row_bytes);
  if (!autograd::needs_grad({x})) return y;
  auto node = std::make_shared<IndexSelectBackward>();
  node->op = op;
  node->x_shape = x.shape();
  node->dim = dim;
  node->indices = idx;
  return autograd::record(y, node, {x});
}

struct GatherBackward : autograd::Node {
  Shape x_shape;
  int64_t dim;
  Tensor index;  // i64, the output's shape (any layout)
  const char* name() const override { return "gather"; }
  // gx[..., index[p], ...] += g[p], walking p in row-major order on one thread: a fixed order for repeats.
  std::vector<Tensor> backward(const Tensor& grad) override {
    Tensor g = grad.detach().contiguous();
    Tensor gx = Tensor::zeros(x_shape, g.dtype());
    Shape strides = gx.strides();
    const int64_t step = strides[dim];
    strides[dim] = 0;  // the walk gives the offset of p with its `dim` coordinate at 0; the index adds the rest
    const int64_t* pi = index.data<int64_t>();
    dispatch_float(g.dtype(), "gather backward", [&](auto tag) {
      using scalar_t = decltype(tag);
      const scalar_t* pg = g.data<scalar_t>();
      scalar_t* px = gx.data<scalar_t>();
      for_each_offset2(index.shape(), index.strides(), 0, strides, 0,
                       [&](int64_t i, int64_t oi, int64_t ox) { px[ox + pi[oi] * step] += pg[i]; });
    });
    return {gx};
  }
};

}  // namespace

Tensor embedding(const Tensor& weight, const Tensor& indices) {
  require_cpu("embedding", {weight, indices});
  ERC_CHECK(weight.dim() == 2, "embedding: expected weight [V, D], got ", shape_str(weight.shape()));
  check_index_dtype(indices, "embedding");
  check_range(indices, weight.size(0), "embedding", "the rows of weight " + shape_str(weight.shape()));
  Tensor rows = index_select_checked("embedding", weight, 0, indices.detach().reshape({indices.numel()}));
  Shape out_shape = indices.shape();
  out_shape.push_back(weight.size(1));
  return reshape(rows, out_shape);
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& indices) {
  require_cpu("index_select", {x, indices});
  ERC_CHECK(x.dim() >= 1, "index_select: expected x with at least one dimension, got ", shape_str(x.shape()));
  dim = wrap_dim(dim, x.dim(), "index_select");
  check_index_dtype(indices, "index_select");
  ERC_CHECK(indices.dim() == 1, "index_select: expected indices [n], got ", shape_str(indices.shape()));
  check_range(indices, x.size(dim), "index_select",
              "dimension " + std::to_string(dim) + " of x " + shape_str(x.shape()));
  return index_select_checked("index_select", x, dim, indices);
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  require_cpu("gather", {x, index});
  ERC_CHECK(x.dim() >= 1, "gather: expected x with at least one dimension, got ", shape_str(x.shape()));
  dim = wrap_dim(dim, x.dim(), "gather");
  check_index_dtype(index, "gather");
  bool fits = index.dim() == x.dim();
  for (int64_t d = 0; fits && d < x.dim(); ++d) fits = d == dim || index.size(d) <= x.size(d);
  ERC_CHECK(fits, "gather: expected an index of x's rank no larger than x outside dimension ", dim, ", got index ",
            shape_str(index.shape()), " for x ", shape_str(x.shape()));
  check_range(index, x.size(dim), "gather", "dimension " + std::to_string(dim) + " of x " + shape_str(x.shape()));
  Tensor y = Tensor::empty(index.shape(), x.dtype());
  Shape strides = x.strides();
  const int64_t step = strides[dim];
  strides[dim] = 0;
  const int64_t* pi = index.data<int64_t>();
  dispatch_float(x.dtype(), "gather", [&](auto tag) {
    using scalar_t = decltype(tag);
    const scalar_t* px = x.data<scalar_t>();
    scalar_t* py = y.data<scalar_t>();
    for_each_offset2(index.shape(), index.strides(), 0, strides, 0,
                     [&](int64_t i, int64_t oi, int64_t ox) { py[i] = px[ox + pi[oi] * step]; });
  });
  if (!autograd::needs_grad({x})) return y;
  auto node = std::make_shared<GatherBackward>();
  node->x_shape = x.shape();
  node->dim = dim;
  node->index = index.detach();
  return autograd::record(y, node, {x});
}

}  // namespace erc::ops
