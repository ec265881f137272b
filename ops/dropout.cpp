#include "ops/dropout.h"

#include <algorithm>

#include "autograd/node.h"
#include "ops/binary.h"
#include "ops/cpu_isa.h"
#include "ops/dropout_cpu.h"

namespace erc::ops {

namespace {

struct DropoutBackward : autograd::Node {
  Tensor mask;  // x's shape: 0 where dropped, 1 / (1 - p) where kept
  const char* name() const override { return "dropout"; }
  std::vector<Tensor> backward(const Tensor& grad_output) override { return {mul(grad_output, mask)}; }
};

// The vector fast path on this CPU (ops/dropout_cpu.h), or null.
dropout_cpu::Forward fast_forward() {
#ifdef ERC_HAVE_SLEEF
  if (cpu_isa() != CpuIsa::baseline && cpu_isa_available(CpuIsa::avx2)) return dropout_cpu::avx2();
#endif
  return nullptr;
}

// The reference's mask (below) in one pass with y: the same counters, the same test, the same scale, so the same
// bits. The generator advances as fill_bernoulli would. Pieces of whole counter groups run on OpenMP threads; the
// last few elements take the scalar draw.
void masked_product_fast(dropout_cpu::Forward fast, const Tensor& x, double p, Generator& gen, Tensor& y,
                         Tensor& mask) {
  const int64_t n = x.numel();
  const uint64_t seed = gen.seed(), first_block = gen.offset();
  gen.set_state(seed, first_block + (uint64_t(n) + 1) / 2);
  const double keep = 1.0 - p;
  const uint64_t keep_below = bernoulli_keep_below(keep);
  const float scale = float(1.0 / keep);
  const float* px = x.data<float>();
  float *py = y.data<float>(), *pm = mask.data<float>();
  constexpr int64_t kPieceGroups = 512;
  const int64_t n_groups = n / dropout_cpu::kGroup, n_pieces = (n_groups + kPieceGroups - 1) / kPieceGroups;
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t piece = 0; piece < n_pieces; ++piece) {
    const int64_t group = piece * kPieceGroups, i = group * dropout_cpu::kGroup;
    fast(seed, first_block + uint64_t(i / 2), keep_below, scale, px + i, py + i, pm + i,
         std::min(kPieceGroups, n_groups - group));
  }
  for (int64_t i = n_groups * dropout_cpu::kGroup; i < n; ++i) {
    pm[i] = bernoulli_from_bits<float>(philox_bits64(seed, first_block, uint64_t(i)), keep) * scale;
    py[i] = px[i] * pm[i];
  }
}

}  // namespace

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  ERC_CHECK(p >= 0.0 && p < 1.0, "dropout: expected p in [0, 1), got ", p);
  if (!training || p == 0.0) return x;
  Tensor mask, y;
  const dropout_cpu::Forward fast = fast_forward();
  if (fast != nullptr && x.device() == Device::cpu && x.dtype() == DType::f32) {
    Tensor xc = x.detach().contiguous();
    y = Tensor::empty(x.shape(), x.dtype());
    mask = Tensor::empty(x.shape(), x.dtype());
    masked_product_fast(fast, xc, p, gen, y, mask);
  } else {
    // The keep-mask of 0s and 1s, times 1 / (1 - p) rounded to x's dtype: exactly 0 or that scale, on either device.
    mask = Tensor::empty(x.shape(), x.dtype(), x.device());
    gen.fill_bernoulli(mask, 1.0 - p);
    mask = mul_scalar(mask, 1.0 / (1.0 - p));
    y = mul(x.detach(), mask);
  }
  if (!autograd::needs_grad({x})) return y;
  auto node = std::make_shared<DropoutBackward>();
  node->mask = mask;
  return autograd::record(y, node, {x});
}

}  // namespace erc::ops
