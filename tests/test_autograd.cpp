// The graph engine: accumulation, sharing, no-grad, and the errors a user meets first.
#include "autograd/backward.h"
#include "autograd/checkpoint.h"
#include "autograd/grad_mode.h"
#include "autograd/gradcheck.h"
#include "autograd/node.h"
#include "ops/binary.h"
#include "ops/reduce.h"
#include "test_util.h"

using namespace erc;
using erc::test::leaf;

TEST(Autograd, SharedInputAccumulatesBothPaths) {
  Tensor x = Tensor::from_vector<double>({2.0, -3.0}, {2}).set_requires_grad(true);
  Tensor y = ops::sum(ops::add(ops::mul(x, x), x));  // d/dx (x^2 + x) = 2x + 1
  backward(y);
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{5.0, -5.0}));
}

// An add hands one gradient to both of its inputs, and autograd keeps it as both nodes' pending gradient without a
// copy; when one of them then receives a second gradient, the sum must not be written into the memory the other
// still reads. L = sum(a b + (a + b)) with a = 2x, b = 5x: the add runs first (its gradient reaches a and b as one
// tensor), then the product adds b to a's gradient and a to b's. dL/da = b + 1, dL/db = a + 1, so dL/dx = 2 (b + 1)
// + 5 (a + 1) = 20x + 7; summed in place, b's node would read 1 + b, not 1.
TEST(Autograd, OneGradientForTwoInputsIsNeverSummedInPlace) {
  Tensor x = Tensor::from_vector<double>({1.0, -2.0}, {2}).set_requires_grad(true);
  Tensor a = ops::mul_scalar(x, 2.0), b = ops::mul_scalar(x, 5.0);
  backward(ops::sum(ops::add(ops::mul(a, b), ops::add(a, b))));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{27.0, -33.0}));
}

TEST(Autograd, BackwardAddsIntoLeavesUntilZeroGrad) {
  Tensor x = Tensor::from_vector<double>({1.0, 2.0}, {2}).set_requires_grad(true);
  backward(ops::sum(ops::mul_scalar(x, 3.0)));
  backward(ops::sum(ops::mul_scalar(x, 3.0)));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{6.0, 6.0}));
  zero_grad({x});
  EXPECT_FALSE(x.grad().defined());
  backward(ops::sum(x));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{1.0, 1.0}));
}

TEST(Autograd, NoGradGuardRecordsNothing) {
  Tensor x = leaf({3}, 1);
  {
    NoGradGuard guard;
    Tensor y = ops::mul(x, x);
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.grad_fn(), nullptr);
  }
  EXPECT_TRUE(ops::mul(x, x).requires_grad());
}

TEST(Autograd, ErrorsNameTheProblem) {
  Tensor x = leaf({3}, 1);
  Tensor y = ops::mul(x, x);
  try {
    backward(y);
    FAIL() << "a non-scalar backward without a gradient must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[3]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(backward(ops::sum(x.detach())), Error);  // does not require grad
  EXPECT_THROW(backward(y, Tensor::ones({4}, DType::f64)), Error);  // wrong gradient shape
  EXPECT_NO_THROW(backward(y, Tensor::ones({3}, DType::f64)));
}

TEST(Autograd, LeafRootGetsItsSeed) {
  Tensor x = Tensor::from_vector<double>({4.0}, {1}).set_requires_grad(true);
  backward(x);
  EXPECT_EQ(x.grad().item<double>(), 1.0);
}

TEST(Autograd, DeepChainDoesNotOverflowTheStack) {
  Tensor x = leaf({1}, 2);
  Tensor y = x;
  for (int i = 0; i < 20000; ++i) y = ops::add_scalar(y, 1.0);
  backward(ops::sum(y));
  EXPECT_EQ(x.grad().item<double>(), 1.0);
}

TEST(Gradcheck, CatchesAWrongGradient) {
  // A node whose backward is deliberately wrong by a factor 2 must fail the check.
  struct WrongSquare : autograd::Node {
    Tensor x;
    const char* name() const override { return "wrong_square"; }
    std::vector<Tensor> backward(const Tensor& g) override { return {ops::mul_scalar(ops::mul(g, x), 4.0)}; }
  };
  auto f = [](const std::vector<Tensor>& in) {
    Tensor y = ops::mul(in[0].detach(), in[0].detach());
    auto node = std::make_shared<WrongSquare>();
    node->x = in[0].detach();
    return autograd::record(y, node, {in[0]});
  };
  EXPECT_FALSE(gradcheck(f, {leaf({4}, 3)}).ok);
}

// A checkpointed function's output and parameter gradients equal those of the same function recorded as usual, bit
// for bit, and its input's gradient up to the order in which its three uses add up (inside f first, then outside);
// it keeps no graph of its inside (its output's node is the checkpoint's alone).
TEST(Autograd, CheckpointGivesTheRecordedGradients) {
  auto grads = [](bool checkpointed) {
    Tensor x = test::leaf({4, 3}, 1), w = test::leaf({4, 3}, 2);
    auto f = [&w](const Tensor& in) { return ops::mul(ops::mul(in, w), ops::add(in, w)); };
    Tensor y = checkpointed ? checkpoint(f, x) : f(x);
    EXPECT_EQ(std::string(y.grad_fn()->name()) == "checkpoint", checkpointed);
    backward(ops::sum(ops::mul(y, x)));
    return std::vector<Tensor>{y.detach(), x.grad(), w.grad()};
  };
  const std::vector<Tensor> plain = grads(false), checkpointed = grads(true);
  EXPECT_EQ(plain[0].to_vector<double>(), checkpointed[0].to_vector<double>()) << "output";
  EXPECT_TRUE(test::allclose(checkpointed[1], plain[1], 0, 1e-15)) << "input gradient";
  EXPECT_EQ(plain[2].to_vector<double>(), checkpointed[2].to_vector<double>()) << "parameter gradient";
}
