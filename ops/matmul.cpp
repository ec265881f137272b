#include "ops/matmul.h"

#include <algorithm>

#include "autograd/node.h"
#include "ops/blas.h"
#include "ops/device.h"
#include "ops/matmul_cuda.h"
#include "ops/reduce.h"

namespace erc::ops {

namespace {

// A matrix (the last two dims of a tensor) as BLAS reads it. BLAS takes any row-major matrix with a leading
// dimension, and its transpose through a flag, so a narrowed or transposed view of a contiguous matrix needs no
// copy; any other layout (e.g. a permuted 3-d tensor) is copied once to contiguous.
struct Operand {
  Tensor t;    // detached: the input's own memory, or its contiguous copy
  bool trans;  // t's last two dims are stored column-major, i.e. t is the transpose of a row-major matrix
  int64_t ld;  // leading dimension of that row-major matrix
  template <typename T>
  const T* ptr(int64_t batch = 0) const {  // the matrix of batch `batch` of a 3-d operand
    return t.data<T>() + (t.dim() == 3 ? batch * t.strides()[0] : 0);
  }
  int64_t batch_stride() const { return t.dim() == 3 ? t.strides()[0] : 0; }
};

Operand as_operand(const Tensor& m) {
  Tensor t = m.detach();
  const int64_t R = t.size(-2), C = t.size(-1), s0 = t.strides()[t.dim() - 2], s1 = t.strides()[t.dim() - 1];
  if ((C == 1 || s1 == 1) && (R == 1 || s0 >= std::max<int64_t>(C, 1)))
    return {t, false, R == 1 ? std::max<int64_t>(C, 1) : s0};
  if ((R == 1 || s0 == 1) && (C == 1 || s1 >= std::max<int64_t>(R, 1)))
    return {t, true, C == 1 ? std::max<int64_t>(R, 1) : s1};
  return {t.contiguous(), false, std::max<int64_t>(C, 1)};
}

// x [..., F] as a [rows, F] operand: leading dims flattened (a view when x is contiguous, else one copy).
Operand rows_operand(const Tensor& x, int64_t rows) {
  if (x.dim() == 2) return as_operand(x);
  return as_operand(x.detach().reshape({rows, x.size(-1)}));
}

void check_float_pair(const Tensor& a, const Tensor& b, const char* op) {
  ERC_CHECK(a.dtype() == b.dtype() && is_floating(a.dtype()), op, ": expected two f32 or two f64 tensors, got ",
            dtype_name(a.dtype()), " and ", dtype_name(b.dtype()));
}

// c = op(a) op(b) per batch on the device (cuBLAS), c contiguous [B, M, N] or [M, N]; beta 1 adds onto c.
void device_product(const Operand& a, bool ta, const Operand& b, bool tb, int64_t B, int64_t M, int64_t N, int64_t K,
                    double beta, Tensor& c) {
  if (K == 0) {
    if (beta == 0) c.fill_(0.0);
    return;
  }
  // The operands' dtype picks the GEMM: f32 or f64 into the same, or bf16 into f32 (bf16_linear).
  ERC_CUDA_CALL(cuda::gemm(a.t.dtype(), a.trans != ta, b.trans != tb, M, N, K, a.t.device_raw_data(), a.ld,
                           a.batch_stride(), b.t.device_raw_data(), b.ld, b.batch_stride(), beta, c.device_raw_data(),
                           N, M * N, B));
}

// c [M, N] = op(a) op(b) for two operands; `ta`/`tb` transpose the logical matrices on top of their storage.
Tensor product(const char* op, const Operand& a, bool ta, const Operand& b, bool tb, int64_t M, int64_t N, int64_t K) {
  Tensor c = Tensor::empty({M, N}, a.t.dtype(), a.t.device());
  if (c.device() == Device::cuda) {
    device_product(a, ta, b, tb, 1, M, N, K, 0.0, c);
    return c;
  }
  dispatch_float(a.t.dtype(), op, [&](auto tag) {
    using scalar_t = decltype(tag);
    if (K == 0) {
      std::fill_n(c.data<scalar_t>(), M * N, scalar_t(0));
      return;
    }
    blas::gemm<scalar_t>(op, a.trans != ta, b.trans != tb, M, N, K, a.ptr<scalar_t>(), a.ld, b.ptr<scalar_t>(), b.ld,
                         scalar_t(0), c.data<scalar_t>(), N);
  });
  return c;
}

// The same per batch: c [B, M, N].
Tensor batched_product(const char* op, const Operand& a, bool ta, const Operand& b, bool tb, int64_t B, int64_t M,
                       int64_t N, int64_t K) {
  Tensor c = Tensor::empty({B, M, N}, a.t.dtype(), a.t.device());
  if (c.device() == Device::cuda) {
    device_product(a, ta, b, tb, B, M, N, K, 0.0, c);
    return c;
  }
  dispatch_float(a.t.dtype(), op, [&](auto tag) {
    using scalar_t = decltype(tag);
    if (K == 0) {
      std::fill_n(c.data<scalar_t>(), B * M * N, scalar_t(0));
      return;
    }
    // One GEMM per batch, in sequence, each one's tiles spread over the threads (ops/blas.h).
    for (int64_t i = 0; i < B; ++i)
      blas::gemm<scalar_t>(op, a.trans != ta, b.trans != tb, M, N, K, a.ptr<scalar_t>(i), a.ld, b.ptr<scalar_t>(i),
                           b.ld, scalar_t(0), c.data<scalar_t>() + i * M * N, N);
  });
  return c;
}

struct MatmulBackward : autograd::Node {
  Operand a, b;  // a [M, K], b [K, N]
  const char* name() const override { return "matmul"; }
  std::vector<Tensor> backward(const Tensor& g) override {  // g [M, N]
    const int64_t M = g.size(0), N = g.size(1), K = a.t.size(1);
    Operand og = as_operand(g);
    Tensor ga, gb;
    if (needs_input_grad(0)) ga = product("matmul backward", og, false, b, true, M, K, N);  // g b^T
    if (needs_input_grad(1)) gb = product("matmul backward", a, true, og, false, K, N, M);  // a^T g
    return {ga, gb};
  }
};

struct BmmBackward : autograd::Node {
  Operand a, b;  // a [B, M, K], b [B, K, N]
  const char* name() const override { return "bmm"; }
  std::vector<Tensor> backward(const Tensor& g) override {  // g [B, M, N]
    const int64_t B = g.size(0), M = g.size(1), N = g.size(2), K = a.t.size(2);
    Operand og = as_operand(g);
    Tensor ga, gb;
    if (needs_input_grad(0)) ga = batched_product("bmm backward", og, false, b, true, B, M, K, N);
    if (needs_input_grad(1)) gb = batched_product("bmm backward", a, true, og, false, B, K, N, M);
    return {ga, gb};
  }
};

// Column sums of a [rows, cols] operand, accumulated in double. Rows are cut into blocks of a fixed size (not one
// per thread) and the block partials are added in block order, so the bits depend neither on the thread count
// nor on the schedule.
Tensor column_sums(const Operand& m, int64_t rows, int64_t cols) {
  constexpr int64_t kBlock = 512;
  const int64_t n_blocks = (rows + kBlock - 1) / kBlock;
  const int64_t rs = m.trans ? 1 : m.ld, cs = m.trans ? m.ld : 1;  // element (r, j) is at r * rs + j * cs
  std::vector<double> partial(size_t(n_blocks * cols), 0.0);
  Tensor out = Tensor::empty({cols}, m.t.dtype());
  dispatch_float(m.t.dtype(), "linear backward", [&](auto tag) {
    using scalar_t = decltype(tag);
    const scalar_t* p = m.ptr<scalar_t>();
#pragma omp parallel for schedule(static) if (rows * cols > 65536)
    for (int64_t blk = 0; blk < n_blocks; ++blk) {
      double* acc = partial.data() + blk * cols;
      // Element-wise over j (each column's sum runs down the rows): vectorised without changing a bit.
      for (int64_t r = blk * kBlock; r < std::min(rows, (blk + 1) * kBlock); ++r)
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) acc[j] += double(p[r * rs + j * cs]);
    }
    scalar_t* o = out.data<scalar_t>();
    for (int64_t j = 0; j < cols; ++j) {
      double s = 0;
      for (int64_t blk = 0; blk < n_blocks; ++blk) s += partial[size_t(blk * cols + j)];
      o[j] = scalar_t(s);
    }
  });
  return out;
}

struct LinearBackward : autograd::Node {
  Operand x, weight;  // x [rows, in] (leading dims flattened), weight [out, in]
  Shape x_shape;
  const char* name() const override { return "linear"; }
  std::vector<Tensor> backward(const Tensor& g) override {  // g [..., out]
    const int64_t rows = x.t.size(0), in = x.t.size(1), out = weight.t.size(0);
    Operand og = rows_operand(g, rows);
    Tensor gx, gw, gb;
    if (needs_input_grad(0)) gx = product("linear backward", og, false, weight, false, rows, in, out).view(x_shape);
    if (needs_input_grad(1)) gw = product("linear backward", og, true, x, false, out, in, rows);
    if (needs_input_grad(2)) gb = g.device() == Device::cuda ? sum(og.t, {0}) : column_sums(og, rows, out);
    return {gx, gw, gb};
  }
};

// linear with a bf16 weight (WavLM's GEMMs at --precision bf16; inference only): x is rounded to bf16 as well, each
// product of two bf16 values is exact in f32, and the products are summed in f32; bias and y stay f32. On the device
// that is a tensor-core GEMM; on the CPU the same products go through the f32 GEMM, the reference the device meets.
Tensor bf16_linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  ERC_CHECK(x.dtype() == DType::f32 && (!bias.defined() || bias.dtype() == DType::f32),
            "linear: a bf16 weight takes an f32 x and bias, got x ", dtype_name(x.dtype()),
            bias.defined() ? std::string(" and bias ") + dtype_name(bias.dtype()) : std::string());
  ERC_CHECK(!autograd::needs_grad({x, weight, bias}),
            "linear: a bf16 weight is for inference (no gradient flows through it); train in f32");
  const Device device = device_of("linear", {x, weight, bias});
  if (device == Device::cpu)
    return linear(x.detach().to(DType::bf16).to(DType::f32), weight.detach().to(DType::f32), bias);
  const int64_t in = weight.size(1), out = weight.size(0);
  const int64_t rows = shape_numel(Shape(x.shape().begin(), x.shape().end() - 1));
  Shape y_shape = x.shape();
  y_shape.back() = out;
  Operand ox = rows_operand(x.detach().to(DType::bf16), rows), ow = as_operand(weight);
  Tensor y = Tensor::empty({rows, out}, DType::f32, device);
  if (bias.defined()) y.copy_(bias.detach().expand({rows, out}));
  device_product(ox, false, ow, true, 1, rows, out, in, bias.defined() ? 1.0 : 0.0, y);
  return y.view(y_shape);
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  ERC_CHECK(a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(0), "matmul: expected a [M, K] and b [K, N], got ",
            shape_str(a.shape()), " and ", shape_str(b.shape()));
  device_of("matmul", {a, b});
  check_float_pair(a, b, "matmul");
  const int64_t M = a.size(0), K = a.size(1), N = b.size(1);
  Operand oa = as_operand(a), ob = as_operand(b);
  Tensor y = product("matmul", oa, false, ob, false, M, N, K);
  if (!autograd::needs_grad({a, b})) return y;
  auto node = std::make_shared<MatmulBackward>();
  node->a = oa;
  node->b = ob;
  return autograd::record(y, node, {a, b});
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  ERC_CHECK(a.dim() == 3 && b.dim() == 3 && a.size(0) == b.size(0) && a.size(2) == b.size(1),
            "bmm: expected a [B, M, K] and b [B, K, N], got ", shape_str(a.shape()), " and ", shape_str(b.shape()));
  device_of("bmm", {a, b});
  check_float_pair(a, b, "bmm");
  const int64_t B = a.size(0), M = a.size(1), K = a.size(2), N = b.size(2);
  Operand oa = as_operand(a), ob = as_operand(b);
  Tensor y = batched_product("bmm", oa, false, ob, false, B, M, N, K);
  if (!autograd::needs_grad({a, b})) return y;
  auto node = std::make_shared<BmmBackward>();
  node->a = oa;
  node->b = ob;
  return autograd::record(y, node, {a, b});
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  ERC_CHECK(x.dim() >= 1 && weight.dim() == 2 && x.size(-1) == weight.size(1),
            "linear: expected x [..., in] and weight [out, in], got ", shape_str(x.shape()), " and ",
            shape_str(weight.shape()));
  const int64_t in = weight.size(1), out = weight.size(0);
  if (bias.defined())
    ERC_CHECK(bias.dim() == 1 && bias.size(0) == out, "linear: expected bias [", out, "] for weight ",
              shape_str(weight.shape()), ", got ", shape_str(bias.shape()));
  if (weight.dtype() == DType::bf16) return bf16_linear(x, weight, bias);
  check_float_pair(x, weight, "linear");
  if (bias.defined()) check_float_pair(x, bias, "linear");
  Shape y_shape = x.shape();
  y_shape.back() = out;
  const int64_t rows = shape_numel(Shape(x.shape().begin(), x.shape().end() - 1));
  const Device device = device_of("linear", {x, weight, bias});
  Operand ox = rows_operand(x, rows), ow = as_operand(weight);
  Tensor y = Tensor::empty({rows, out}, x.dtype(), device);
  if (device == Device::cuda) {  // every row starts as the bias and the GEMM adds x W^T onto it (beta = 1)
    if (bias.defined()) y.copy_(bias.detach().expand({rows, out}));
    device_product(ox, false, ow, true, 1, rows, out, in, bias.defined() ? 1.0 : 0.0, y);
  } else {
    dispatch_float(x.dtype(), "linear", [&](auto tag) {
      using scalar_t = decltype(tag);
      scalar_t* py = y.data<scalar_t>();
      scalar_t beta = 0;
      if (bias.defined()) {  // every row starts as the bias and the GEMM adds x W^T onto it (beta = 1)
        Tensor bc = bias.detach().contiguous();
        const scalar_t* pb = bc.data<scalar_t>();
#pragma omp parallel for schedule(static) if (rows * out > 65536)
        for (int64_t r = 0; r < rows; ++r) std::copy_n(pb, out, py + r * out);
        beta = 1;
      }
      if (in == 0) {
        if (!bias.defined()) std::fill_n(py, rows * out, scalar_t(0));
        return;
      }
      blas::gemm<scalar_t>("linear", ox.trans, !ow.trans, rows, out, in, ox.ptr<scalar_t>(), ox.ld, ow.ptr<scalar_t>(),
                           ow.ld, beta, py, out);
    });
  }
  y = y.view(y_shape);
  if (!autograd::needs_grad({x, weight, bias})) return y;
  auto node = std::make_shared<LinearBackward>();
  node->x = ox;
  node->weight = ow;
  node->x_shape = x.shape();
  return autograd::record(y, node, {x, weight, bias});
}

}  // namespace erc::ops
