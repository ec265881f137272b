// ops/matmul, ops/layer_norm, ops/index and ops/join against PyTorch (tools/fixtures/dense.py), forward and
// gradients.
#include <nlohmann/json.hpp>

#include "ops/index.h"
#include "ops/join.h"
#include "ops/layer_norm.h"
#include "ops/matmul.h"
#include "test_util.h"

using namespace erc;
using erc::test::expect_golden_case;
using erc::test::fixture;
using Inputs = std::vector<Tensor>;
using Op = std::function<Tensor(const Inputs&)>;

// f64 runs must agree with PyTorch's f64 to rounding; f32 runs against the f64 reference to f32 rounding (the
// reductions here are at most 6 terms long, so the default bounds hold).
static void check_both(const std::string& name, const std::vector<std::string>& args, const Op& op) {
  expect_golden_case(fixture("dense"), name, args, op, DType::f64, 1e-12, 1e-10);
  expect_golden_case(fixture("dense"), name, args, op, DType::f32, 1e-6, 1e-5);
}

static nlohmann::json params(const std::string& name) {
  return nlohmann::json::parse(fixture("dense").metadata.at(name));
}

TEST(Golden, Matmul) {
  check_both("matmul", {"a", "b"}, [](const Inputs& in) { return ops::matmul(in[0], in[1]); });
}
TEST(Golden, Bmm) {
  check_both("bmm", {"a", "b"}, [](const Inputs& in) { return ops::bmm(in[0], in[1]); });
}

TEST(Golden, Linear) {
  check_both("linear", {"x", "weight", "bias"}, [](const Inputs& in) { return ops::linear(in[0], in[1], in[2]); });
  check_both("linear_no_bias", {"x", "weight"}, [](const Inputs& in) { return ops::linear(in[0], in[1]); });
}

TEST(Golden, LayerNorm) {
  double eps = params("layer_norm")["eps"];
  check_both("layer_norm", {"x", "weight", "bias"},
             [eps](const Inputs& in) { return ops::layer_norm(in[0], in[1], in[2], eps); });
}

TEST(Golden, Embedding) {
  check_both("embedding", {"weight", "indices"}, [](const Inputs& in) { return ops::embedding(in[0], in[1]); });
}

TEST(Golden, IndexSelect) {
  int64_t dim = params("index_select")["dim"];
  check_both("index_select", {"x", "indices"},
             [dim](const Inputs& in) { return ops::index_select(in[0], dim, in[1]); });
}

TEST(Golden, Gather) {
  for (const std::string name : {"gather_dim1", "gather_dim0_smaller"}) {
    int64_t dim = params(name)["dim"];
    check_both(name, {"x", "index"}, [dim](const Inputs& in) { return ops::gather(in[0], dim, in[1]); });
  }
}

TEST(Golden, Cat) {
  int64_t dim = params("cat")["dim"];
  check_both("cat", {"a", "b", "c"}, [dim](const Inputs& in) { return ops::cat(in, dim); });
}

TEST(Golden, Stack) {
  int64_t dim = params("stack")["dim"];
  check_both("stack", {"a", "b", "c"}, [dim](const Inputs& in) { return ops::stack(in, dim); });
}

TEST(Golden, Flip) {
  Shape dims = params("flip")["dims"].get<Shape>();
  check_both("flip", {"x"}, [dims](const Inputs& in) { return ops::flip(in[0], dims); });
}
