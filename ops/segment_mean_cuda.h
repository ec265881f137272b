// The CUDA face of ops/segment_mean: the launchers ops/segment_mean.cu defines and ops/segment_mean.cpp calls.
// Offsets come from seq_offsets_tensor (ops/packed_cuda.h).
#pragma once
#include "tensor/tensor.h"

namespace erc::ops::cuda {

// y [U, D] = the mean of each utterance's frames of x [T, D] (contiguous), summed in double in frame order.
void segment_mean_forward(const Tensor& x, const Tensor& utt_offsets, const Tensor& y);
// dx [T, D]: frame t of utterance u gets g[u] / len(u).
void segment_mean_backward(const Tensor& g, const Tensor& utt_offsets, const Tensor& dx);

}  // namespace erc::ops::cuda
