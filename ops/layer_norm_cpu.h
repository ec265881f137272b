// The vector fast path of layer_norm's CPU loops (ops/layer_norm_avx2.cpp). The reference sums each row in one
// chain of double adds, which waits ~4 cycles on every element; the fast path sums in 16 double lanes, added in a
// fixed order at the end. The per-element formulas are the reference's, in double, operation for operation, so the
// results differ from it only through the row sums' rounding (docs/TESTING.md). ops/layer_norm.cpp calls it on
// float32 rows when ops::cpu_isa() is not baseline and the CPU has AVX2, and keeps the threading and the row blocks.
// Plain declarations only (ops/selective_scan_cpu.h says why).
#pragma once
#include <cstdint>

namespace erc::ops::layer_norm_cpu {

// Rows [0, rows) of x [rows, D]: mean and rstd (double) of each row, and y = (x - mean) rstd w + b.
using Forward = void (*)(const float* x, const float* w, const float* b, int64_t rows, int64_t D, double eps, float* y,
                         double* mean, double* rstd);
// Rows [0, rows) of one row block: dx (when not null) from g [rows, D] and the saved x, mean, rstd, and the
// block's sums Σ g x̂ and Σ g added, row by row, into acc_w and acc_b [D].
using Backward = void (*)(const float* x, const float* w, const float* g, const double* mean, const double* rstd,
                          int64_t rows, int64_t D, float* dx, double* acc_w, double* acc_b);

struct Kernels {
  Forward forward = nullptr;
  Backward backward = nullptr;
};

// Defined only in a build with SLEEF (the build of every per-ISA file); called only when the CPU has AVX2.
Kernels avx2();

}  // namespace erc::ops::layer_norm_cpu
