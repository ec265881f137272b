// The CUDA face of ops/selective_scan: the launchers ops/selective_scan.cu defines and ops/selective_scan.cpp calls.
//
// The device splits every sequence into chunks of kScanChunk frames (counted from the sequence's start) and scans
// them all in parallel: the recurrence h_t = a_t h_{t-1} + b_t is linear, so a chunk's end state is
// P h_start + h_local (P the product of its decays, h_local its end state from zero). A first pass gives every chunk
// its P and h_local, a short sequential pass over each sequence's chunks the start states, and a last pass reruns
// each chunk from its start state for the outputs. Backward does the same for the reverse-time recurrence of dh,
// and then reruns each chunk once more, from its saved start state, for the gradients. Saved for backward: the start
// state of every chunk, [n_chunks, E, N] (T / kScanChunk x E x N values, never T x E x N).
#pragma once
#include "ops/packed.h"
#include "tensor/tensor.h"

namespace erc::ops::cuda {

constexpr int64_t kScanChunk = 32;

// The chunks of kScanChunk frames that tile each sequence: chunk i is frames [begin[i], begin[i + 1]);
// first_chunk[s] is sequence s's first chunk (first_chunk[S] = the number of chunks).
struct ScanChunks {
  std::vector<int64_t> begin, first_chunk;
  int64_t count() const { return int64_t(begin.size()) - 1; }
};
ScanChunks scan_chunks(const SeqOffsets& seq_offsets);

// inputs: u, delta, A, B, C, D, z, delta_bias (contiguous, on the device) -> out [T, E]. Returns the start state of
// each chunk, [n_chunks, E, N] (the output needs them too, so they are made whether or not backward will run).
Tensor selective_scan_forward(const std::vector<Tensor>& inputs, const SeqOffsets& seq_offsets, const Tensor& out);
// From the inputs, the saved states and g = dL/d(out) [T, E]: the gradient of every input, in the inputs' order.
std::vector<Tensor> selective_scan_backward(const std::vector<Tensor>& inputs, const Tensor& states,
                                            const SeqOffsets& seq_offsets, const Tensor& g);

}  // namespace erc::ops::cuda
