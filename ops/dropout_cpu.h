// The vector fast path of dropout's forward on the CPU (ops/dropout_avx2.cpp): the Philox counter blocks of eight
// pairs of elements at once, the Bernoulli test in integers, the scaled mask and the product in one pass.
// ops/dropout.cpp calls it on contiguous float32 runs when ops::cpu_isa() is not baseline and the CPU has AVX2, and
// draws the mask with Generator::fill_bernoulli otherwise. Plain declarations only (ops/selective_scan_cpu.h says why).
#pragma once
#include <cstdint>

namespace erc::ops::dropout_cpu {

// Elements per call unit: the 8 counter blocks of one vector of 32-bit lanes, two elements each.
inline constexpr int64_t kGroup = 16;

// For elements [0, kGroup n_groups) of a draw whose element 0 reads counter block `first_block` (element i: half
// i % 2 of block first_block + i / 2, as tensor/philox.h): mask[i] = scale where the element's 64 bits keep it
// ((bits >> 11) < keep_below, tensor/philox.h's bernoulli_keep_below), else 0; y[i] = x[i] mask[i].
using Forward = void (*)(uint64_t seed, uint64_t first_block, uint64_t keep_below, float scale, const float* x,
                         float* y, float* mask, int64_t n_groups);

// Defined only in a build with SLEEF (the build of every per-ISA file); called only when the CPU has AVX2.
Forward avx2();

}  // namespace erc::ops::dropout_cpu
