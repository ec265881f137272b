// Frames to utterances: the mean of each utterance's frames, the pooling before the classifier head.
#pragma once
#include "ops/packed.h"
#include "tensor/tensor.h"

namespace erc::ops {

// x [T, D], utt_offsets (U + 1 entries, the SeqOffsets convention; no utterance may be empty) -> [U, D]:
//   y[u] = mean of x[utt_offsets[u] .. utt_offsets[u + 1]), accumulated in double.
// Backward spreads g[u] / len(u) over utterance u's frames; nothing is saved but the offsets.
Tensor segment_mean(const Tensor& x, const SeqOffsets& utt_offsets);

}  // namespace erc::ops
