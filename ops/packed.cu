#include "cuda/kernel.h"
#include "ops/packed_cuda.h"

namespace erc::ops::cuda {

namespace {

constexpr unsigned kThreads = 256;

// One element per thread, moved as bytes of its size (T is uint16_t, float or int64_t): frame t of sequence
// [begin, end) goes to begin + end - 1 - t.
template <typename T>
__global__ void flip_sequences_kernel(const T* x, T* y, const int64_t* offsets, int64_t n_seqs, int64_t row,
                                      int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const int64_t t = i / row, s = sequence_of(offsets, n_seqs, t);
    y[(offsets[s] + offsets[s + 1] - 1 - t) * row + i % row] = x[i];
  }
}

template <typename T>
void flip_typed(const Tensor& x, const Tensor& offsets, const Tensor& y) {
  const int64_t n = x.numel();
  launch<flip_sequences_kernel<T>>(ERC_HERE, grid_for(n, kThreads), kThreads, 0,
                                   static_cast<const T*>(x.device_raw_data()), static_cast<T*>(y.device_raw_data()),
                                   offsets.device_data<int64_t>(), offsets.numel() - 1, n / x.size(0), n);
}

}  // namespace

void flip_sequences(const Tensor& x, const Tensor& offsets, const Tensor& y) {
  if (x.numel() == 0) return;
  switch (dtype_size(x.dtype())) {
    case 2: flip_typed<uint16_t>(x, offsets, y); break;
    case 4: flip_typed<float>(x, offsets, y); break;
    case 8: flip_typed<int64_t>(x, offsets, y); break;
    default: ERC_CHECK(false, "flip_sequences: unsupported element size for dtype ", dtype_name(x.dtype()));
  }
}

}  // namespace erc::ops::cuda
