// Mamba's selective scan (docs/MODEL.md §2) as one fused op: softplus of delta, the state recurrence, the read-out by
// C, the D skip and the SiLU(z) gate, with a backward that keeps only chunk-boundary states (no T x E x N tensor).
// ops/selective_scan_naive.h is the same computation as plain loops: read it first; this op is tested against it.
#pragma once
#include "ops/packed.h"
#include "tensor/tensor.h"

namespace erc::ops {

// Per channel e and state n, within each packed sequence (the state starts at 0 on its first frame):
//   delta_eff_t = softplus(delta_t + delta_bias)             (threshold 20, as torch.nn.functional.softplus)
//   h_t = exp(delta_eff_t A[e,n]) h_{t-1} + delta_eff_t B_t[n] u_t
//   y_t = sum_n C_t[n] h_t[n] + D u_t,   out_t = y_t SiLU(z_t)
// u, delta, z [T, E]; A [E, N]; B, C [T, N] (shared by all channels: one group); D, delta_bias [E].
// Returns out [T, E]. Forward saves the state at every chunk_size-th frame of each sequence (counted from the
// sequence's start); backward recomputes the states inside one chunk at a time from those, so chunk_size changes
// memory and time, never a value. Results are bitwise reproducible and independent of the thread count. On the CPU
// the loops are the plain reference or its vector form for the ISA ops::cpu_isa() chose (ops/cpu_isa.h), which
// differs from the reference in the last bits (docs/TESTING.md). On the device the chunks are 32 frames whatever
// chunk_size says (ops/selective_scan_cuda.h: kScanChunk), and the sums run in a fixed order too.
Tensor selective_scan(const Tensor& u, const Tensor& delta, const Tensor& A, const Tensor& B, const Tensor& C,
                      const Tensor& D, const Tensor& z, const Tensor& delta_bias, const SeqOffsets& seq_offsets,
                      int64_t chunk_size = 2048);

// How many [E, N] states forward saves for backward: one per chunk boundary inside a sequence,
// sum_s (ceil(len_s / chunk_size) - 1) (a sequence's first chunk starts from the zero state).
int64_t selective_scan_saved_states(const SeqOffsets& seq_offsets, int64_t chunk_size);

}  // namespace erc::ops
