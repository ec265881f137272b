// ops/binary, ops/reduce and ops/shape against PyTorch (tools/fixtures/basic.py), forward and gradients.
#include <nlohmann/json.hpp>

#include "ops/binary.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "test_util.h"

using namespace erc;
using erc::test::expect_golden_case;
using erc::test::fixture;
using Inputs = std::vector<Tensor>;
using Op = std::function<Tensor(const Inputs&)>;

// f64 runs must agree with PyTorch's f64 to rounding; f32 runs against the f64 reference to f32 rounding.
static void check_both(const std::string& name, const std::vector<std::string>& args, const Op& op) {
  expect_golden_case(fixture("basic"), name, args, op, DType::f64, 1e-12, 1e-10);
  expect_golden_case(fixture("basic"), name, args, op, DType::f32, 1e-6, 1e-5);
}

static nlohmann::json params(const std::string& name) { return nlohmann::json::parse(fixture("basic").metadata.at(name)); }

TEST(Golden, Add) { check_both("add", {"a", "b"}, [](const Inputs& in) { return ops::add(in[0], in[1]); }); }
TEST(Golden, Sub) { check_both("sub", {"a", "b"}, [](const Inputs& in) { return ops::sub(in[0], in[1]); }); }
TEST(Golden, Mul) { check_both("mul", {"a", "b"}, [](const Inputs& in) { return ops::mul(in[0], in[1]); }); }
TEST(Golden, Div) { check_both("div", {"a", "b"}, [](const Inputs& in) { return ops::div(in[0], in[1]); }); }
TEST(Golden, Neg) { check_both("neg", {"x"}, [](const Inputs& in) { return ops::neg(in[0]); }); }

TEST(Golden, ScalarOps) {
  double s = params("add_scalar")["s"];
  check_both("add_scalar", {"x"}, [s](const Inputs& in) { return ops::add_scalar(in[0], s); });
  double m = params("mul_scalar")["s"];
  check_both("mul_scalar", {"x"}, [m](const Inputs& in) { return ops::mul_scalar(in[0], m); });
}

TEST(Golden, SumMeanMax) {
  check_both("sum_all", {"x"}, [](const Inputs& in) { return ops::sum(in[0]); });
  auto p = params("sum_dims");
  check_both("sum_dims", {"x"}, [&](const Inputs& in) { return ops::sum(in[0], p["dims"].get<Shape>(), p["keepdim"]); });
  auto q = params("mean_last");
  check_both("mean_last", {"x"}, [&](const Inputs& in) { return ops::mean(in[0], q["dims"].get<Shape>(), q["keepdim"]); });
  auto r = params("max_dim1");
  check_both("max_dim1", {"x"}, [&](const Inputs& in) { return ops::max(in[0], r["dim"], r["keepdim"]); });
}

TEST(Golden, ReshapePermuteSliceExpand) {
  auto p = params("reshape");
  check_both("reshape", {"x"}, [&](const Inputs& in) { return ops::reshape(in[0], p["shape"].get<Shape>()); });
  auto q = params("permute");
  check_both("permute", {"x"}, [&](const Inputs& in) { return ops::permute(in[0], q["dims"].get<Shape>()); });
  auto r = params("slice");
  check_both("slice", {"x"}, [&](const Inputs& in) { return ops::slice(in[0], r["dim"], r["start"], r["length"]); });
  auto e = params("expand");
  check_both("expand", {"x"}, [&](const Inputs& in) { return ops::expand(in[0], e["shape"].get<Shape>()); });
}
