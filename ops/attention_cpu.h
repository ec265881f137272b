// The attention op's vector fast path (ops/attention_simd.h, compiled per ISA in ops/attention_avx2.cpp and
// ops/attention_avx512.cpp): one row of probabilities, the part of a block that runs outside its two GEMMs.
// ops/attention.cpp holds the reference loop with the same signature and picks one by ops::cpu_isa(). Plain
// declarations only (ops/selective_scan_cpu.h says why).
#pragma once
#include <cstdint>

namespace erc::ops::attention_cpu {

// In place, for j < n: row[j] = softmax_j(scale row[j] + gate bias[j]). row holds one query's scores q . k_j, bias
// the relative-position bias of its keys.
using ProbabilityRow = void (*)(float* row, const float* bias, float scale, float gate, int64_t n);

// Defined only in a build with SLEEF; called only when ops::cpu_isa() names the ISA.
ProbabilityRow avx2();
ProbabilityRow avx512();

}  // namespace erc::ops::attention_cpu
