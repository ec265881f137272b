// Every case of the op registry (tests/op_cases.h) in float32 against float64: the output and the gradient of
// every floating input, as the relative error |a - b|_2 / |b|_2 < 1e-4 (float32 over sums of up to 26,684 terms),
// with a floor of 1e-6 RMS for gradients that are exactly zero in float64 (one key: the softmax is constant) and
// float32 rounding in the order of 1e-7 per element.
#include "autograd/backward.h"
#include "op_cases.h"

using namespace erc;

namespace {

::testing::AssertionResult close(const Tensor& actual, const Tensor& expected) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << shape_str(actual.shape()) << " vs " << shape_str(expected.shape());
  const auto a = actual.detach().to(DType::f64).to_vector<double>(), e = expected.to_vector<double>();
  double diff = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) diff += (a[i] - e[i]) * (a[i] - e[i]), norm += e[i] * e[i];
  if (std::sqrt(diff) <= 1e-4 * std::sqrt(norm) + 1e-6 * std::sqrt(double(a.size())))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "relative error " << std::sqrt(diff / norm);
}

TEST(OpCases, Float32AgreesWithFloat64) {
  const auto cases = test::op_cases();
  for (size_t c = 0; c < cases.size(); ++c) {
    const test::OpCase& oc = cases[c];
    SCOPED_TRACE(oc.name);
    std::vector<Tensor> in64 = oc.make_inputs(100 + c), in32;
    for (const Tensor& t : in64) {
      if (!is_floating(t.dtype())) {
        in32.push_back(t);
        continue;
      }
      Tensor t32 = t.detach().to(DType::f32).clone();
      t32.set_requires_grad(true);
      in32.push_back(t32);
    }
    const Tensor out64 = oc.op(in64), out32 = oc.op(in32);
    EXPECT_TRUE(close(out32, out64)) << "output";
    const Tensor grad_out = test::random_tensor(out64.shape(), 7 + c);
    backward(out64, grad_out);
    backward(out32, grad_out.to(DType::f32));
    for (size_t i = 0; i < in64.size(); ++i) {
      if (in64[i].requires_grad()) {
        EXPECT_TRUE(close(in32[i].grad(), in64[i].grad())) << "gradient of input " << i;
      }
    }
  }
}

}  // namespace
