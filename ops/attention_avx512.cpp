// The attention op's probability row for AVX-512 (ops/attention_simd.h), compiled with -mavx512f -mfma;
// ops/attention.cpp calls it only when ops::cpu_isa() says avx512.
#include "ops/attention_simd.h"
#include "ops/simd_avx512.h"

namespace erc::ops::attention_cpu {

ProbabilityRow avx512() { return probability_row<simd_avx512::F32>; }

}  // namespace erc::ops::attention_cpu
