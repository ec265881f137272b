// The selective scan's CPU loops, one block of channels at a time: the plain reference loops
// (ops/selective_scan.cpp) and the vector fast paths (ops/selective_scan_simd.h, compiled per ISA in
// ops/selective_scan_avx2.cpp and ops/selective_scan_avx512.cpp). ops/selective_scan.cpp runs the blocks on
// OpenMP threads, owns every buffer, and adds the blocks' dB and dC in a fixed order. Plain structs and function
// declarations only: an inline function here would be compiled once per ISA and the linker could keep the wide one
// for the baseline code.
#pragma once
#include <cstdint>

namespace erc::ops::scan_cpu {

// The op's inputs, contiguous, in its argument order.
template <typename scalar_t>
struct Inputs {
  const scalar_t *u, *delta, *A, *B, *C, *D, *z, *delta_bias;
  int64_t T, E, N;
};

template <typename scalar_t>
struct Grads {
  scalar_t *u, *delta, *A, *B, *C, *D, *z, *delta_bias;
};

// What every block shares: the packing, where each sequence's boundary states start in the saved
// [n_saved, E, N] tensor, and A transposed to [N, E] (a vector of channels of one state is then one load).
template <typename scalar_t>
struct Plan {
  const int64_t* seq_offsets;  // n_seqs + 1 of them
  int64_t n_seqs;
  const int64_t* first_state;  // n_seqs of them
  int64_t chunk_size;
  int64_t chunk_rows;  // the longest chunk: min(chunk_size, the longest sequence)
  const scalar_t* A_by_state;
};

// One thread's scratch for the backward of one block of up to `block` channels; ops/selective_scan.cpp sizes it
// (backward_work_sizes) and each kernel lays it out as it likes.
template <typename scalar_t>
struct BackwardWork {
  scalar_t* values;  // ((3 chunk_rows + 6) N + 2 chunk_rows) block, aligned to 64 bytes
  double* sums;      // (N + 2) block
};

// out [T, E] and, when `states` is not null, the chunk-boundary states of the channels [e0, e0 + width).
// `h` holds 2 N block values, aligned to 64 bytes.
template <typename scalar_t>
using ForwardBlock = void (*)(const Inputs<scalar_t>& in, const Plan<scalar_t>& plan, int64_t e0, int64_t width,
                              scalar_t* out, scalar_t* states, scalar_t* h);

// Every gradient of the channels [e0, e0 + width) (written, not added), and their terms of dB and dC added into
// the [T, N] sums dB_sum and dC_sum. g [T, E] is dL/d(out).
template <typename scalar_t>
using BackwardBlock = void (*)(const Inputs<scalar_t>& in, const Plan<scalar_t>& plan, const scalar_t* states,
                               const scalar_t* g, int64_t e0, int64_t width, const Grads<scalar_t>& d,
                               double* dB_sum, double* dC_sum, const BackwardWork<scalar_t>& work);

template <typename scalar_t>
struct Kernels {
  int64_t block;  // channels per block
  ForwardBlock<scalar_t> forward;
  BackwardBlock<scalar_t> backward;
};

// The vector kernels; defined only in a build with SLEEF, called only when the CPU has the ISA.
Kernels<float> avx2_f32();
Kernels<double> avx2_f64();
Kernels<float> avx512_f32();
Kernels<double> avx512_f64();

}  // namespace erc::ops::scan_cpu
