#include "ops/packed.h"

#include <cstring>

#include "autograd/node.h"
#include "ops/device.h"
#include "ops/packed_cuda.h"

namespace erc::ops {

void check_seq_offsets(const SeqOffsets& seq_offsets, int64_t n_frames, const char* op, const char* what) {
  ERC_CHECK(seq_offsets.size() >= 2, op, ": ", what, " needs at least 2 entries {0, T}, got ", seq_offsets.size());
  ERC_CHECK(seq_offsets.front() == 0 && seq_offsets.back() == n_frames, op, ": ", what,
            " must run from 0 to T = ", n_frames, ", got ", seq_offsets.front(), " .. ", seq_offsets.back());
  for (size_t s = 0; s + 1 < seq_offsets.size(); ++s)
    ERC_CHECK(seq_offsets[s] < seq_offsets[s + 1], op, ": segment ", s, " of ", what, " is empty or reversed (offsets ",
              seq_offsets[s], ", ", seq_offsets[s + 1], ")");
}

Tensor seq_offsets_tensor(const SeqOffsets& seq_offsets, Device device) {
  return Tensor::from_vector(seq_offsets, {int64_t(seq_offsets.size())}).to(device);
}

namespace {

// Frame t of sequence [begin, end) goes to begin + end - 1 - t; frames are moved as whole rows of bytes, in parallel
// over frames so that one long conversation is split as well as many short sequences.
Tensor flip_forward(const Tensor& x, const SeqOffsets& seq_offsets) {
  Tensor xc = x.detach().contiguous();
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.device() == Device::cuda) {
    ERC_CUDA_CALL(cuda::flip_sequences(xc, seq_offsets_tensor(seq_offsets, x.device()), y));
    return y;
  }
  const int64_t T = x.size(0);
  std::vector<int64_t> dest(static_cast<size_t>(T));
  for (size_t s = 0; s + 1 < seq_offsets.size(); ++s)
    for (int64_t t = seq_offsets[s]; t < seq_offsets[s + 1]; ++t)
      dest[size_t(t)] = seq_offsets[s] + seq_offsets[s + 1] - 1 - t;
  const size_t row_bytes = size_t(x.numel() / T) * dtype_size(x.dtype());
  const char* src = static_cast<const char*>(xc.raw_data());
  char* dst = static_cast<char*>(y.raw_data());
#pragma omp parallel for schedule(static) if (x.numel() > 65536)
  for (int64_t t = 0; t < T; ++t)
    std::memcpy(dst + size_t(dest[size_t(t)]) * row_bytes, src + size_t(t) * row_bytes, row_bytes);
  return y;
}

struct FlipSequencesBackward : autograd::Node {
  SeqOffsets seq_offsets;
  const char* name() const override { return "flip_sequences"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {flip_forward(g, seq_offsets)}; }
};

}  // namespace

Tensor flip_sequences(const Tensor& x, const SeqOffsets& seq_offsets) {
  ERC_CHECK(x.dim() >= 1, "flip_sequences: expected x [T, ...], got ", shape_str(x.shape()));
  check_seq_offsets(seq_offsets, x.size(0), "flip_sequences");
  Tensor y = flip_forward(x, seq_offsets);
  if (!autograd::needs_grad({x})) return y;
  auto node = std::make_shared<FlipSequencesBackward>();
  node->seq_offsets = seq_offsets;
  return autograd::record(y, node, {x});
}

}  // namespace erc::ops
