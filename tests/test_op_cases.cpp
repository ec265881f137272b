// Every case of the op registry (tests/op_cases.h) in float32 against float64 on the CPU: the output and the gradient
// of every floating input, within the case's bound (0: exactly the float64 result rounded to float32).
#include <set>

#include "autograd/backward.h"
#include "op_cases.h"

using namespace erc;

namespace {

// Every public op of ops/, by the name its cases carry. An op added to ops/ is added here and to the registry.
const std::set<std::string> kEveryOp = {"add",
                                        "sub",
                                        "mul",
                                        "div",
                                        "neg",
                                        "add_scalar",
                                        "mul_scalar",  // binary
                                        "exp",
                                        "log",
                                        "sqrt",
                                        "pow",
                                        "sigmoid",
                                        "tanh",
                                        "relu",
                                        "silu",
                                        "gelu",
                                        "softplus",  // unary
                                        "sum",
                                        "mean",
                                        "max",
                                        "sum_to",  // reduce
                                        "softmax",
                                        "log_softmax",
                                        "cross_entropy",
                                        "dropout",  // losses
                                        "reshape",
                                        "permute",
                                        "transpose",
                                        "slice",
                                        "expand",
                                        "contiguous",  // shape
                                        "cat",
                                        "stack",
                                        "flip",
                                        "embedding",
                                        "index_select",
                                        "gather",  // join, index
                                        "matmul",
                                        "bmm",
                                        "linear",
                                        "layer_norm",
                                        "conv1d",
                                        "causal_conv1d",  // dense
                                        "segment_mean",
                                        "flip_sequences",
                                        "selective_scan",
                                        "relative_position_attention"};  // sequences

// The ops whose CUDA kernels are still to be written (the index ops): their cases run on the
// CPU only. A kernel that lands marks its op's cases kCuda and leaves this list.
const std::set<std::string> kCpuOnly = {"flip", "embedding", "index_select", "gather"};

TEST(OpRegistry, CoversEveryOp) {
  std::set<std::string> covered;
  for (const test::OpCase& c : test::registry()) covered.insert(c.op);
  EXPECT_EQ(covered, kEveryOp);
}

TEST(OpRegistry, EveryOpButTheListedOnesHasCudaKernelsForAllItsCases) {
  std::set<std::string> cpu_only, with_cuda;
  for (const test::OpCase& c : test::registry()) (c.cuda ? with_cuda : cpu_only).insert(c.op);
  EXPECT_EQ(cpu_only, kCpuOnly);
  for (const std::string& op : cpu_only) EXPECT_EQ(with_cuda.count(op), 0u) << op << " has cases of both kinds";
}

// Within the case's bound; for bound 0, exactly the float64 result rounded to float32.
::testing::AssertionResult within(const Tensor& f32, const Tensor& f64, double bound) {
  if (f32.shape() != f64.shape())
    return ::testing::AssertionFailure() << shape_str(f32.shape()) << " vs " << shape_str(f64.shape());
  if (bound == 0) {
    const auto a = f32.detach().to_vector<float>();
    const auto e = f64.detach().to(DType::f32).to_vector<float>();
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i] != e[i]) return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " vs " << e[i];
    return ::testing::AssertionSuccess() << "exact";
  }
  const test::Difference d = test::difference(f32, f64);
  if (test::within(d, bound, test::kFloor32)) return ::testing::AssertionSuccess() << "relative error " << d.relative();
  return ::testing::AssertionFailure() << "relative error " << d.relative() << " above the case's bound " << bound;
}

class Float32AgainstFloat64 : public ::testing::TestWithParam<size_t> {};

TEST_P(Float32AgainstFloat64, OutputAndGradients) {
  const test::OpCase& oc = test::registry()[GetParam()];
  std::vector<Tensor> in64 = oc.make_inputs(100 + GetParam()), in32;
  for (const Tensor& t : in64) {
    if (!is_floating(t.dtype())) {
      in32.push_back(t);
      continue;
    }
    Tensor t32 = t.detach().to(DType::f32).clone();
    t32.set_requires_grad(true);
    in32.push_back(t32);
  }
  const Tensor out64 = oc.run(in64), out32 = oc.run(in32);
  EXPECT_TRUE(within(out32, out64, oc.f32_bound)) << "output";
  const Tensor grad_out = test::random_tensor(out64.shape(), 7 + GetParam());
  backward(out64, grad_out);
  backward(out32, grad_out.to(DType::f32));
  for (size_t i = 0; i < in64.size(); ++i) {
    if (!in64[i].requires_grad()) continue;
    ASSERT_TRUE(in32[i].grad().defined()) << "no gradient reached input " << i;
    EXPECT_TRUE(within(in32[i].grad(), in64[i].grad(), oc.f32_bound)) << "gradient of input " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, Float32AgainstFloat64, ::testing::Range<size_t>(0, test::registry().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return test::registry()[info.param].name;
                         });

}  // namespace
