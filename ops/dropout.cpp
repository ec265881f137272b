#include "ops/dropout.h"

#include "autograd/node.h"
#include "ops/binary.h"

namespace erc::ops {

namespace {

struct DropoutBackward : autograd::Node {
  Tensor mask;  // x's shape: 0 where dropped, 1 / (1 - p) where kept
  const char* name() const override { return "dropout"; }
  std::vector<Tensor> backward(const Tensor& grad_output) override { return {mul(grad_output, mask)}; }
};

}  // namespace

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  ERC_CHECK(p >= 0.0 && p < 1.0, "dropout: expected p in [0, 1), got ", p);
  if (!training || p == 0.0) return x;
  Tensor mask = Tensor::empty(x.shape(), x.dtype());
  dispatch_float(x.dtype(), "dropout", [&](auto tag) {
    using scalar_t = decltype(tag);
    gen.fill_bernoulli(mask, 1.0 - p);
    scalar_t* m = mask.data<scalar_t>();
    const scalar_t scale = scalar_t(1.0 / (1.0 - p));
    const int64_t n = mask.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) m[i] *= scale;
  });
  Tensor y = mul(x.detach(), mask);
  if (!autograd::needs_grad({x})) return y;
  auto node = std::make_shared<DropoutBackward>();
  node->mask = mask;
  return autograd::record(y, node, {x});
}

}  // namespace erc::ops
