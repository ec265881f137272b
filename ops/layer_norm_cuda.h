// The CUDA face of ops/layer_norm: the launchers ops/layer_norm.cu defines and ops/layer_norm.cpp calls, and the
// per-element formulas both faces use. Row statistics are kept in double whatever x's dtype.
#pragma once
#include "tensor/host_device.h"
#include "tensor/tensor.h"

namespace erc::ops {

// With x̂ = (x - mean) rstd and ĝ = g weight: dx = rstd (ĝ - mean(ĝ) - x̂ mean(ĝ x̂)).
ERC_HOST_DEVICE inline double layer_norm_dx(double g_hat, double xhat, double rstd, double mean_g_hat,
                                            double mean_g_hat_xhat) {
  return rstd * (g_hat - mean_g_hat - xhat * mean_g_hat_xhat);
}

// dweight and dbias are summed over rows in at most this many row blocks, each in row order, then over the blocks in
// block order: the same bits on the CPU and on the device, whatever the thread count or the schedule.
constexpr int64_t kLayerNormRowBlocks = 64;
ERC_HOST_DEVICE inline int64_t layer_norm_block_begin(int64_t block, int64_t rows, int64_t n_blocks) {
  return block * rows / n_blocks;
}

namespace cuda {

// x [rows, D] contiguous, weight and bias [D] -> y [rows, D]; mean and rstd (f64 [rows]) get the row statistics.
void layer_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, const Tensor& y,
                        const Tensor& mean, const Tensor& rstd);
// y = GELU(layer_norm(x)) in one pass, bit for bit the two ops' result, keeping no statistics (inference).
void layer_norm_gelu_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, const Tensor& y);
// From the saved x, weight, mean, rstd and the gradient g [rows, D]: dx (when defined), dweight and dbias (when
// defined), dweight and dbias summed in kLayerNormRowBlocks row blocks as the CPU sums them.
void layer_norm_backward(const Tensor& x, const Tensor& weight, const Tensor& mean, const Tensor& rstd, const Tensor& g,
                         const Tensor& dx, const Tensor& dweight, const Tensor& dbias);

}  // namespace cuda
}  // namespace erc::ops
