// conv1d's shapes and the arithmetic of its columns, shared by the CPU loops (ops/conv1d.cpp) and the CUDA face
// (ops/conv1d.cu), so that both cut the output positions into the same tiles and agree on which taps read padding.
#pragma once
#include <algorithm>
#include <cstdint>

#include "tensor/host_device.h"

namespace erc::ops {

// The column matrix of one group holds (C_in / groups) K rows; its columns are cut into tiles of output positions
// so that it stays near 2M elements (8 MiB in f32) however long the input: WavLM's second encoder layer on a
// minute of audio would otherwise need a 1536 x 96000 matrix. 64 columns at least keep the GEMM efficient.
constexpr int64_t kConv1dColBudget = int64_t(1) << 21;
constexpr int64_t kConv1dMinTile = 64;

// Passed by value to the kernels: what they call is ERC_HOST_DEVICE.
struct Conv1dGeometry {
  int64_t B, C_in, L, C_out, K, L_out, stride, padding, groups;
  ERC_HOST_DEVICE int64_t cg_in() const { return C_in / groups; }
  ERC_HOST_DEVICE int64_t cg_out() const { return C_out / groups; }
  ERC_HOST_DEVICE int64_t rows() const { return cg_in() * K; }  // of a group's column matrix; also weight's row length
  int64_t tile() const { return std::min(L_out, std::max(kConv1dMinTile, kConv1dColBudget / rows())); }
  // Output positions l in [lo, hi) read x at l stride + k - padding inside [0, L); the others read padding.
  int64_t valid_lo(int64_t k) const { return padding - k <= 0 ? 0 : (padding - k + stride - 1) / stride; }
  int64_t valid_hi(int64_t k) const {
    const int64_t end = L + padding - k;  // l stride < end
    return std::min(L_out, end <= 0 ? 0 : (end + stride - 1) / stride);
  }
};

}  // namespace erc::ops
