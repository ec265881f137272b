// ops/unary, ops/softmax and ops/cross_entropy against PyTorch (tools/fixtures/unary.py), forward and gradients.
// Dropout has no golden case: its mask comes from erc's generator (tests/test_ops_unary.cpp checks it).
#include <nlohmann/json.hpp>

#include "golden_util.h"
#include "ops/cross_entropy.h"
#include "ops/softmax.h"
#include "ops/unary.h"
#include "test_util.h"

using namespace erc;
using Inputs = std::vector<Tensor>;
using Op = std::function<Tensor(const Inputs&)>;

static const test::GoldenFixture golden{"unary"};

static void check_unary(const std::string& name, Tensor (*fn)(const Tensor&)) {
  golden.check(name, {"x"}, [fn](const Inputs& in) { return fn(in[0]); });
}

TEST(Golden, Exp) { check_unary("exp", ops::exp); }
TEST(Golden, Log) { check_unary("log", ops::log); }
TEST(Golden, Sqrt) { check_unary("sqrt", ops::sqrt); }
TEST(Golden, Sigmoid) { check_unary("sigmoid", ops::sigmoid); }
TEST(Golden, Tanh) { check_unary("tanh", ops::tanh); }
TEST(Golden, Relu) { check_unary("relu", ops::relu); }
TEST(Golden, Silu) { check_unary("silu", ops::silu); }
TEST(Golden, Gelu) { check_unary("gelu", ops::gelu); }
TEST(Golden, Softplus) { check_unary("softplus", ops::softplus); }

TEST(Golden, Pow) {
  for (const char* name : {"pow_square", "pow_cube", "pow_half", "pow_neg"}) {
    double e = golden.params(name)["exponent"];
    golden.check(name, {"x"}, [e](const Inputs& in) { return ops::pow(in[0], e); });
  }
}

TEST(Golden, Softmax) {
  for (const char* name : {"softmax_last", "softmax_dim0", "softmax_mid", "softmax_extreme"}) {
    int64_t dim = golden.params(name)["dim"];
    golden.check(name, {"x"}, [dim](const Inputs& in) { return ops::softmax(in[0], dim); });
  }
}

TEST(Golden, LogSoftmax) {
  for (const char* name : {"log_softmax_last", "log_softmax_dim0", "log_softmax_mid", "log_softmax_extreme"}) {
    int64_t dim = golden.params(name)["dim"];
    golden.check(name, {"x"}, [dim](const Inputs& in) { return ops::log_softmax(in[0], dim); });
  }
}

TEST(Golden, CrossEntropy) {
  for (const char* name : {"cross_entropy", "cross_entropy_ignore2", "cross_entropy_extreme"}) {
    int64_t ignore_index = golden.params(name)["ignore_index"];
    golden.check(name, {"logits", "targets"},
               [ignore_index](const Inputs& in) { return ops::cross_entropy(in[0], in[1], ignore_index); });
  }
}
