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
  // The keep-mask of 0s and 1s, times 1 / (1 - p) rounded to x's dtype: exactly 0 or that scale, on either device.
  Tensor mask = Tensor::empty(x.shape(), x.dtype(), x.device());
  gen.fill_bernoulli(mask, 1.0 - p);
  mask = mul_scalar(mask, 1.0 / (1.0 - p));
  Tensor y = mul(x.detach(), mask);
  if (!autograd::needs_grad({x})) return y;
  auto node = std::make_shared<DropoutBackward>();
  node->mask = mask;
  return autograd::record(y, node, {x});
}

}  // namespace erc::ops
