// Mamba's selective scan as the paper writes it: one loop over time, in double, no chunks, threads or vectors. Read
// this first; ops/selective_scan.h is the same computation made fast (chunked CPU loops, their AVX2 and AVX-512
// forms, the CUDA kernels), and every one of those forms is tested against this function.
#pragma once
#include "ops/packed.h"
#include "tensor/tensor.h"

namespace erc::ops {

// The inputs of ops::selective_scan (any float dtype, on either device) -> out [T, E] in f64 on the CPU, recording
// no gradient.
Tensor selective_scan_naive(const Tensor& u, const Tensor& delta, const Tensor& A, const Tensor& B, const Tensor& C,
                            const Tensor& D, const Tensor& z, const Tensor& delta_bias, const SeqOffsets& seq_offsets);

}  // namespace erc::ops
