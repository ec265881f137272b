// The CUDA face of packed batches (ops/packed.h): the sequence offsets on the device, the lookup of a frame's
// sequence that the kernels over packed frames share, and flip_sequences's launcher (ops/packed.cu).
#pragma once
#include "ops/packed.h"
#include "tensor/host_device.h"

namespace erc::ops {

// The sequence s with offsets[s] <= t < offsets[s + 1], for 0 <= t < offsets[n_seqs]: a binary search.
ERC_HOST_DEVICE inline int64_t sequence_of(const int64_t* offsets, int64_t n_seqs, int64_t t) {
  int64_t lo = 0, hi = n_seqs - 1;
  while (lo < hi) {
    const int64_t mid = (lo + hi + 1) / 2;
    if (offsets[mid] <= t)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

// The offsets as an i64 [S + 1] tensor on `device`, for a kernel to read.
Tensor seq_offsets_tensor(const SeqOffsets& seq_offsets, Device device);

namespace cuda {

// y [T, ...] = x [T, ...] (contiguous, any dtype) with each sequence's frames reversed; offsets from
// seq_offsets_tensor.
void flip_sequences(const Tensor& x, const Tensor& offsets, const Tensor& y);

}  // namespace cuda
}  // namespace erc::ops
