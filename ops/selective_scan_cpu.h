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

// The frames that the vector kernels take state by state: a piece (ops/selective_scan_simd.h).
constexpr int64_t kPiece = 32;

// dB and dC sum over channels. Each group of kGroupChannels channels (whole blocks of every kernel) sums its own
// channels, block by block in order, into its own [T, N] partial in double, and ops/selective_scan.cpp adds the
// partials in group order: the result is the same whatever the thread count. A group is also the unit of
// backward's parallelism (16 of them for the model's E = 512), and its partials are its memory: 2 G T N doubles.
constexpr int64_t kGroupChannels = 32;

// One thread's scratch for the backward of a range of channels, sized by the kernel's backward_scratch.
template <typename scalar_t>
struct BackwardWork {
  scalar_t* values;  // aligned to 64 bytes
  double* sums;      // (N + 2) (channels + block)
};

// out [T, E] and, when `states` is not null, the chunk-boundary states of the channels [e0, e1); e0 is a multiple
// of the kernel's block. `scratch` holds forward_scratch(e1 - e0, N, chunk_rows) values, aligned to 64 bytes.
template <typename scalar_t>
using ForwardRange = void (*)(const Inputs<scalar_t>& in, const Plan<scalar_t>& plan, int64_t e0, int64_t e1,
                              scalar_t* out, scalar_t* states, scalar_t* scratch);

// Every gradient of the channels [e0, e1) (written, not added); e0 and e1 are multiples of kGroupChannels (or e1 is
// E). Their terms of dB and dC are added into the [n_groups, T, N] partials dB_parts and dC_parts, channel e's into
// group e / kGroupChannels. g [T, E] is dL/d(out).
template <typename scalar_t>
using BackwardRange = void (*)(const Inputs<scalar_t>& in, const Plan<scalar_t>& plan, const scalar_t* states,
                               const scalar_t* g, int64_t e0, int64_t e1, const Grads<scalar_t>& d, double* dB_parts,
                               double* dC_parts, const BackwardWork<scalar_t>& work);

// Scratch values a kernel needs for `channels` channels.
using ScratchSize = int64_t (*)(int64_t channels, int64_t N, int64_t chunk_rows);

template <typename scalar_t>
struct Kernels {
  int64_t block;  // channels the kernel takes together: 16 for the reference, one vector for the fast paths
  // The chunk forward saves states at: 0 for the op's chunk_size (the reference); kPiece for the fast paths, whose
  // backward then recomputes each piece once from its saved state (as the device does with its 32-frame chunks).
  int64_t chunk;
  ForwardRange<scalar_t> forward;
  BackwardRange<scalar_t> backward;
  ScratchSize forward_scratch, backward_scratch;
};

// The vector kernels; defined only in a build with SLEEF, called only when the CPU has the ISA.
Kernels<float> avx2_f32();
Kernels<double> avx2_f64();
Kernels<float> avx512_f32();
Kernels<double> avx512_f64();

}  // namespace erc::ops::scan_cpu
