#include "ops/segment_mean.h"

#include "autograd/node.h"
#include "ops/device.h"
#include "ops/packed_cuda.h"
#include "ops/segment_mean_cuda.h"

namespace erc::ops {

namespace {

struct SegmentMeanBackward : autograd::Node {
  SeqOffsets utt_offsets;
  int64_t T;
  const char* name() const override { return "segment_mean"; }
  std::vector<Tensor> backward(const Tensor& g) override {  // g [U, D]
    Tensor gy = g.detach().contiguous();
    const int64_t U = gy.size(0), D = gy.size(1);
    Tensor dx = Tensor::empty({T, D}, gy.dtype(), gy.device());
    if (gy.device() == Device::cuda) {
      ERC_CUDA_CALL(cuda::segment_mean_backward(gy, seq_offsets_tensor(utt_offsets, gy.device()), dx));
      return {dx};
    }
    dispatch_float(gy.dtype(), "segment_mean backward", [&](auto tag) {
      using scalar_t = decltype(tag);
      const scalar_t* pg = gy.data<scalar_t>();
      scalar_t* out = dx.data<scalar_t>();
#pragma omp parallel for schedule(static) if (T * D > 65536)
      for (int64_t u = 0; u < U; ++u) {
        const int64_t begin = utt_offsets[size_t(u)], end = utt_offsets[size_t(u) + 1];
        const double inv_len = 1.0 / double(end - begin);
        const scalar_t* gu = pg + u * D;
        for (int64_t t = begin; t < end; ++t)
          for (int64_t d = 0; d < D; ++d) out[t * D + d] = scalar_t(double(gu[d]) * inv_len);
      }
    });
    return {dx};
  }
};

// y[u] = the mean of utterance u's frames, summed in double in frame order.
void segment_mean_forward_cpu(const Tensor& xc, const SeqOffsets& utt_offsets, Tensor y) {
  const int64_t T = xc.size(0), D = xc.size(1), U = y.size(0);
  dispatch_float(xc.dtype(), "segment_mean", [&](auto tag) {
    using scalar_t = decltype(tag);
    const scalar_t* px = xc.data<scalar_t>();
    scalar_t* py = y.data<scalar_t>();
#pragma omp parallel for schedule(static) if (T * D > 65536)
    for (int64_t u = 0; u < U; ++u) {
      const int64_t begin = utt_offsets[size_t(u)], end = utt_offsets[size_t(u) + 1];
      std::vector<double> acc(size_t(D), 0.0);
      for (int64_t t = begin; t < end; ++t)
        for (int64_t d = 0; d < D; ++d) acc[size_t(d)] += double(px[t * D + d]);
      for (int64_t d = 0; d < D; ++d) py[u * D + d] = scalar_t(acc[size_t(d)] / double(end - begin));
    }
  });
}

}  // namespace

Tensor segment_mean(const Tensor& x, const SeqOffsets& utt_offsets) {
  ERC_CHECK(x.dim() == 2, "segment_mean: expected x [T, D], got ", shape_str(x.shape()));
  check_seq_offsets(utt_offsets, x.size(0), "segment_mean", "utt_offsets");
  const int64_t T = x.size(0), D = x.size(1), U = int64_t(utt_offsets.size()) - 1;
  Tensor xc = x.detach().contiguous();
  Tensor y = Tensor::empty({U, D}, x.dtype(), x.device());
  if (x.device() == Device::cuda)
    ERC_CUDA_CALL(cuda::segment_mean_forward(xc, seq_offsets_tensor(utt_offsets, x.device()), y));
  else
    segment_mean_forward_cpu(xc, utt_offsets, y);
  if (!autograd::needs_grad({x})) return y;
  auto node = std::make_shared<SegmentMeanBackward>();
  node->utt_offsets = utt_offsets;
  node->T = T;
  return autograd::record(y, node, {x});
}

}  // namespace erc::ops
