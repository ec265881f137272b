// The attention op's probability row for AVX2 (ops/attention_simd.h), compiled with -mavx2 -mfma;
// ops/attention.cpp calls it only when ops::cpu_isa() says avx2.
#include "ops/attention_simd.h"
#include "ops/simd_avx2.h"

namespace erc::ops::attention_cpu {

ProbabilityRow avx2() { return probability_row<simd_avx2::F32>; }

}  // namespace erc::ops::attention_cpu
