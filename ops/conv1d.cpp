#include "ops/conv1d.h"

#include <algorithm>
#include <vector>

#include "autograd/node.h"
#include "ops/blas.h"
#include "ops/conv1d_cuda.h"
#include "ops/conv1d_geometry.h"
#include "ops/cpu_isa.h"
#include "ops/device.h"

namespace erc::ops {

namespace {

using Geometry = Conv1dGeometry;

// col [rows, n]: row c K + k, column j holds x[c, (l0 + j) stride + k - padding], zero in the padding.
// x points at the group's first channel of one batch element.
template <typename T>
void im2col(const Geometry& geo, const T* x, int64_t l0, int64_t n, T* col) {
  const int64_t rows = geo.rows();
#pragma omp parallel for schedule(static) if (rows * n > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t c = r / geo.K, k = r % geo.K;
    const int64_t lo = std::clamp(geo.valid_lo(k) - l0, int64_t(0), n);
    const int64_t hi = std::clamp(geo.valid_hi(k) - l0, lo, n);
    const T* xr = x + c * geo.L + k - geo.padding + l0 * geo.stride;  // + j stride for column j
    T* out = col + r * n;
    std::fill(out, out + lo, T(0));
    for (int64_t j = lo; j < hi; ++j) out[j] = xr[j * geo.stride];
    std::fill(out + hi, out + n, T(0));
  }
}

// The adjoint of im2col: dx[c, (l0 + j) stride + k - padding] += dcol[c K + k, j]. One thread owns each channel
// (all its K rows), so every dx element is summed in the same order whatever the thread count.
template <typename T>
void col2im(const Geometry& geo, const T* dcol, int64_t l0, int64_t n, T* dx) {
  const int64_t channels = geo.cg_in();
#pragma omp parallel for schedule(static) if (geo.rows() * n > 32768)
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t k = 0; k < geo.K; ++k) {
      const int64_t lo = std::clamp(geo.valid_lo(k) - l0, int64_t(0), n);
      const int64_t hi = std::clamp(geo.valid_hi(k) - l0, lo, n);
      T* xr = dx + c * geo.L + k - geo.padding + l0 * geo.stride;
      const T* in = dcol + (c * geo.K + k) * n;
      for (int64_t j = lo; j < hi; ++j) xr[j * geo.stride] += in[j];
    }
  }
}

// The reference: every output row starts as its bias (or 0), then per batch element, group and tile of output
// positions, im2col and one GEMM that adds onto it. x [B, C_in, L] and w contiguous, y [B, C_out, L_out].
void forward_reference(const Geometry& geo, const Tensor& xc, const Tensor& wc, const Tensor& bias, Tensor& y) {
  const int64_t rows = geo.rows(), tile = geo.tile(), cg_in = geo.cg_in(), cg_out = geo.cg_out();
  dispatch_float(xc.dtype(), "conv1d", [&](auto tag) {
    using scalar_t = decltype(tag);
    scalar_t* py = y.data<scalar_t>();
    Tensor bc = bias.defined() ? bias.detach().contiguous() : Tensor::zeros({geo.C_out}, xc.dtype());
    const scalar_t* pb = bc.data<scalar_t>();
#pragma omp parallel for schedule(static) if (y.numel() > 65536)
    for (int64_t r = 0; r < geo.B * geo.C_out; ++r) std::fill_n(py + r * geo.L_out, geo.L_out, pb[r % geo.C_out]);
    Tensor col = Tensor::empty({rows, tile}, xc.dtype());
    scalar_t* pc = col.data<scalar_t>();
    const scalar_t* px = xc.data<scalar_t>();
    const scalar_t* pw = wc.data<scalar_t>();
    for (int64_t b = 0; b < geo.B; ++b)  // GEMMs in sequence, each one's tiles in parallel (ops/blas.h)
      for (int64_t grp = 0; grp < geo.groups; ++grp)
        for (int64_t l0 = 0; l0 < geo.L_out; l0 += tile) {
          const int64_t n = std::min(tile, geo.L_out - l0);
          im2col(geo, px + (b * geo.C_in + grp * cg_in) * geo.L, l0, n, pc);
          blas::gemm<scalar_t>("conv1d", false, false, cg_out, n, rows, pw + grp * cg_out * rows, rows, pc, n,
                               scalar_t(1), py + (b * geo.C_out + grp * cg_out) * geo.L_out + l0, geo.L_out);
        }
  });
}

// Whether x [B, C_in, L] is frames-major in memory: x.transpose(1, 2), [B, L, C_in], is contiguous. WavLM keeps its
// frames so ([T, F], a frame's channels side by side), and a waveform [B, 1, L] is so too.
bool frames_major(const Tensor& x) { return x.detach().transpose(1, 2).is_contiguous(); }

// The forward for frames-major x, y [B, L_out, C_out] frames-major too, without im2col. Output l's K taps are the
// K frames from l stride - padding on, which frames-major are one run of K C_in values, and output l + 1's run starts
// stride frames later: the column matrix im2col would copy is already in memory, as a matrix whose rows overlap.
// BLAS refuses overlapping rows (a leading dimension below the row length), so the taps go in pieces of at most
// `stride`, each a matrix of rows of (taps) C_in values, stride C_in apart, and one GEMM per piece adds into y:
// K 3 with stride 2 (WavLM's encoder) is two GEMMs, over 2 C_in and C_in columns. w_taps is the weight with taps
// before channels, [C_out, K, C_in / groups], so that a piece's weights are one block too. A padded input, or one
// group of a grouped conv (whose channels are not one run), is first copied into a zero-padded frames-major buffer
// of the group's channels: one copy of the group's frames where im2col makes K / stride of them.
template <typename T>
void forward_frames(const Geometry& geo, const T* x, const T* w_taps, const T* bias, T* y) {
  const int64_t cg_in = geo.cg_in(), cg_out = geo.cg_out(), K = geo.K, stride = geo.stride;
  const bool in_place = geo.groups == 1 && geo.padding == 0;
  const int64_t frames = (geo.L_out - 1) * stride + K;  // of the padded input, as far as the last output reads
  auto run = [&](int64_t b, int64_t grp, T* buffer) {
    const T* src = x + b * geo.L * geo.C_in;  // frame f of the (padded) input at src + f ld
    int64_t ld = geo.C_in;
    if (!in_place) {
      for (int64_t f = 0; f < frames; ++f) {
        const int64_t t = f - geo.padding;
        T* row = buffer + f * cg_in;
        if (t < 0 || t >= geo.L)
          std::fill_n(row, cg_in, T(0));
        else
          std::copy_n(src + t * geo.C_in + grp * cg_in, cg_in, row);
      }
      src = buffer, ld = cg_in;
    }
    T* out = y + b * geo.L_out * geo.C_out + grp * cg_out;  // output l's channels at out + l C_out
    if (bias)
      for (int64_t l = 0; l < geo.L_out; ++l) std::copy_n(bias + grp * cg_out, cg_out, out + l * geo.C_out);
    for (int64_t k0 = 0; k0 < K; k0 += stride) {
      const int64_t taps = std::min(stride, K - k0);
      blas::gemm<T>("conv1d", false, true, geo.L_out, cg_out, taps * cg_in, src + k0 * ld, stride * ld,
                    w_taps + grp * cg_out * K * cg_in + k0 * cg_in, K * cg_in, T(bias || k0 > 0 ? 1 : 0), out,
                    geo.C_out);
    }
  };
  const int64_t tasks = geo.B * geo.groups;
  const int64_t buffer_size = in_place ? 0 : frames * cg_in;
  if (tasks == 1) {  // one task: each GEMM's tiles run in parallel (ops/blas.h)
    std::vector<T> buffer(static_cast<size_t>(buffer_size));
    run(0, 0, buffer.data());
    return;
  }
  // Tasks (batch element, group) write disjoint outputs; a GEMM's tiles run on its task's thread, in a region that
  // only work worth a thread's start-up opens.
  const int64_t macs = geo.B * geo.C_out * geo.L_out * K * cg_in;
#pragma omp parallel if (macs > (int64_t(1) << 20))
  {
    std::vector<T> buffer(static_cast<size_t>(buffer_size));
#pragma omp for schedule(dynamic)
    for (int64_t task = 0; task < tasks; ++task) run(task / geo.groups, task % geo.groups, buffer.data());
  }
}

struct Conv1dBackward : autograd::Node {
  Tensor x, weight;  // contiguous, detached: x [B, C_in, L], weight [C_out, C_in / groups, K]
  Geometry geo;
  const char* name() const override { return "conv1d"; }
  std::vector<Tensor> backward(const Tensor& g) override {  // g [B, C_out, L_out]
    Tensor gy = g.detach().contiguous();
    Tensor dx, dw, db;
    const bool want_x = needs_input_grad(0), want_w = needs_input_grad(1);
    if (gy.device() == Device::cuda) {
      if (want_x) dx = Tensor::zeros(x.shape(), x.dtype(), Device::cuda);
      if (want_w) dw = Tensor::zeros(weight.shape(), x.dtype(), Device::cuda);
      if (needs_input_grad(2)) db = Tensor::empty({geo.C_out}, x.dtype(), Device::cuda);
      ERC_CUDA_CALL(cuda::conv1d_backward(geo, x, weight, gy, dx, dw, db));
      return {dx, dw, db};
    }
    if (want_x) dx = Tensor::zeros(x.shape(), x.dtype());
    if (want_w) dw = Tensor::zeros(weight.shape(), x.dtype());
    const int64_t rows = geo.rows(), tile = geo.tile(), cg_in = geo.cg_in(), cg_out = geo.cg_out();
    if (want_x || want_w)
      dispatch_float(x.dtype(), "conv1d backward", [&](auto tag) {
        using scalar_t = decltype(tag);
        Tensor col = Tensor::empty({rows, tile}, x.dtype());  // im2col for dweight, weight^T g for dx
        scalar_t* pc = col.data<scalar_t>();
        const scalar_t* px = x.data<scalar_t>();
        const scalar_t* pw = weight.data<scalar_t>();
        const scalar_t* pg = gy.data<scalar_t>();
        // GEMMs in sequence, each one's tiles in parallel (ops/blas.h). dweight sums over batch and tiles in this
        // fixed order.
        for (int64_t b = 0; b < geo.B; ++b)
          for (int64_t grp = 0; grp < geo.groups; ++grp) {
            const int64_t x_off = (b * geo.C_in + grp * cg_in) * geo.L;
            const scalar_t* g_grp = pg + (b * geo.C_out + grp * cg_out) * geo.L_out;
            const scalar_t* w_grp = pw + grp * cg_out * rows;
            for (int64_t l0 = 0; l0 < geo.L_out; l0 += tile) {
              const int64_t n = std::min(tile, geo.L_out - l0);
              if (want_w) {
                im2col(geo, px + x_off, l0, n, pc);
                blas::gemm<scalar_t>("conv1d", false, true, cg_out, rows, n, g_grp + l0, geo.L_out, pc, n, scalar_t(1),
                                     dw.data<scalar_t>() + grp * cg_out * rows, rows);
              }
              if (want_x) {
                blas::gemm<scalar_t>("conv1d", true, false, rows, n, cg_out, w_grp, rows, g_grp + l0, geo.L_out,
                                     scalar_t(0), pc, n);
                col2im(geo, pc, l0, n, dx.data<scalar_t>() + x_off);
              }
            }
          }
      });
    if (needs_input_grad(2)) {
      db = Tensor::empty({geo.C_out}, x.dtype());
      dispatch_float(x.dtype(), "conv1d backward", [&](auto tag) {
        using scalar_t = decltype(tag);
        const scalar_t* pg = gy.data<scalar_t>();
        scalar_t* out = db.data<scalar_t>();
#pragma omp parallel for schedule(static) if (geo.B * geo.C_out * geo.L_out > 65536)
        for (int64_t o = 0; o < geo.C_out; ++o) {
          double acc = 0;
          for (int64_t b = 0; b < geo.B; ++b) {
            const scalar_t* row = pg + (b * geo.C_out + o) * geo.L_out;
            for (int64_t l = 0; l < geo.L_out; ++l) acc += double(row[l]);
          }
          out[o] = scalar_t(acc);
        }
      });
    }
    return {dx, dw, db};
  }
};

}  // namespace

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t stride, int64_t padding,
              int64_t groups) {
  const Device device = device_of("conv1d", {x, weight, bias});
  ERC_CHECK(x.dim() == 3 && weight.dim() == 3,
            "conv1d: expected x [B, C_in, L] and weight [C_out, C_in / groups, K], got ", shape_str(x.shape()), " and ",
            shape_str(weight.shape()));
  ERC_CHECK(stride >= 1 && padding >= 0 && groups >= 1, "conv1d: expected stride >= 1, padding >= 0, groups >= 1, got ",
            stride, ", ", padding, ", ", groups);
  ERC_CHECK(x.dtype() == weight.dtype() && is_floating(x.dtype()),
            "conv1d: expected x and weight both f32 or both f64, got ", dtype_name(x.dtype()), " and ",
            dtype_name(weight.dtype()));
  Geometry geo{};
  geo.B = x.size(0), geo.C_in = x.size(1), geo.L = x.size(2);
  geo.C_out = weight.size(0), geo.K = weight.size(2);
  geo.stride = stride, geo.padding = padding, geo.groups = groups;
  ERC_CHECK(geo.C_in % groups == 0 && geo.C_out % groups == 0, "conv1d: groups = ", groups,
            " must divide C_in and C_out, got x ", shape_str(x.shape()), " and weight ", shape_str(weight.shape()));
  ERC_CHECK(geo.C_in >= 1 && geo.C_out >= 1, "conv1d: expected at least one input and one output channel, got x ",
            shape_str(x.shape()), " and weight ", shape_str(weight.shape()));
  ERC_CHECK(weight.size(1) == geo.C_in / groups && geo.K >= 1, "conv1d: x ", shape_str(x.shape()),
            " with groups = ", groups, " needs weight [C_out, ", geo.C_in / groups, ", K >= 1], got ",
            shape_str(weight.shape()));
  ERC_CHECK(geo.L + 2 * padding >= geo.K, "conv1d: input length ", geo.L, " plus padding 2 x ", padding,
            " is shorter than the kernel ", geo.K, " (x ", shape_str(x.shape()), ", weight ", shape_str(weight.shape()),
            ")");
  if (bias.defined()) {
    ERC_CHECK(bias.dim() == 1 && bias.size(0) == geo.C_out, "conv1d: expected bias [", geo.C_out, "] for weight ",
              shape_str(weight.shape()), ", got ", shape_str(bias.shape()));
    ERC_CHECK(bias.dtype() == x.dtype(), "conv1d: bias is ", dtype_name(bias.dtype()), ", x is ",
              dtype_name(x.dtype()));
  }
  geo.L_out = (geo.L + 2 * padding - geo.K) / stride + 1;

  const bool record = autograd::needs_grad({x, weight, bias});
  Tensor y;
  if (device == Device::cuda) {
    y = Tensor::empty({geo.B, geo.C_out, geo.L_out}, x.dtype(), device);
    const Tensor bc = bias.defined() ? bias.detach().contiguous() : Tensor();
    ERC_CUDA_CALL(cuda::conv1d_forward(geo, x.detach().contiguous(), weight.detach().contiguous(), bc, y));
  } else if (cpu_isa() != CpuIsa::baseline && frames_major(x)) {
    // The fast path: frames-major in, frames-major out, as PyTorch's convolutions keep a channels-last input's layout.
    Tensor frames = Tensor::empty({geo.B, geo.L_out, geo.C_out}, x.dtype());
    Tensor xf = x.detach(), w_taps = weight.detach().permute({0, 2, 1}).contiguous();
    Tensor bc = bias.defined() ? bias.detach().contiguous() : Tensor();
    dispatch_float(x.dtype(), "conv1d", [&](auto tag) {
      using scalar_t = decltype(tag);
      forward_frames(geo, xf.data<scalar_t>(), w_taps.data<scalar_t>(),
                     bc.defined() ? bc.data<scalar_t>() : static_cast<const scalar_t*>(nullptr),
                     frames.data<scalar_t>());
    });
    y = frames.transpose(1, 2);
  } else {
    y = Tensor::empty({geo.B, geo.C_out, geo.L_out}, x.dtype());
    forward_reference(geo, x.detach().contiguous(), weight.detach().contiguous(), bias, y);
  }
  if (!record) return y;
  auto node = std::make_shared<Conv1dBackward>();
  node->x = x.detach().contiguous();
  node->weight = weight.detach().contiguous();
  node->geo = geo;
  return autograd::record(y, node, {x, weight, bias});
}

}  // namespace erc::ops
