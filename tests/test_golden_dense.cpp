// ops/matmul, ops/layer_norm, ops/index and ops/join against PyTorch (tools/fixtures/dense.py), forward and
// gradients.
#include <nlohmann/json.hpp>

#include "golden_util.h"
#include "ops/index.h"
#include "ops/join.h"
#include "ops/layer_norm.h"
#include "ops/matmul.h"
#include "test_util.h"

using namespace erc;
using Inputs = std::vector<Tensor>;
using Op = std::function<Tensor(const Inputs&)>;

static const test::GoldenFixture golden{"dense"};

TEST(Golden, Matmul) {
  golden.check("matmul", {"a", "b"}, [](const Inputs& in) { return ops::matmul(in[0], in[1]); });
}
TEST(Golden, Bmm) {
  golden.check("bmm", {"a", "b"}, [](const Inputs& in) { return ops::bmm(in[0], in[1]); });
}

TEST(Golden, Linear) {
  golden.check("linear", {"x", "weight", "bias"}, [](const Inputs& in) { return ops::linear(in[0], in[1], in[2]); });
  golden.check("linear_no_bias", {"x", "weight"}, [](const Inputs& in) { return ops::linear(in[0], in[1]); });
}

TEST(Golden, LayerNorm) {
  double eps = golden.params("layer_norm")["eps"];
  golden.check("layer_norm", {"x", "weight", "bias"},
             [eps](const Inputs& in) { return ops::layer_norm(in[0], in[1], in[2], eps); });
}

TEST(Golden, Embedding) {
  golden.check("embedding", {"weight", "indices"}, [](const Inputs& in) { return ops::embedding(in[0], in[1]); });
}

TEST(Golden, IndexSelect) {
  int64_t dim = golden.params("index_select")["dim"];
  golden.check("index_select", {"x", "indices"},
             [dim](const Inputs& in) { return ops::index_select(in[0], dim, in[1]); });
}

TEST(Golden, Gather) {
  for (const std::string name : {"gather_dim1", "gather_dim0_smaller"}) {
    int64_t dim = golden.params(name)["dim"];
    golden.check(name, {"x", "index"}, [dim](const Inputs& in) { return ops::gather(in[0], dim, in[1]); });
  }
}

TEST(Golden, Cat) {
  int64_t dim = golden.params("cat")["dim"];
  golden.check("cat", {"a", "b", "c"}, [dim](const Inputs& in) { return ops::cat(in, dim); });
}

TEST(Golden, Stack) {
  int64_t dim = golden.params("stack")["dim"];
  golden.check("stack", {"a", "b", "c"}, [dim](const Inputs& in) { return ops::stack(in, dim); });
}

TEST(Golden, Flip) {
  Shape dims = golden.params("flip")["dims"].get<Shape>();
  golden.check("flip", {"x"}, [dims](const Inputs& in) { return ops::flip(in[0], dims); });
}
