// Gradient checks for the element-wise arithmetic, the reductions and the differentiable views.
#include "grad_util.h"
#include "ops/binary.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "test_util.h"

using namespace erc;
using erc::test::allclose;
using erc::test::gradcheck_ok;
using erc::test::leaf;
using Inputs = std::vector<Tensor>;

TEST(Gradcheck, AddSubMulDivWithBroadcasting) {
  Tensor a = leaf({3, 1, 4}, 1), b = leaf({5, 1}, 2), d = leaf({5, 4}, 3, 0.5, 2.0);  // d kept away from 0
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::add(in[0], in[1]); }, {a, b}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::sub(in[0], in[1]); }, {a, b}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::mul(in[0], in[1]); }, {a, b}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::div(in[0], in[1]); }, {a, d}));
}

TEST(Gradcheck, NegAndScalarOps) {
  Tensor x = leaf({2, 3}, 4);
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::neg(in[0]); }, {x}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::add_scalar(in[0], 2.5); }, {x}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::mul_scalar(in[0], -1.5); }, {x}));
}

TEST(Gradcheck, SumMeanMax) {
  Tensor x = leaf({3, 4, 5}, 5);
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::sum(in[0]); }, {x}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::sum(in[0], {0, 2}, true); }, {x}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::mean(in[0], {-1}); }, {x}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::max(in[0], 1); }, {x}));  // random data: no ties
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::sum_to(in[0], {4, 1}); }, {x}));
}

TEST(Gradcheck, ViewsAndLayout) {
  Tensor x = leaf({2, 3, 4}, 6);
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::reshape(in[0], {6, -1}); }, {x}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::permute(in[0], {2, 0, 1}); }, {x}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::transpose(in[0], 0, 2); }, {x}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::slice(in[0], 2, 1, 2); }, {x}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::contiguous(ops::transpose(in[0], 1, 2)); }, {x}));
  Tensor y = leaf({3, 1}, 7);
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::expand(in[0], {2, 3, 4}); }, {y}));
}

TEST(Ops, ValuesAndShapeErrors) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from_vector<float>({10, 20, 30}, {3});
  EXPECT_EQ(ops::add(a, b).to_vector<float>(), (std::vector<float>{11, 22, 33, 14, 25, 36}));
  EXPECT_EQ(ops::sum(a, {0}).to_vector<float>(), (std::vector<float>{5, 7, 9}));
  EXPECT_EQ(ops::max(a, 1).to_vector<float>(), (std::vector<float>{3, 6}));
  EXPECT_TRUE(allclose(ops::mean(a), Tensor::scalar(3.5), 0, 0));
  try {
    ops::mul(a, Tensor::zeros({2}));
    FAIL();
  } catch (const Error& e) {  // both shapes named
    std::string m = e.what();
    EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
    EXPECT_NE(m.find("[2]"), std::string::npos) << m;
  }
  EXPECT_THROW(ops::add(a, a.to(DType::f64)), Error);
  EXPECT_THROW(ops::sum(a, {2}), Error);
}
