// The CUDA face of ops/attention: the launchers ops/attention.cu defines and ops/attention.cpp calls. The forward is
// one kernel in the flash-attention manner: a block holds a few query rows of one head, streams the keys and values
// of their sequence through shared memory a tile at a time and keeps a running maximum and sum (the online softmax),
// so that no [T, T] score ever exists; the head's relative-position bias, per distance, sits in shared memory beside
// the tiles. The backward recomputes the probabilities from q, k and the saved output, one thread per gradient
// element summing in a fixed order, in double: it serves the gradient checks and parity, since WavLM only runs
// forward.
#pragma once
#include <vector>

#include "ops/attention.h"
#include "ops/packed.h"
#include "tensor/tensor.h"

namespace erc::ops::cuda {

// Everything the kernels share: the inputs (contiguous, on the device; q, k, v [T, H Dh], gate [T, H],
// rel_embed [num_buckets, H]), the sequence offsets [S + 1] (i64, on the device) and the bucket of each distance
// d = |j - i| below `distances` (i64 [distances] on the device, from the CPU's relative_bucket, for the side j <= i;
// the side j > i adds num_buckets / 2): beyond it every distance is in the last bucket of its side.
struct AttentionArgs {
  Tensor q, k, v, gate, rel_embed, offsets, distance_bucket;
  SeqOffsets seq_offsets;  // the offsets on the host
  int64_t num_buckets = 0;
};

// out [T, H Dh] (contiguous, on the device).
void relative_position_attention_forward(const AttentionArgs& args, const Tensor& out);

// From g [T, H Dh] and the forward's out: dq, dk, dv [T, H Dh], dgate [T, H], drel_embed [num_buckets, H].
std::vector<Tensor> relative_position_attention_backward(const AttentionArgs& args, const Tensor& out, const Tensor& g);

}  // namespace erc::ops::cuda
