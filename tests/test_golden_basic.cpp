// ops/binary, ops/reduce and ops/shape against PyTorch (tools/fixtures/basic.py), forward and gradients.
#include <nlohmann/json.hpp>

#include "golden_util.h"
#include "ops/binary.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "test_util.h"

using namespace erc;
using Inputs = std::vector<Tensor>;
using Op = std::function<Tensor(const Inputs&)>;

static const test::GoldenFixture golden{"basic"};

TEST(Golden, Add) { golden.check("add", {"a", "b"}, [](const Inputs& in) { return ops::add(in[0], in[1]); }); }
TEST(Golden, Sub) { golden.check("sub", {"a", "b"}, [](const Inputs& in) { return ops::sub(in[0], in[1]); }); }
TEST(Golden, Mul) { golden.check("mul", {"a", "b"}, [](const Inputs& in) { return ops::mul(in[0], in[1]); }); }
TEST(Golden, Div) { golden.check("div", {"a", "b"}, [](const Inputs& in) { return ops::div(in[0], in[1]); }); }
TEST(Golden, Neg) { golden.check("neg", {"x"}, [](const Inputs& in) { return ops::neg(in[0]); }); }

TEST(Golden, ScalarOps) {
  double s = golden.params("add_scalar")["s"];
  golden.check("add_scalar", {"x"}, [s](const Inputs& in) { return ops::add_scalar(in[0], s); });
  double m = golden.params("mul_scalar")["s"];
  golden.check("mul_scalar", {"x"}, [m](const Inputs& in) { return ops::mul_scalar(in[0], m); });
}

TEST(Golden, SumMeanMax) {
  golden.check("sum_all", {"x"}, [](const Inputs& in) { return ops::sum(in[0]); });
  auto p = golden.params("sum_dims");
  golden.check("sum_dims", {"x"}, [&](const Inputs& in) { return ops::sum(in[0], p["dims"].get<Shape>(), p["keepdim"]); });
  auto q = golden.params("mean_last");
  golden.check("mean_last", {"x"}, [&](const Inputs& in) { return ops::mean(in[0], q["dims"].get<Shape>(), q["keepdim"]); });
  auto r = golden.params("max_dim1");
  golden.check("max_dim1", {"x"}, [&](const Inputs& in) { return ops::max(in[0], r["dim"], r["keepdim"]); });
}

TEST(Golden, ReshapePermuteSliceExpand) {
  auto p = golden.params("reshape");
  golden.check("reshape", {"x"}, [&](const Inputs& in) { return ops::reshape(in[0], p["shape"].get<Shape>()); });
  auto q = golden.params("permute");
  golden.check("permute", {"x"}, [&](const Inputs& in) { return ops::permute(in[0], q["dims"].get<Shape>()); });
  auto r = golden.params("slice");
  golden.check("slice", {"x"}, [&](const Inputs& in) { return ops::slice(in[0], r["dim"], r["start"], r["length"]); });
  auto e = golden.params("expand");
  golden.check("expand", {"x"}, [&](const Inputs& in) { return ops::expand(in[0], e["shape"].get<Shape>()); });
}
