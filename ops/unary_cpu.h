// The vector fast paths of the unary ops' CPU loops (ops/unary_avx2.cpp), for the ops whose element function calls
// exp or erf: sigmoid's forward, SiLU's forward and backward, GELU's forward (WavLM's, which takes no gradient).
// ops/unary.cpp calls them on contiguous float32 runs when ops::cpu_isa() says avx2, and runs its plain loops
// otherwise. Plain declarations only (ops/selective_scan_cpu.h says why).
#pragma once
#include <cstdint>

#include "ops/unary_cuda.h"

namespace erc::ops::unary_cpu {

// y[i] = f(x[i]) for i < n.
using Forward = void (*)(const float* x, float* y, int64_t n);
// dx[i] = g[i] f'(saved[i]) for i < n, saved as the op saves it (x or y: ops/unary_cuda.h's kSavesOutput).
using Backward = void (*)(const float* saved, const float* g, float* dx, int64_t n);

struct Kernels {
  Forward forward = nullptr;  // null: no fast path for this op
  Backward backward = nullptr;
};

// Defined only in a build with SLEEF; called only when the CPU has AVX2.
Kernels avx2(UnaryKind kind);

}  // namespace erc::ops::unary_cpu
