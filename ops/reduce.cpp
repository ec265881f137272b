#include "ops/reduce.h"

#include <algorithm>

#include "autograd/node.h"
#include "ops/device.h"
#include "ops/reduce_cuda.h"
#include "ops/shape.h"

namespace erc::ops {

namespace {

// Normalised, sorted, de-duplicated dims; empty input means all dims.
Shape reduced_dims(const Tensor& x, const Shape& dims, const char* op) {
  Shape out;
  if (dims.empty()) {
    for (int64_t d = 0; d < x.dim(); ++d) out.push_back(d);
    return out;
  }
  for (int64_t d : dims) out.push_back(wrap_dim(d, x.dim(), op));
  std::sort(out.begin(), out.end());
  ERC_CHECK(std::adjacent_find(out.begin(), out.end()) == out.end(), op, ": a dimension is repeated in ",
            shape_str(dims));
  return out;
}

// The result's shape with reduced dims kept as 1 (keepdim) or dropped.
Shape result_shape(const Tensor& x, const Shape& rdims, bool keepdim) {
  Shape out;
  for (int64_t d = 0; d < x.dim(); ++d) {
    bool reduced = std::binary_search(rdims.begin(), rdims.end(), d);
    if (!reduced) out.push_back(x.size(d));
    else if (keepdim) out.push_back(1);
  }
  return out;
}

// x laid out as [kept..., reduced...] contiguous: rows of `inner` elements, one row per output element.
Tensor rows_for_reduction(const Tensor& x, const Shape& rdims, int64_t& inner) {
  Shape perm;
  inner = 1;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (!std::binary_search(rdims.begin(), rdims.end(), d)) perm.push_back(d);
  for (int64_t d : rdims) {
    perm.push_back(d);
    inner *= x.size(d);
  }
  return x.detach().permute(perm).contiguous();
}

Tensor sum_forward(const Tensor& x, const Shape& rdims, bool keepdim, double scale) {
  int64_t inner;
  Tensor rows = rows_for_reduction(x, rdims, inner);
  Tensor y = Tensor::empty(result_shape(x, rdims, keepdim), x.dtype(), x.device());
  if (x.device() == Device::cuda) {
    ERC_CUDA_CALL(cuda::sum_rows(rows, y.numel(), inner, scale, y));
    return y;
  }
  dispatch_float(x.dtype(), "sum", [&](auto tag) {
    using scalar_t = decltype(tag);
    const scalar_t* p = rows.data<scalar_t>();
    scalar_t* out = y.data<scalar_t>();
    const int64_t n_out = y.numel();
#pragma omp parallel for schedule(static) if (n_out * inner > 65536)
    for (int64_t r = 0; r < n_out; ++r) out[r] = sum_row(p + r * inner, inner, scale);
  });
  return y;
}

// Broadcasts g (the reduced shape) back over x's shape, times `scale`.
Tensor spread(const Tensor& g, const Shape& input_shape, const Shape& rdims, double scale) {
  Shape kept = input_shape;
  for (int64_t d : rdims) kept[d] = 1;
  Tensor out = g.detach().reshape(kept).expand(input_shape).contiguous();
  if (out.shares_storage_with(g)) out = out.clone();
  if (scale == 1.0) return out;
  if (out.device() == Device::cuda) {
    ERC_CUDA_CALL(cuda::scale_(out, scale));
    return out;
  }
  dispatch_float(out.dtype(), "sum backward", [&](auto tag) {
    using scalar_t = decltype(tag);
    scalar_t* p = out.data<scalar_t>();
    for (int64_t i = 0; i < out.numel(); ++i) p[i] = scalar_t(p[i] * scale);
  });
  return out;
}

struct SumBackward : autograd::Node {
  Shape input_shape, rdims;
  double scale;  // 1 for sum, 1/count for mean
  const char* name() const override { return "sum"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {spread(g, input_shape, rdims, scale)}; }
};

struct MaxBackward : autograd::Node {
  Shape input_shape;
  int64_t dim;
  Tensor argmax;  // i64, the result's shape with `dim` kept as 1
  const char* name() const override { return "max"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor grad = Tensor::zeros(input_shape, g.dtype(), g.device());
    Tensor gk = g.detach().reshape(argmax.shape()).contiguous();
    int64_t outer = 1, inner = 1, n = input_shape[dim];
    for (int64_t d = 0; d < dim; ++d) outer *= input_shape[d];
    for (int64_t d = dim + 1; d < int64_t(input_shape.size()); ++d) inner *= input_shape[d];
    if (g.device() == Device::cuda) {
      ERC_CUDA_CALL(cuda::max_backward(gk, argmax, outer, n, inner, grad));
      return {grad};
    }
    const int64_t* idx = argmax.data<int64_t>();
    dispatch_float(g.dtype(), "max backward", [&](auto tag) {
    using scalar_t = decltype(tag);
      scalar_t* out = grad.data<scalar_t>();
      const scalar_t* gp = gk.data<scalar_t>();
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) out[(o * n + idx[o * inner + i]) * inner + i] = gp[o * inner + i];
    });
    return {grad};
  }
};

}  // namespace

Tensor sum(const Tensor& x, const Shape& dims, bool keepdim) {
  Shape rdims = reduced_dims(x, dims, "sum");
  Tensor y = sum_forward(x, rdims, keepdim, 1.0);
  if (!autograd::needs_grad({x})) return y;
  auto node = std::make_shared<SumBackward>();
  node->input_shape = x.shape();
  node->rdims = rdims;
  node->scale = 1.0;
  return autograd::record(y, node, {x});
}

Tensor mean(const Tensor& x, const Shape& dims, bool keepdim) {
  Shape rdims = reduced_dims(x, dims, "mean");
  int64_t count = 1;
  for (int64_t d : rdims) count *= x.size(d);
  ERC_CHECK(count > 0, "mean: reducing over an empty dimension of shape ", shape_str(x.shape()));
  Tensor y = sum_forward(x, rdims, keepdim, 1.0 / double(count));
  if (!autograd::needs_grad({x})) return y;
  auto node = std::make_shared<SumBackward>();
  node->input_shape = x.shape();
  node->rdims = rdims;
  node->scale = 1.0 / double(count);
  return autograd::record(y, node, {x});
}

Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  dim = wrap_dim(dim, x.dim(), "max");
  const int64_t n = x.size(dim);
  ERC_CHECK(n > 0, "max: dimension ", dim, " of shape ", shape_str(x.shape()), " is empty");
  Tensor xc = x.detach().contiguous();
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= x.size(d);
  for (int64_t d = dim + 1; d < x.dim(); ++d) inner *= x.size(d);
  Shape kept = x.shape();
  kept[dim] = 1;
  Tensor y = Tensor::empty(kept, x.dtype(), x.device());
  Tensor argmax = Tensor::empty(kept, DType::i64, x.device());
  if (x.device() == Device::cuda) {
    ERC_CUDA_CALL(cuda::max_forward(xc, outer, n, inner, y, argmax));
  } else {
    dispatch_float(x.dtype(), "max", [&](auto tag) {
      using scalar_t = decltype(tag);
      const scalar_t* p = xc.data<scalar_t>();
      scalar_t* out = y.data<scalar_t>();
      int64_t* idx = argmax.data<int64_t>();
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          const int64_t best = argmax_along(p + o * n * inner + i, n, inner);
          out[o * inner + i] = p[(o * n + best) * inner + i];
          idx[o * inner + i] = best;
        }
    });
  }
  if (!keepdim) {
    Shape dropped = x.shape();
    dropped.erase(dropped.begin() + dim);
    y = y.view(dropped);
  }
  if (!autograd::needs_grad({x})) return y;
  auto node = std::make_shared<MaxBackward>();
  node->input_shape = x.shape();
  node->dim = dim;
  node->argmax = argmax;
  return autograd::record(y, node, {x});
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  ERC_CHECK(shape.size() <= size_t(x.dim()), "sum_to: cannot sum shape ", shape_str(x.shape()), " to ",
            shape_str(shape));
  const int64_t lead = x.dim() - int64_t(shape.size());
  Shape dims;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < lead) {
      dims.push_back(d);
      continue;
    }
    int64_t want = shape[d - lead];
    ERC_CHECK(want == x.size(d) || want == 1, "sum_to: cannot sum shape ", shape_str(x.shape()), " to ",
              shape_str(shape));
    if (want == 1 && x.size(d) != 1) dims.push_back(d);
  }
  return reshape(sum(x, dims, /*keepdim=*/true), shape);
}

}  // namespace erc::ops
