#include "ops/causal_conv1d.h"

#include <algorithm>

#include "autograd/node.h"
#include "ops/causal_conv1d_cuda.h"
#include "ops/device.h"
#include "ops/packed_cuda.h"

namespace erc::ops {

namespace {

// For each frame, the sequence it belongs to.
std::vector<int64_t> sequence_of_frames(const SeqOffsets& seq_offsets) {
  std::vector<int64_t> seq(static_cast<size_t>(seq_offsets.back()));
  for (size_t s = 0; s + 1 < seq_offsets.size(); ++s)
    std::fill(seq.begin() + seq_offsets[s], seq.begin() + seq_offsets[s + 1], int64_t(s));
  return seq;
}

// weight [E, 1, K] as [K, E], so that the inner loops over channels read it contiguously.
Tensor taps_by_channel(const Tensor& weight) {
  return weight.detach().reshape({weight.size(0), weight.size(2)}).transpose(0, 1).contiguous();
}

struct CausalConv1dBackward : autograd::Node {
  Tensor x;     // [T, E], contiguous
  Tensor taps;  // [K, E]: weight transposed
  SeqOffsets seq_offsets;
  const char* name() const override { return "causal_conv1d"; }
  std::vector<Tensor> backward(const Tensor& g) override {  // g [T, E]
    Tensor gy = g.detach().contiguous();
    const int64_t T = x.size(0), E = x.size(1), K = taps.size(0);
    if (x.device() == Device::cuda) {
      Tensor dx = needs_input_grad(0) ? Tensor::empty({T, E}, x.dtype(), x.device()) : Tensor();
      Tensor dw = needs_input_grad(1) ? Tensor::empty({E, 1, K}, x.dtype(), x.device()) : Tensor();
      Tensor db = needs_input_grad(2) ? Tensor::empty({E}, x.dtype(), x.device()) : Tensor();
      ERC_CUDA_CALL(cuda::causal_conv1d_backward(x, taps, gy, seq_offsets_tensor(seq_offsets, x.device()), dx, dw, db));
      return {dx, dw, db};
    }
    // dweight and dbias: per-block partials in double, added in block order, so the bits depend neither on the
    // thread count nor on the schedule. The loops over channels are element-wise (no sum runs across them), so
    // `omp simd` vectorises them without changing a bit; GCC's -O2 would not, for fear the pointers alias.
    const std::vector<int64_t> seq = sequence_of_frames(seq_offsets);
    Tensor dx, dw, db;
    dispatch_float(x.dtype(), "causal_conv1d backward", [&](auto tag) {
      using scalar_t = decltype(tag);
      const scalar_t* px = x.data<scalar_t>();
      const scalar_t* pw = taps.data<scalar_t>();
      const scalar_t* pg = gy.data<scalar_t>();
      if (needs_input_grad(0)) {
        dx = Tensor::zeros({T, E}, x.dtype());
        scalar_t* pdx = dx.data<scalar_t>();
        // Frame s feeds outputs t = s + (K - 1) - k of its own sequence only.
#pragma omp parallel for schedule(static) if (T * E * K > 65536)
        for (int64_t s = 0; s < T; ++s) {
          const int64_t end = seq_offsets[size_t(seq[size_t(s)]) + 1];
          scalar_t* out = pdx + s * E;
          for (int64_t k = 0; k < K; ++k) {
            const int64_t t = s + (K - 1) - k;
            if (t >= end) continue;
            const scalar_t* gt = pg + t * E;
            const scalar_t* wk = pw + k * E;
#pragma omp simd
            for (int64_t e = 0; e < E; ++e) out[e] += wk[e] * gt[e];
          }
        }
      }
      const bool want_w = needs_input_grad(1), want_b = needs_input_grad(2);
      if (!want_w && !want_b) return;
      // partial[blk] holds K rows of sum_t g[t] x[t - (K - 1) + k], then one row of sum_t g[t].
      const int64_t n_blocks = (T + kCausalConvFrameBlock - 1) / kCausalConvFrameBlock;
      std::vector<double> partial(size_t(n_blocks * (K + 1) * E), 0.0);
#pragma omp parallel for schedule(static) if (T * E * K > 65536)
      for (int64_t blk = 0; blk < n_blocks; ++blk) {
        double* acc = partial.data() + blk * (K + 1) * E;
        for (int64_t t = blk * kCausalConvFrameBlock; t < std::min(T, (blk + 1) * kCausalConvFrameBlock); ++t) {
          const int64_t start = seq_offsets[size_t(seq[size_t(t)])];
          const scalar_t* gt = pg + t * E;
          for (int64_t k = std::max<int64_t>(0, start - t + (K - 1)); k < K; ++k) {
            const scalar_t* xs = px + (t - (K - 1) + k) * E;
            double* a = acc + k * E;
#pragma omp simd
            for (int64_t e = 0; e < E; ++e) a[e] += double(gt[e]) * double(xs[e]);
          }
          double* a = acc + K * E;
#pragma omp simd
          for (int64_t e = 0; e < E; ++e) a[e] += double(gt[e]);
        }
      }
      std::vector<double> total(size_t((K + 1) * E), 0.0);
      for (int64_t blk = 0; blk < n_blocks; ++blk)
#pragma omp simd
        for (int64_t i = 0; i < (K + 1) * E; ++i) total[size_t(i)] += partial[size_t(blk * (K + 1) * E + i)];
      if (want_w) {
        dw = Tensor::empty({E, 1, K}, x.dtype());
        scalar_t* p = dw.data<scalar_t>();
        for (int64_t e = 0; e < E; ++e)
          for (int64_t k = 0; k < K; ++k) p[e * K + k] = scalar_t(total[size_t(k * E + e)]);
      }
      if (want_b) {
        db = Tensor::empty({E}, x.dtype());
        scalar_t* p = db.data<scalar_t>();
        for (int64_t e = 0; e < E; ++e) p[e] = scalar_t(total[size_t(K * E + e)]);
      }
    });
    return {dx, dw, db};
  }
};

void causal_conv1d_forward_cpu(const Tensor& xc, const Tensor& taps, const Tensor& bc, const SeqOffsets& seq_offsets,
                               Tensor y) {
  const int64_t T = xc.size(0), E = xc.size(1), K = taps.size(0);
  const std::vector<int64_t> seq = sequence_of_frames(seq_offsets);
  dispatch_float(xc.dtype(), "causal_conv1d", [&](auto tag) {
    using scalar_t = decltype(tag);
    const scalar_t* px = xc.data<scalar_t>();
    const scalar_t* pw = taps.data<scalar_t>();
    const scalar_t* pb = bc.data<scalar_t>();
    scalar_t* py = y.data<scalar_t>();
#pragma omp parallel for schedule(static) if (T * E * K > 65536)
    for (int64_t t = 0; t < T; ++t) {
      const int64_t start = seq_offsets[size_t(seq[size_t(t)])];
      scalar_t* out = py + t * E;
      std::copy_n(pb, E, out);
      for (int64_t k = std::max<int64_t>(0, start - t + (K - 1)); k < K; ++k) {
        const scalar_t* xs = px + (t - (K - 1) + k) * E;
        const scalar_t* wk = pw + k * E;
#pragma omp simd
        for (int64_t e = 0; e < E; ++e) out[e] += wk[e] * xs[e];
      }
    }
  });
}

}  // namespace

Tensor causal_conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, const SeqOffsets& seq_offsets) {
  device_of("causal_conv1d", {x, weight, bias});
  ERC_CHECK(
      x.dim() == 2 && weight.dim() == 3 && weight.size(0) == x.size(1) && weight.size(1) == 1 && weight.size(2) >= 1,
      "causal_conv1d: expected x [T, E] and weight [E, 1, K], got ", shape_str(x.shape()), " and ",
      shape_str(weight.shape()));
  ERC_CHECK(x.dtype() == weight.dtype() && is_floating(x.dtype()),
            "causal_conv1d: expected x and weight both f32 or both f64, got ", dtype_name(x.dtype()), " and ",
            dtype_name(weight.dtype()));
  const int64_t T = x.size(0), E = x.size(1);
  if (bias.defined()) {
    ERC_CHECK(bias.dim() == 1 && bias.size(0) == E, "causal_conv1d: expected bias [", E, "] for x ",
              shape_str(x.shape()), ", got ", shape_str(bias.shape()));
    ERC_CHECK(bias.dtype() == x.dtype(), "causal_conv1d: bias is ", dtype_name(bias.dtype()), ", x is ",
              dtype_name(x.dtype()));
  }
  check_seq_offsets(seq_offsets, T, "causal_conv1d");

  Tensor xc = x.detach().contiguous(), taps = taps_by_channel(weight);
  Tensor bc = bias.defined() ? bias.detach().contiguous() : Tensor::zeros({E}, x.dtype(), x.device());
  Tensor y = Tensor::empty({T, E}, x.dtype(), x.device());
  if (x.device() == Device::cuda)
    ERC_CUDA_CALL(cuda::causal_conv1d_forward(xc, taps, bc, seq_offsets_tensor(seq_offsets, x.device()), y));
  else
    causal_conv1d_forward_cpu(xc, taps, bc, seq_offsets, y);
  if (!autograd::needs_grad({x, weight, bias})) return y;
  auto node = std::make_shared<CausalConv1dBackward>();
  node->x = xc;
  node->taps = taps;
  node->seq_offsets = seq_offsets;
  return autograd::record(y, node, {x, weight, bias});
}

}  // namespace erc::ops
