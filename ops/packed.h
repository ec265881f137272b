// Packed batches: several sequences laid end to end along the frame axis of one [T, ...] tensor.
//
// `seq_offsets` has S + 1 entries: sequence s is frames [seq_offsets[s], seq_offsets[s + 1]), seq_offsets[0] = 0
// and seq_offsets[S] = T. A scan or a causal conv never carries state across a boundary, and "reverse" flips each
// sequence within its own length. Conversation mode is one sequence; single-utterance mode is one per utterance.
#pragma once
#include <vector>

#include "tensor/tensor.h"

namespace erc::ops {

using SeqOffsets = std::vector<int64_t>;

// Checks that `seq_offsets` is a valid packing of `n_frames` frames; the error names the op, the argument (`what`,
// e.g. "utt_offsets" where the same convention describes utterances) and the first fault.
void check_seq_offsets(const SeqOffsets& seq_offsets, int64_t n_frames, const char* op,
                       const char* what = "seq_offsets");

// The packing of a single sequence of n_frames frames: {0, n_frames}.
inline SeqOffsets one_sequence(int64_t n_frames) { return {0, n_frames}; }

// x [T, ...] (any dtype) -> [T, ...]: the frames of each sequence in reverse order, sequences staying in place;
// the "reverse" of the backward Mamba in a BiMamba. Its own inverse, so its backward is itself.
Tensor flip_sequences(const Tensor& x, const SeqOffsets& seq_offsets);

}  // namespace erc::ops
