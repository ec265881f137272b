#include "cuda/kernel.h"
#include "ops/conv1d_cuda.h"
#include "ops/device.h"
#include "ops/matmul_cuda.h"

namespace erc::ops::cuda {

namespace {

constexpr unsigned kThreads = 256;

// y[b, o, l] = bias[o], or 0 without one: the GEMMs then add onto it, as the CPU's reference does.
template <typename T>
__global__ void conv1d_fill_bias_kernel(const T* bias, T* y, int64_t C_out, int64_t L_out, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) y[i] = bias ? bias[(i / L_out) % C_out] : T(0);
}

// col [groups, rows, n] for batch element b and output positions [l0, l0 + n): row c K + k of group grp, column j
// holds x[b, grp C_in / groups + c, (l0 + j) stride + k - padding], zero in the padding.
template <typename T>
__global__ void conv1d_im2col_kernel(Conv1dGeometry geo, const T* x, int64_t b, int64_t l0, int64_t n, T* col) {
  const int64_t rows = geo.rows(), total = geo.groups * rows * n;
  for (int64_t i = global_thread(); i < total; i += grid_threads()) {
    const int64_t j = i % n, r = (i / n) % rows, grp = i / (n * rows);
    const int64_t c = grp * geo.cg_in() + r / geo.K, t = (l0 + j) * geo.stride + r % geo.K - geo.padding;
    col[i] = t >= 0 && t < geo.L ? x[(b * geo.C_in + c) * geo.L + t] : T(0);
  }
}

// The adjoint of im2col for one tile: dx[b, c, t] += dcol[grp][c K + k, j] over the taps k whose column j =
// (t + padding - k) / stride - l0 is whole and in the tile, k ascending: per element the additions the CPU's col2im
// makes, in its order. A thread per input position the tile reaches, t in [t_lo, t_hi).
template <typename T>
__global__ void conv1d_col2im_kernel(Conv1dGeometry geo, const T* dcol, int64_t b, int64_t l0, int64_t n, int64_t t_lo,
                                     int64_t t_hi, T* dx) {
  const int64_t span = t_hi - t_lo, total = geo.C_in * span;
  for (int64_t i = global_thread(); i < total; i += grid_threads()) {
    const int64_t c = i / span, t = t_lo + i % span;
    const int64_t grp = c / geo.cg_in(), c_local = c % geo.cg_in();
    const T* group_col = dcol + grp * geo.rows() * n;
    T& out = dx[(b * geo.C_in + c) * geo.L + t];
    T acc = out;
    for (int64_t k = 0; k < geo.K; ++k) {
      const int64_t at = t + geo.padding - k;
      if (at < 0 || at % geo.stride != 0) continue;
      const int64_t j = at / geo.stride - l0;
      if (j >= 0 && j < n) acc = acc + group_col[(c_local * geo.K + k) * n + j];
    }
    out = acc;
  }
}

// dbias[o] = the sum of g[b, o, l] over b then l, in double: the CPU's order.
template <typename T>
__global__ void conv1d_bias_grad_kernel(const T* g, T* dbias, int64_t B, int64_t C_out, int64_t L_out) {
  for (int64_t o = global_thread(); o < C_out; o += grid_threads()) {
    double acc = 0;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t l = 0; l < L_out; ++l) acc += double(g[(b * C_out + o) * L_out + l]);
    dbias[o] = T(acc);
  }
}

// The column buffer of one tile, [groups, rows, tile], from the caching allocator.
Tensor column_buffer(const Conv1dGeometry& geo, DType dtype) {
  return Tensor::empty({geo.groups, geo.rows(), geo.tile()}, dtype, Device::cuda);
}

template <typename T>
void im2col(const Conv1dGeometry& geo, const T* x, int64_t b, int64_t l0, int64_t n, T* col) {
  const int64_t total = geo.groups * geo.rows() * n;
  launch<conv1d_im2col_kernel<T>>(ERC_HERE, grid_for(total, kThreads), kThreads, 0, geo, x, b, l0, n, col);
}

}  // namespace

void conv1d_forward(const Conv1dGeometry& geo, const Tensor& x, const Tensor& weight, const Tensor& bias,
                    const Tensor& y) {
  const int64_t n_out = y.numel();
  if (n_out == 0) return;
  dispatch_float(x.dtype(), "conv1d", [&](auto tag) {
    using scalar_t = decltype(tag);
    scalar_t* py = y.device_data<scalar_t>();
    launch<conv1d_fill_bias_kernel<scalar_t>>(ERC_HERE, grid_for(n_out, kThreads), kThreads, 0,
                                              device_data_or_null<scalar_t>(bias), py, geo.C_out, geo.L_out, n_out);
    const Tensor col = column_buffer(geo, x.dtype());
    const int64_t rows = geo.rows(), tile = geo.tile(), cg_out = geo.cg_out();
    for (int64_t b = 0; b < geo.B; ++b)
      for (int64_t l0 = 0; l0 < geo.L_out; l0 += tile) {
        const int64_t n = std::min(tile, geo.L_out - l0);
        im2col(geo, x.device_data<scalar_t>(), b, l0, n, col.device_data<scalar_t>());
        // y[b, grp's channels, l0 ..] += w_grp [cg_out, rows] col_grp [rows, n], one product per group.
        gemm(x.dtype(), false, false, cg_out, n, rows, weight.device_data<scalar_t>(), rows, cg_out * rows,
             col.device_data<scalar_t>(), n, rows * n, 1.0, py + b * geo.C_out * geo.L_out + l0, geo.L_out,
             cg_out * geo.L_out, geo.groups);
      }
  });
}

void conv1d_backward(const Conv1dGeometry& geo, const Tensor& x, const Tensor& weight, const Tensor& g,
                     const Tensor& dx, const Tensor& dweight, const Tensor& dbias) {
  dispatch_float(x.dtype(), "conv1d backward", [&](auto tag) {
    using scalar_t = decltype(tag);
    const scalar_t* pg = g.device_data<scalar_t>();
    if (dbias.defined())
      launch<conv1d_bias_grad_kernel<scalar_t>>(ERC_HERE, grid_for(geo.C_out, kThreads), kThreads, 0, pg,
                                                dbias.device_data<scalar_t>(), geo.B, geo.C_out, geo.L_out);
    if (!dx.defined() && !dweight.defined()) return;
    const Tensor col = column_buffer(geo, x.dtype());  // im2col for dweight, weight^T g for dx
    scalar_t* pc = col.device_data<scalar_t>();
    const int64_t rows = geo.rows(), tile = geo.tile(), cg_out = geo.cg_out();
    // dweight sums over batch elements and tiles in this fixed order, as the CPU does.
    for (int64_t b = 0; b < geo.B; ++b)
      for (int64_t l0 = 0; l0 < geo.L_out; l0 += tile) {
        const int64_t n = std::min(tile, geo.L_out - l0);
        const scalar_t* g_tile = pg + b * geo.C_out * geo.L_out + l0;
        if (dweight.defined()) {
          im2col(geo, x.device_data<scalar_t>(), b, l0, n, pc);
          // dw_grp [cg_out, rows] += g_grp [cg_out, n] col_grp^T
          gemm(x.dtype(), false, true, cg_out, rows, n, g_tile, geo.L_out, cg_out * geo.L_out, pc, n, rows * n, 1.0,
               dweight.device_data<scalar_t>(), rows, cg_out * rows, geo.groups);
        }
        if (dx.defined()) {
          // dcol_grp [rows, n] = w_grp^T g_grp, then added into the input positions the tile read.
          gemm(x.dtype(), true, false, rows, n, cg_out, weight.device_data<scalar_t>(), rows, cg_out * rows, g_tile,
               geo.L_out, cg_out * geo.L_out, 0.0, pc, n, rows * n, geo.groups);
          const int64_t t_lo = std::max<int64_t>(0, l0 * geo.stride - geo.padding);
          const int64_t t_hi = std::min(geo.L, (l0 + n - 1) * geo.stride + geo.K - geo.padding);
          if (t_hi > t_lo)
            launch<conv1d_col2im_kernel<scalar_t>>(ERC_HERE, grid_for(geo.C_in * (t_hi - t_lo), kThreads), kThreads, 0,
                                                   geo, pc, b, l0, n, t_lo, t_hi, dx.device_data<scalar_t>());
        }
      }
  });
}

}  // namespace erc::ops::cuda
