// Gradient checks, known values, extremes and misuse for ops/unary, ops/softmax, ops/cross_entropy, ops/dropout.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "autograd/backward.h"
#include "fast_path_util.h"
#include "grad_util.h"
#include "ops/binary.h"
#include "ops/cpu_isa.h"
#include "ops/cross_entropy.h"
#include "ops/dropout.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "ops/softmax.h"
#include "ops/unary.h"
#include "test_util.h"

using namespace erc;
using erc::test::allclose;
using erc::test::available_isas;
using erc::test::gradcheck_ok;
using erc::test::leaf;
using erc::test::scaled_error;
using Inputs = std::vector<Tensor>;

// A leaf whose elements have magnitude in [0.1, 1] and alternate in sign: both sides of a kink at 0, none near it.
static Tensor away_from_zero(const Shape& shape, uint64_t seed) {
  std::vector<double> v = erc::test::random_tensor(shape, seed, 0.1, 1.0).to_vector<double>();
  for (size_t i = 0; i < v.size(); i += 2) v[i] = -v[i];
  Tensor t = Tensor::from_vector(v, shape);
  t.set_requires_grad(true);
  return t;
}

static Tensor f64(const std::vector<double>& v) { return Tensor::from_vector(v, {int64_t(v.size())}); }

// Expects `f` to throw an erc::Error whose message contains every one of `parts`.
TEST(Gradcheck, ExpLogSqrt) {
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::exp(in[0]); }, {leaf({3, 4}, 1, -2.0, 2.0)}));
  Tensor positive = leaf({3, 4}, 2, 0.2, 3.0);
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::log(in[0]); }, {positive}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::sqrt(in[0]); }, {positive}));
}

TEST(Gradcheck, Pow) {
  Tensor x = leaf({3, 4}, 3), positive = leaf({3, 4}, 4, 0.2, 3.0);
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::pow(in[0], 2.0); }, {x}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::pow(in[0], 3.0); }, {x}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::pow(in[0], 0.5); }, {positive}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::pow(in[0], -1.5); }, {positive}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::pow(in[0], 0.0); }, {positive}));
}

TEST(Gradcheck, SigmoidTanh) {
  Tensor x = leaf({3, 4}, 5, -4.0, 4.0);
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::sigmoid(in[0]); }, {x}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::tanh(in[0]); }, {x}));
}

TEST(Gradcheck, Relu) {
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::relu(in[0]); }, {away_from_zero({3, 4}, 6)}));
}

TEST(Gradcheck, SiluGelu) {
  Tensor x = leaf({3, 4}, 7, -4.0, 4.0);
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::silu(in[0]); }, {x}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::gelu(in[0]); }, {x}));
}

TEST(Gradcheck, Softplus) {
  // Random values on the log1p(e^x) branch, plus points beyond the threshold 20 and deep in the negative tail
  // (kept away from 20 itself, where the two branches differ by ~2e-9).
  std::vector<double> v = erc::test::random_tensor({8}, 8, -6.0, 6.0).to_vector<double>();
  for (double extra : {-40.0, -25.0, 19.0, 21.0}) v.push_back(extra);
  Tensor x = Tensor::from_vector(v, {3, 4});
  x.set_requires_grad(true);
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::softplus(in[0]); }, {x}));
}

TEST(Gradcheck, SoftmaxLogSoftmax) {
  Tensor x = leaf({3, 4, 5}, 9, -3.0, 3.0);
  for (int64_t dim : {0, 1, -1}) {
    SCOPED_TRACE("dim " + std::to_string(dim));
    EXPECT_TRUE(gradcheck_ok([dim](const Inputs& in) { return ops::softmax(in[0], dim); }, {x}));
    EXPECT_TRUE(gradcheck_ok([dim](const Inputs& in) { return ops::log_softmax(in[0], dim); }, {x}));
  }
}

TEST(Gradcheck, CrossEntropyWithIgnoredRows) {
  Tensor logits = leaf({6, 4}, 10, -3.0, 3.0);
  Tensor targets = Tensor::from_vector<int64_t>({1, -100, 3, 0, -100, 2}, {6});
  EXPECT_TRUE(gradcheck_ok([&](const Inputs& in) { return ops::cross_entropy(in[0], targets); }, {logits}));
  Tensor custom = Tensor::from_vector<int64_t>({1, 0, 3, 0, 2, 2}, {6});  // ignore_index 0: rows 1 and 3
  EXPECT_TRUE(gradcheck_ok([&](const Inputs& in) { return ops::cross_entropy(in[0], custom, 0); }, {logits}));
}

TEST(Gradcheck, Dropout) {
  auto f = [](const Inputs& in) {
    Generator gen(42);  // a fixed seed inside f: every evaluation draws the same mask
    return ops::dropout(in[0], 0.3, /*training=*/true, gen);
  };
  EXPECT_TRUE(gradcheck_ok(f, {leaf({4, 5}, 11)}));
}

TEST(Unary, KnownValues) {
  Tensor x = f64({0.0, 1.0, -1.0, 2.0});
  EXPECT_TRUE(allclose(ops::exp(x), f64({1.0, M_E, 1.0 / M_E, M_E * M_E}), 0, 1e-15));
  EXPECT_TRUE(allclose(ops::log(f64({1.0, M_E, 0.5})), f64({0.0, 1.0, -M_LN2}), 1e-16, 1e-15));
  EXPECT_TRUE(allclose(ops::sqrt(f64({4.0, 2.0, 0.0})), f64({2.0, M_SQRT2, 0.0}), 0, 1e-15));
  EXPECT_TRUE(allclose(ops::pow(f64({2.0, -3.0, 4.0}), 3.0), f64({8.0, -27.0, 64.0}), 0, 1e-15));
  EXPECT_TRUE(allclose(ops::pow(f64({4.0, 0.25}), -0.5), f64({0.5, 2.0}), 0, 1e-15));
  Tensor zero = f64({0.0});
  zero.set_requires_grad(true);
  backward(ops::sum(ops::pow(zero, 0.0)));
  EXPECT_EQ(zero.grad().item<double>(), 0.0);  // as PyTorch: 0, not 0 * 0^-1 = NaN
  EXPECT_TRUE(allclose(ops::sigmoid(x), f64({0.5, 0.7310585786300049, 0.2689414213699951, 0.8807970779778823}), 0,
                       1e-15));
  EXPECT_TRUE(allclose(ops::tanh(x), f64({0.0, 0.7615941559557649, -0.7615941559557649, 0.9640275800758169}), 0,
                       1e-15));
  EXPECT_TRUE(allclose(ops::relu(x), f64({0.0, 1.0, 0.0, 2.0}), 0, 0));
  EXPECT_TRUE(allclose(ops::silu(x), f64({0.0, 0.7310585786300049, -0.2689414213699951, 1.7615941559557646}), 1e-16,
                       1e-15));
  // Phi(1) = 0.8413447460685429, Phi(-1) = 1 - Phi(1), Phi(2) = 0.9772498680518208
  EXPECT_TRUE(allclose(ops::gelu(x), f64({0.0, 0.8413447460685429, -0.15865525393145705, 1.9544997361036416}), 1e-16,
                       1e-14));
  EXPECT_TRUE(allclose(ops::softplus(x), f64({M_LN2, 1.3132616875182228, 0.31326168751822286, 2.1269280110429727}),
                       0, 1e-15));
}

// Under every ISA: the vector fast paths (ops/unary_cpu.h) meet the same extremes.
TEST(Unary, ExtremesStayFiniteAndExact) {
  for (ops::CpuIsa isa : available_isas())
    for (DType dtype : {DType::f64, DType::f32}) {
      SCOPED_TRACE(std::string(dtype_name(dtype)) + " " + ops::cpu_isa_name(isa));
      ops::CpuIsaGuard use(isa);
      Tensor x = f64({-1000.0, 1000.0}).to(dtype).clone();
      x.set_requires_grad(true);
      Tensor s = ops::sigmoid(x);
      EXPECT_TRUE(allclose(s, f64({0.0, 1.0}), 0, 0));
      backward(s, Tensor::ones({2}, dtype));
      EXPECT_TRUE(allclose(x.grad(), f64({0.0, 0.0}), 0, 0));  // y (1 - y) with y exactly 0 and 1

      zero_grad({x});
      Tensor sp = ops::softplus(x);
      EXPECT_TRUE(allclose(sp, f64({0.0, 1000.0}), 0, 0));
      backward(sp, Tensor::ones({2}, dtype));
      EXPECT_TRUE(allclose(x.grad(), f64({0.0, 1.0}), 0, 0));

      EXPECT_TRUE(allclose(ops::silu(x.detach()), f64({0.0, 1000.0}), 0, 0));
      EXPECT_TRUE(allclose(ops::gelu(x.detach()), f64({0.0, 1000.0}), 0, 0));
      EXPECT_TRUE(allclose(ops::tanh(x.detach()), f64({-1.0, 1.0}), 0, 0));
      EXPECT_TRUE(allclose(ops::exp(f64({-1000.0}).to(dtype)), f64({0.0}), 0, 0));

      // log(1 + e^-1000 + e^-2000) is 0 to rounding, so these are exact.
      Tensor logits = Tensor::from_vector<double>({1000, -1000, 0, -1000, -1000, -1000}, {2, 3}).to(dtype);
      EXPECT_TRUE(allclose(
          ops::log_softmax(logits, -1),
          Tensor::from_vector<double>({0, -2000, -1000, -std::log(3.0), -std::log(3.0), -std::log(3.0)}, {2, 3}), 0,
          1e-7));
      EXPECT_TRUE(allclose(ops::softmax(logits, -1),
                           Tensor::from_vector<double>({1, 0, 0, 1 / 3.0, 1 / 3.0, 1 / 3.0}, {2, 3}), 0, 1e-7));
      Tensor loss = ops::cross_entropy(logits, Tensor::from_vector<int64_t>({1, 0}, {2}));
      EXPECT_TRUE(allclose(loss, Tensor::scalar((2000 + std::log(3.0)) / 2), 0, 1e-7));
    }
}

// The float32 fast paths of sigmoid, SiLU and GELU against the reference loops: max |fast - reference| / max
// |reference| for the output and for the input gradient (GELU's backward is the reference's: WavLM takes no
// gradient), at sizes that leave a partial vector and span several pieces and threads, inputs in [-30, 30] and at the
// extremes (subnormal results included). The bound is the measured worst rounded up to a power of two
// (docs/TESTING.md); exactness at +-1000 is ExtremesStayFiniteAndExact's.
TEST(UnaryFastPath, SigmoidSiluAndGeluMatchTheReferenceLoops) {
  const std::vector<ops::CpuIsa> isas = available_isas();
  if (isas.size() == 1) GTEST_SKIP() << "no fast path on this build or CPU (baseline only)";
  struct Op {
    const char* name;
    Tensor (*f)(const Tensor&);
  };
  const Op ops_under_test[] = {{"sigmoid", ops::sigmoid}, {"silu", ops::silu}, {"gelu", ops::gelu}};
  for (int64_t n : {1, 7, 8, 9, 8191, 8193, 70001}) {
    std::vector<double> v = erc::test::random_tensor({n}, uint64_t(n), -30.0, 30.0).to_vector<double>();
    const double extremes[] = {0.0, -0.0, -87.0, -88.0, -100.0, -104.0, 87.0, 89.0, -1000.0, 1000.0};
    for (size_t i = 0; i < std::size(extremes) && i < v.size(); ++i) v[i] = extremes[i];
    const Tensor x = Tensor::from_vector(v, {n}).to(DType::f32), g = erc::test::random_tensor({n}, 7).to(DType::f32);
    for (const Op& op : ops_under_test) {
      auto run = [&](ops::CpuIsa isa) {
        ops::CpuIsaGuard use(isa);
        Tensor leaf_x = x.clone().set_requires_grad(true);
        Tensor y = op.f(leaf_x);
        backward(y, g);
        return std::pair{y.detach(), leaf_x.grad()};
      };
      const auto [y_ref, dx_ref] = run(ops::CpuIsa::baseline);
      for (ops::CpuIsa isa : isas) {
        if (isa == ops::CpuIsa::baseline) continue;
        SCOPED_TRACE(std::string(op.name) + " " + ops::cpu_isa_name(isa) + " n " + std::to_string(n));
        const auto [y, dx] = run(isa);
        if (std::getenv("ERC_PRINT_ERRORS") != nullptr)
          std::printf("%s n %ld: y %.3g dx %.3g\n", op.name, long(n), scaled_error(y, y_ref), scaled_error(dx, dx_ref));
        EXPECT_LE(scaled_error(y, y_ref), std::ldexp(1.0, -22));    // 2.4e-7
        EXPECT_LE(scaled_error(dx, dx_ref), std::ldexp(1.0, -20));  // 9.5e-7
      }
    }
  }
}

// GELU element by element, where its erf decides the result: every 4096th float of magnitude 2^-7 to 5, each
// output's error relative to itself against float64, where that output is above 0.01 (below, 1 + erf cancels in
// float32 whatever computes it). The vector erf (ops/simd_math.h) is within 1.4 ulp of erf, libm's erff within 1:
// measured with ERC_PRINT_ERRORS=1 at most 6.5e-6 against the reference loops' 3.9e-6, both where 1 + erf has
// cancelled to about 0.02 (docs/TESTING.md); the bound is twice the reference's.
TEST(UnaryFastPath, GeluElementwiseErrorAgainstFloat64) {
  const std::vector<ops::CpuIsa> isas = available_isas();
  if (isas.size() == 1) GTEST_SKIP() << "no fast path on this build or CPU (baseline only)";
  std::vector<float> x;
  for (uint32_t bits = 0x3C000000; bits <= 0x40A00000; bits += 4096) {  // 2^-7 to 5
    float v;
    std::memcpy(&v, &bits, sizeof v);
    x.push_back(v), x.push_back(-v);
  }
  const Tensor in32 = Tensor::from_vector(x, {int64_t(x.size())});
  const std::vector<double> exact = ops::gelu(in32.to(DType::f64)).to_vector<double>();
  auto worst = [&](ops::CpuIsa isa) {
    ops::CpuIsaGuard use(isa);
    const std::vector<float> got = ops::gelu(in32).to_vector<float>();
    double error = 0;
    for (size_t i = 0; i < got.size(); ++i)
      if (std::abs(exact[i]) > 0.01) error = std::max(error, std::abs(got[i] - exact[i]) / std::abs(exact[i]));
    return error;
  };
  const double reference_error = worst(ops::CpuIsa::baseline);
  for (ops::CpuIsa isa : isas) {
    if (isa == ops::CpuIsa::baseline) continue;
    const double error = worst(isa);
    EXPECT_LE(error, 2 * reference_error) << ops::cpu_isa_name(isa) << ": reference loops' " << reference_error;
    if (std::getenv("ERC_PRINT_ERRORS") != nullptr)
      std::printf("gelu element-wise %s: %.3g, reference loops %.3g (%zu points)\n", ops::cpu_isa_name(isa), error,
                  reference_error, x.size());
  }
}

TEST(Softmax, RowsSumToOneAndNonContiguousInput) {
  Tensor x = erc::test::random_tensor({4, 3, 5}, 12, -5.0, 5.0);
  for (int64_t dim : {0, 1, 2}) {
    Tensor total = ops::sum(ops::softmax(x, dim), {dim});
    EXPECT_TRUE(allclose(total, Tensor::ones(total.shape(), DType::f64), 1e-15, 0)) << "dim " << dim;
    EXPECT_TRUE(allclose(ops::exp(ops::log_softmax(x, dim)), ops::softmax(x, dim), 1e-15, 1e-14)) << "dim " << dim;
  }
  Tensor t = x.transpose(0, 2);  // [5, 3, 4], strided
  EXPECT_TRUE(allclose(ops::softmax(t, 1), ops::softmax(t.contiguous(), 1), 0, 0));
  EXPECT_TRUE(allclose(ops::gelu(t), ops::gelu(t.contiguous()), 0, 0));
}

TEST(CrossEntropy, MatchesLogSoftmaxOverCountedRows) {
  Tensor logits = erc::test::random_tensor({5, 6}, 13, -3.0, 3.0);
  std::vector<int64_t> t = {4, -100, 0, 5, -100};
  std::vector<double> logp = ops::log_softmax(logits, 1).to_vector<double>();
  double expected = -(logp[0 * 6 + 4] + logp[2 * 6 + 0] + logp[3 * 6 + 5]) / 3;
  EXPECT_TRUE(allclose(ops::cross_entropy(logits, Tensor::from_vector(t, {5})), Tensor::scalar(expected, DType::f64),
                       0, 1e-14));
}

TEST(CrossEntropy, AllRowsIgnoredGivesZeroLossAndZeroGradient) {
  for (DType dtype : {DType::f64, DType::f32}) {
    Tensor logits = erc::test::random_tensor({3, 6}, 14, -1.0, 1.0, dtype, true);
    Tensor loss = ops::cross_entropy(logits, Tensor::from_vector<int64_t>({-100, -100, -100}, {3}));
    EXPECT_EQ(loss.dim(), 0);
    EXPECT_EQ(loss.item_as_double(), 0.0);
    backward(loss);
    EXPECT_TRUE(allclose(logits.grad(), Tensor::zeros({3, 6}), 0, 0));
  }
}

TEST(CrossEntropy, Misuse) {
  Tensor logits = Tensor::zeros({3, 6});
  EXPECT_TRUE(test::error_mentions(
      [&] {
        ops::cross_entropy(logits, Tensor::from_vector<int64_t>({0, 6, 1}, {3}));
      },
      {"target 6", "row 1", "[0, 6)"}));
  EXPECT_TRUE(test::error_mentions(
      [&] {
        ops::cross_entropy(logits, Tensor::from_vector<int64_t>({0, 1, -1}, {3}));
      },
      {"target -1", "row 2"}));
  EXPECT_TRUE(test::error_mentions(
      [&] {
        ops::cross_entropy(logits, Tensor::from_vector<int64_t>({0, 1}, {2}));
      },
      {"[3, 6]", "[2]"}));
  EXPECT_TRUE(test::error_mentions([&] { ops::cross_entropy(Tensor::zeros({3}), Tensor::zeros({3}, DType::i64)); },
                                   {"[U, C]", "[3]"}));
  EXPECT_TRUE(test::error_mentions([&] { ops::cross_entropy(logits, Tensor::zeros({3})); }, {"i64", "f32"}));
  EXPECT_TRUE(test::error_mentions([&] { ops::cross_entropy(logits.to(DType::i64), Tensor::zeros({3}, DType::i64)); },
                                   {"i64"}));
}

TEST(Unary, Misuse) {
  Tensor labels = Tensor::zeros({3}, DType::i64);
  EXPECT_THROW(ops::exp(labels), Error);
  EXPECT_THROW(ops::gelu(labels), Error);
  EXPECT_TRUE(test::error_mentions([] { ops::softmax(Tensor::zeros({2, 3}), 2); }, {"softmax", "dimension 2"}));
  EXPECT_TRUE(test::error_mentions([] { ops::log_softmax(Tensor::scalar(1.0), 0); }, {"log_softmax", "[]"}));
}

TEST(Dropout, EvalAndZeroPAreIdentity) {
  Tensor x = erc::test::random_tensor({3, 4}, 15, -1.0, 1.0, DType::f32, true);
  Generator gen(7);
  Tensor eval = ops::dropout(x, 0.5, /*training=*/false, gen);
  EXPECT_EQ(eval.impl_ptr(), x.impl_ptr());
  Tensor p0 = ops::dropout(x, 0.0, /*training=*/true, gen);
  EXPECT_EQ(p0.impl_ptr(), x.impl_ptr());
  EXPECT_EQ(gen.offset(), 0u) << "identity must draw nothing";
}

TEST(Dropout, MaskStatisticsAndScaling) {
  const int64_t n = 200000;
  const double p = 0.3;
  for (DType dtype : {DType::f32, DType::f64}) {
    SCOPED_TRACE(dtype_name(dtype));
    Generator gen(123);
    std::vector<double> y = ops::dropout(Tensor::ones({n}, dtype), p, true, gen).to(DType::f64).to_vector<double>();
    const double kept_value = dtype == DType::f32 ? double(float(1.0 / (1.0 - p))) : 1.0 / (1.0 - p);
    int64_t dropped = 0;
    for (double v : y) {
      if (v == 0.0) ++dropped;
      else ASSERT_EQ(v, kept_value);
    }
    // The dropped fraction is Binomial(n, p) / n: standard deviation sqrt(p (1 - p) / n) ~ 0.001; allow 5 of them.
    EXPECT_NEAR(double(dropped) / n, p, 5 * std::sqrt(p * (1 - p) / n));
    EXPECT_EQ(gen.offset(), uint64_t(n / 2));
  }
}

TEST(Dropout, SameSeedSameMaskAndBackwardUsesIt) {
  Tensor x = erc::test::random_tensor({64, 32}, 16, 0.5, 1.5, DType::f32, true);
  Generator a(99), b(99), c(100);
  Tensor ya = ops::dropout(x, 0.25, true, a);
  EXPECT_TRUE(allclose(ya, ops::dropout(x, 0.25, true, b), 0, 0));
  EXPECT_FALSE(allclose(ya, ops::dropout(x, 0.25, true, c), 0, 0));
  EXPECT_FALSE(allclose(ya, ops::dropout(x, 0.25, true, a), 0, 0)) << "a second draw must advance the stream";

  // d(sum y)/dx is the scaled mask: 0 where dropped, y / x where kept.
  backward(ops::sum(ya));
  std::vector<float> g = x.grad().to_vector<float>(), yv = ya.to_vector<float>(), xv = x.to_vector<float>();
  for (size_t i = 0; i < g.size(); ++i) EXPECT_FLOAT_EQ(g[i], yv[i] == 0 ? 0.0f : yv[i] / xv[i]) << i;
}

// The vector path draws the reference's masks: the same y, gradient and generator offset, bit for bit, at sizes
// around its 16-element groups and its pieces, at keep rates near 0 and 1, for a non-contiguous input, and from
// an offset whose counters carry from the low word into the high one.
TEST(Dropout, FastPathDrawsTheReferenceMaskBitForBit) {
  const std::vector<ops::CpuIsa> isas = available_isas();
  if (isas.size() == 1) GTEST_SKIP() << "no fast path on this build or CPU (baseline only)";
  struct Case {
    Shape shape;
    double p;
    uint64_t seed, offset;
    bool transposed;
  };
  const Case cases[] = {{{1}, 0.5, 1, 0, false},
                        {{15}, 0.1, 2, 3, false},
                        {{16}, 0.1, 3, 0, false},
                        {{17}, 0.9, 4, 1, false},
                        {{8191}, 0.25, 5, 7, false},
                        {{8193}, 0.999999, 6, 0, false},
                        {{70001}, 1e-7, 7, 0, false},
                        {{257, 130}, 0.1, 8, 11, true},
                        {{4099}, 0.5, 0xFFFFFFFF00000009ull, 0xFFFFFFFFull - 40, false}};
  for (const Case& c : cases) {
    const Tensor x = erc::test::random_tensor(c.shape, c.seed, -2.0, 2.0, DType::f32);
    const Tensor g = erc::test::random_tensor(c.transposed ? Shape{c.shape[1], c.shape[0]} : c.shape, c.seed + 1, -1.0,
                                              1.0, DType::f32);
    auto run = [&](ops::CpuIsa isa) {
      ops::CpuIsaGuard use(isa);
      Generator gen(c.seed);
      gen.set_state(c.seed, c.offset);
      Tensor leaf_x = x.clone().set_requires_grad(true);
      Tensor y = ops::dropout(c.transposed ? ops::transpose(leaf_x, 0, 1) : leaf_x, c.p, true, gen);
      backward(y, g);
      return std::tuple{y.detach(), leaf_x.grad(), gen.offset()};
    };
    const auto [y_ref, dx_ref, offset_ref] = run(ops::CpuIsa::baseline);
    for (ops::CpuIsa isa : isas) {
      SCOPED_TRACE(std::string(ops::cpu_isa_name(isa)) + " " + shape_str(c.shape) + " p " + std::to_string(c.p));
      const auto [y, dx, offset] = run(isa);
      EXPECT_TRUE(test::same_bits(y, y_ref));
      EXPECT_TRUE(test::same_bits(dx, dx_ref));
      EXPECT_EQ(offset, offset_ref);
    }
  }
}

TEST(Dropout, Misuse) {
  Generator gen(1);
  Tensor x = Tensor::ones({4});
  for (double p : {-0.1, 1.0, 1.5}) {
    EXPECT_TRUE(test::error_mentions([&] { ops::dropout(x, p, true, gen); }, {"dropout", "[0, 1)"}));
    EXPECT_TRUE(test::error_mentions([&] { ops::dropout(x, p, false, gen); }, {"dropout", "[0, 1)"}));
  }
  EXPECT_THROW(ops::dropout(Tensor::zeros({4}, DType::i64), 0.5, true, gen), Error);
}
