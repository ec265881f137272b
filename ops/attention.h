// WavLM's gated relative-position self-attention (docs/MODEL.md §1) as one op over a packed batch: the scores,
// the bias and the probabilities of one head live only for one block of query rows at a time, so no [H, T, T]
// tensor is ever built (transformers builds one per layer) and a minute of audio costs megabytes, not gigabytes.
#pragma once
#include "ops/packed.h"
#include "tensor/tensor.h"

namespace erc::ops {

// T5-style buckets of a relative position j - i: half of them for j > i; within a half, exact distances below a
// quarter of num_buckets, then logarithmic up to max_distance, then the last bucket. WavLM-Large: 320 and 800.
struct RelativeBuckets {
  int64_t num_buckets = 320;
  int64_t max_distance = 800;
};

// The bucket of relative position `rel` = j - i, computed in float32 as transformers does (the log is taken on
// float32 values), so that every boundary falls where it falls there.
int64_t relative_bucket(int64_t rel, const RelativeBuckets& buckets);

// q, k, v [T, H Dh] (packed sequences, heads side by side), gate [T, H], rel_embed [num_buckets, H] -> [T, H Dh]:
//   out[i, h] = sum_j p[h, i, j] v[j, h],  p[h, i, :] = softmax_j(q[i, h] . k[j, h] / sqrt(Dh)
//                                                                + gate[i, h] rel_embed[bucket(j - i), h])
// with j running over the frames of i's own sequence. Backward recomputes p block by block from q, k, v and the
// saved output; every input gets a gradient, each accumulated in a fixed order (one thread per head).
Tensor relative_position_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& gate,
                                   const Tensor& rel_embed, const SeqOffsets& seq_offsets,
                                   const RelativeBuckets& buckets);

}  // namespace erc::ops
