#include "ops/layer_norm.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "autograd/node.h"
#include "ops/cpu_isa.h"
#include "ops/device.h"
#include "ops/layer_norm_cpu.h"
#include "ops/layer_norm_cuda.h"
#include "ops/unary.h"

namespace erc::ops {

namespace {

// The vector fast path on this CPU (ops/layer_norm_cpu.h), or none: both pointers null.
layer_norm_cpu::Kernels fast_kernels(DType dtype) {
#ifdef ERC_HAVE_SLEEF
  if (dtype == DType::f32 && cpu_isa() != CpuIsa::baseline && cpu_isa_available(CpuIsa::avx2))
    return layer_norm_cpu::avx2();
#else
  (void)dtype;
#endif
  return {};
}

struct LayerNormBackward : autograd::Node {
  Tensor x;           // [rows, D], contiguous
  Tensor weight;      // [D], contiguous
  Tensor mean, rstd;  // f64 [rows]: the row statistics forward computed, kept in double whatever x's dtype
  Shape x_shape;
  const char* name() const override { return "layer_norm"; }
  std::vector<Tensor> backward(const Tensor& g) override;
};

// With x̂ = (x - mean) rstd and ĝ = g weight, per row:
//   dx = rstd (ĝ - mean(ĝ) - x̂ mean(ĝ x̂)),  dweight = Σ_rows g x̂,  dbias = Σ_rows g.
// One pass per row gives dx and that row's share of dweight and dbias. The shares are summed into partials of a
// fixed number of row blocks (not one per thread), and the partials added in block order: the result does not
// depend on the thread count or the schedule, and the device sums in the same order.
std::vector<Tensor> LayerNormBackward::backward(const Tensor& grad) {
  const int64_t rows = x.size(0), D = x.size(1);
  Tensor g = grad.detach().reshape({rows, D});
  const bool want_x = needs_input_grad(0), want_w = needs_input_grad(1), want_b = needs_input_grad(2);
  Tensor dx = want_x ? Tensor::empty({rows, D}, x.dtype(), x.device()) : Tensor();
  Tensor dw = want_w ? Tensor::empty({D}, x.dtype(), x.device()) : Tensor();
  Tensor db = want_b ? Tensor::empty({D}, x.dtype(), x.device()) : Tensor();
  if (x.device() == Device::cuda) {
    ERC_CUDA_CALL(cuda::layer_norm_backward(x, weight, mean, rstd, g, dx, dw, db));
    return {want_x ? dx.view(x_shape) : Tensor(), dw, db};
  }
  const int64_t n_blocks = std::min(rows, kLayerNormRowBlocks);
  std::vector<double> partial(size_t(n_blocks * 2 * D), 0.0);  // per block: Σ g x̂ [D], then Σ g [D]
  const layer_norm_cpu::Backward fast = fast_kernels(x.dtype()).backward;
  dispatch_float(x.dtype(), "layer_norm backward", [&](auto tag) {
    using scalar_t = decltype(tag);
    const scalar_t* px = x.data<scalar_t>();
    const scalar_t* pw = weight.data<scalar_t>();
    const scalar_t* pg = g.data<scalar_t>();
    const double* pm = mean.data<double>();
    const double* pr = rstd.data<double>();
    scalar_t* pdx = want_x ? dx.data<scalar_t>() : nullptr;
#pragma omp parallel for schedule(static) if (rows * D > 16384)
    for (int64_t blk = 0; blk < n_blocks; ++blk) {
      double* acc_w = partial.data() + blk * 2 * D;
      double* acc_b = acc_w + D;
      const int64_t begin = layer_norm_block_begin(blk, rows, n_blocks),
                    end = layer_norm_block_begin(blk + 1, rows, n_blocks);
      if constexpr (std::is_same_v<scalar_t, float>) {
        if (fast != nullptr) {
          fast(px + begin * D, pw, pg + begin * D, pm + begin, pr + begin, end - begin, D,
               pdx ? pdx + begin * D : nullptr, acc_w, acc_b);
          continue;
        }
      }
      for (int64_t r = begin; r < end; ++r) {
        const scalar_t* xr = px + r * D;
        const scalar_t* gr = pg + r * D;
        const double m = pm[r], s = pr[r];
        double sum_gh = 0, sum_gh_xhat = 0;
        for (int64_t j = 0; j < D; ++j) {
          const double xhat = (double(xr[j]) - m) * s, gh = double(gr[j]) * double(pw[j]);
          sum_gh += gh;
          sum_gh_xhat += gh * xhat;
        }
        // Element-wise over j (the sums above run along it, so they stay in their own scalar loop): `omp simd`
        // vectorises these without changing a bit, where GCC's -O2 would not, for fear the pointers alias.
#pragma omp simd
        for (int64_t j = 0; j < D; ++j) {
          acc_w[j] += double(gr[j]) * ((double(xr[j]) - m) * s);
          acc_b[j] += double(gr[j]);
        }
        if (!pdx) continue;
        const double mean_gh = sum_gh / double(D), mean_gh_xhat = sum_gh_xhat / double(D);
#pragma omp simd
        for (int64_t j = 0; j < D; ++j) {
          const double xhat = (double(xr[j]) - m) * s;
          pdx[r * D + j] = scalar_t(layer_norm_dx(double(gr[j]) * double(pw[j]), xhat, s, mean_gh, mean_gh_xhat));
        }
      }
    }
    for (int64_t j = 0; j < D; ++j) {
      double sw = 0, sb = 0;
      for (int64_t blk = 0; blk < n_blocks; ++blk) {
        sw += partial[size_t(blk * 2 * D + j)];
        sb += partial[size_t(blk * 2 * D + D + j)];
      }
      if (want_w) dw.data<scalar_t>()[j] = scalar_t(sw);
      if (want_b) db.data<scalar_t>()[j] = scalar_t(sb);
    }
  });
  return {want_x ? dx.view(x_shape) : Tensor(), dw, db};
}

void layer_norm_forward_cpu(const Tensor& xc, const Tensor& wc, const Tensor& bc, double eps, Tensor y, Tensor mean,
                            Tensor rstd) {
  const int64_t rows = xc.size(0), D = xc.size(1);
  if (const layer_norm_cpu::Forward fast = fast_kernels(xc.dtype()).forward) {
    constexpr int64_t kPieceRows = 64;
    const int64_t n_pieces = (rows + kPieceRows - 1) / kPieceRows;
    const float *px = xc.data<float>(), *pw = wc.data<float>(), *pb = bc.data<float>();
    float* py = y.data<float>();
    double *pm = mean.data<double>(), *pr = rstd.data<double>();
#pragma omp parallel for schedule(static) if (rows * D > 16384)
    for (int64_t piece = 0; piece < n_pieces; ++piece) {
      const int64_t r0 = piece * kPieceRows, n = std::min(kPieceRows, rows - r0);
      fast(px + r0 * D, pw, pb, n, D, eps, py + r0 * D, pm + r0, pr + r0);
    }
    return;
  }
  dispatch_float(xc.dtype(), "layer_norm", [&](auto tag) {
    using scalar_t = decltype(tag);
    const scalar_t* px = xc.data<scalar_t>();
    const scalar_t* pw = wc.data<scalar_t>();
    const scalar_t* pb = bc.data<scalar_t>();
    scalar_t* py = y.data<scalar_t>();
    double* pm = mean.data<double>();
    double* pr = rstd.data<double>();
#pragma omp parallel for schedule(static) if (rows * D > 16384)
    for (int64_t r = 0; r < rows; ++r) {
      const scalar_t* xr = px + r * D;
      // Two passes in double: the variance as a mean of squared deviations never cancels catastrophically.
      double sum = 0;
      for (int64_t j = 0; j < D; ++j) sum += double(xr[j]);
      const double m = sum / double(D);
      double sq = 0;
      for (int64_t j = 0; j < D; ++j) sq += (double(xr[j]) - m) * (double(xr[j]) - m);
      const double s = 1.0 / std::sqrt(sq / double(D) + eps);
#pragma omp simd
      for (int64_t j = 0; j < D; ++j) py[r * D + j] = scalar_t((double(xr[j]) - m) * s * double(pw[j]) + double(pb[j]));
      pm[r] = m;
      pr[r] = s;
    }
  });
}

void check_arguments(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  device_of("layer_norm", {x, weight, bias});
  ERC_CHECK(x.dim() >= 1 && x.size(-1) > 0, "layer_norm: expected x [..., D] with D > 0, got ", shape_str(x.shape()));
  const int64_t D = x.size(-1);
  ERC_CHECK(weight.dim() == 1 && weight.size(0) == D && bias.dim() == 1 && bias.size(0) == D,
            "layer_norm: expected weight [", D, "] and bias [", D, "] for x ", shape_str(x.shape()), ", got ",
            shape_str(weight.shape()), " and ", shape_str(bias.shape()));
  ERC_CHECK(weight.dtype() == x.dtype() && bias.dtype() == x.dtype(),
            "layer_norm: x, weight and bias must share a dtype, got ", dtype_name(x.dtype()), ", ",
            dtype_name(weight.dtype()), " and ", dtype_name(bias.dtype()));
  ERC_CHECK(eps >= 0, "layer_norm: expected eps >= 0, got ", eps);
}

}  // namespace

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  check_arguments(x, weight, bias, eps);
  const int64_t D = x.size(-1), rows = x.numel() / D;
  Tensor xc = x.detach().reshape({rows, D});
  Tensor wc = weight.detach().contiguous(), bc = bias.detach().contiguous();
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor mean = Tensor::empty({rows}, DType::f64, x.device()), rstd = Tensor::empty({rows}, DType::f64, x.device());
  if (x.device() == Device::cuda)
    ERC_CUDA_CALL(cuda::layer_norm_forward(xc, wc, bc, eps, y, mean, rstd));
  else
    layer_norm_forward_cpu(xc, wc, bc, eps, y, mean, rstd);
  if (!autograd::needs_grad({x, weight, bias})) return y;
  auto node = std::make_shared<LayerNormBackward>();
  node->x = xc;
  node->weight = wc;
  node->mean = mean;
  node->rstd = rstd;
  node->x_shape = x.shape();
  return autograd::record(y, node, {x, weight, bias});
}

Tensor layer_norm_gelu(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  if (x.device() == Device::cpu || autograd::needs_grad({x, weight, bias}))
    return gelu(layer_norm(x, weight, bias, eps));
  check_arguments(x, weight, bias, eps);
  const int64_t D = x.size(-1), rows = x.numel() / D;
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  ERC_CUDA_CALL(cuda::layer_norm_gelu_forward(x.detach().reshape({rows, D}), weight.detach().contiguous(),
                                              bias.detach().contiguous(), eps, y));
  return y;
}

}  // namespace erc::ops
