// Gradient checks, known values and misuse for conv1d, causal_conv1d, segment_mean and flip_sequences, with the
// packed-batch guarantee: a packed causal_conv1d equals running each sequence on its own; conv1d's fast path
// (frames-major inputs) against its reference loops, under every ISA and thread count.
#include <omp.h>

#include <cstdio>
#include <cstdlib>

#include "autograd/backward.h"
#include "fast_path_util.h"
#include "grad_util.h"
#include "ops/causal_conv1d.h"
#include "ops/conv1d.h"
#include "ops/cpu_isa.h"
#include "ops/packed.h"
#include "ops/segment_mean.h"
#include "ops/shape.h"
#include "test_util.h"

using namespace erc;
using erc::test::allclose;
using erc::test::available_isas;
using erc::test::error_of;
using erc::test::gradcheck_ok;
using erc::test::leaf;
using erc::test::mentions;
using erc::test::random_tensor;
using erc::test::scaled_error;
using Inputs = std::vector<Tensor>;

TEST(Gradcheck, Conv1dStridePaddingGroups) {
  struct Case {
    Shape x, w;
    int64_t stride, padding, groups;
    bool bias;
  };
  const Case cases[] = {
      {{2, 3, 7}, {4, 3, 3}, 1, 0, 1, true},
      {{2, 4, 9}, {6, 4, 4}, 2, 3, 1, true},  // padding K - 1: the edge outputs see one real frame
      {{1, 6, 10}, {4, 3, 5}, 3, 2, 2, false},
      {{2, 4, 8}, {4, 1, 3}, 1, 1, 4, true},   // depthwise
      {{1, 2, 12}, {3, 2, 2}, 4, 1, 1, true},  // stride > K: some frames are never read and get zero gradient
  };
  uint64_t seed = 10;
  for (const Case& c : cases) {
    SCOPED_TRACE("x " + shape_str(c.x) + ", weight " + shape_str(c.w) + ", stride " + std::to_string(c.stride) +
                 ", padding " + std::to_string(c.padding) + ", groups " + std::to_string(c.groups));
    Inputs in = {leaf(c.x, seed++), leaf(c.w, seed++)};
    if (c.bias) in.push_back(leaf({c.w[0]}, seed++));
    EXPECT_TRUE(gradcheck_ok(
        [&](const Inputs& v) {
          return ops::conv1d(v[0], v[1], c.bias ? v[2] : Tensor(), c.stride, c.padding, c.groups);
        },
        in));
  }
}

// x arrives as a transposed view [B, L, C_in] -> [B, C_in, L]: frames-major, the fast path's input, whose forward
// the check then runs (under every ISA: baseline is the reference loops).
TEST(Gradcheck, Conv1dStridedInput) {
  Tensor x = leaf({2, 9, 4}, 20), w = leaf({2, 2, 3}, 21), b = leaf({2}, 22);
  for (ops::CpuIsa isa : available_isas()) {
    ops::CpuIsaGuard use(isa);
    EXPECT_TRUE(gradcheck_ok(
        [](const Inputs& v) { return ops::conv1d(ops::transpose(v[0], 1, 2), v[1], v[2], 2, 1, 2); }, {x, w, b}))
        << ops::cpu_isa_name(isa);
  }
}

TEST(Gradcheck, CausalConv1dPackedLengths1_4_7) {  // K = 4: the first sequence is shorter than the kernel
  const ops::SeqOffsets offsets = {0, 1, 5, 12};
  Tensor x = leaf({12, 3}, 30), w = leaf({3, 1, 4}, 31), b = leaf({3}, 32);
  EXPECT_TRUE(gradcheck_ok([&](const Inputs& v) { return ops::causal_conv1d(v[0], v[1], v[2], offsets); }, {x, w, b}));
  EXPECT_TRUE(gradcheck_ok([&](const Inputs& v) { return ops::causal_conv1d(v[0], v[1], Tensor(), offsets); }, {x, w}));
}

TEST(Gradcheck, SegmentMean) {
  Tensor x = leaf({9, 4}, 40);
  EXPECT_TRUE(gradcheck_ok([](const Inputs& v) { return ops::segment_mean(v[0], {0, 1, 4, 9}); }, {x}));
}

TEST(Gradcheck, FlipSequences) {
  Tensor x = leaf({8, 2, 3}, 50);
  EXPECT_TRUE(gradcheck_ok([](const Inputs& v) { return ops::flip_sequences(v[0], {0, 3, 4, 8}); }, {x}));
}

TEST(Conv1d, KnownValues) {
  // Padded input [0, 1, 2, 3, 4, 5, 0], kernel [1, 0, -1], stride 2: x[p] - x[p + 2] at p = 0, 2, 4.
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4, 5}, {1, 1, 5});
  Tensor w = Tensor::from_vector<double>({1, 0, -1}, {1, 1, 3});
  EXPECT_EQ(ops::conv1d(x, w, Tensor(), 2, 1).to_vector<double>(), (std::vector<double>{-2, -2, 4}));
}

// The definition, loop by loop, in double: y, and dx and dweight for upstream gradient g.
static void direct_conv1d(const Tensor& x, const Tensor& w, const Tensor& g, int64_t stride, int64_t padding,
                          int64_t groups, Tensor& y, Tensor& dx, Tensor& dw) {
  const int64_t B = x.size(0), C_in = x.size(1), L = x.size(2), C_out = w.size(0), cg_in = w.size(1), K = w.size(2);
  const int64_t L_out = (L + 2 * padding - K) / stride + 1, cg_out = C_out / groups;
  y = Tensor::zeros({B, C_out, L_out}, DType::f64);
  dx = Tensor::zeros(x.shape(), DType::f64);
  dw = Tensor::zeros(w.shape(), DType::f64);
  const double *px = x.data<double>(), *pw = w.data<double>(), *pg = g.data<double>();
  double *py = y.data<double>(), *pdx = dx.data<double>(), *pdw = dw.data<double>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t o = 0; o < C_out; ++o)
      for (int64_t l = 0; l < L_out; ++l)
        for (int64_t c = 0; c < cg_in; ++c)
          for (int64_t k = 0; k < K; ++k) {
            const int64_t pos = l * stride + k - padding;
            if (pos < 0 || pos >= L) continue;
            const int64_t xi = (b * C_in + (o / cg_out) * cg_in + c) * L + pos, wi = (o * cg_in + c) * K + k;
            const int64_t yi = (b * C_out + o) * L_out + l;
            py[yi] += pw[wi] * px[xi];
            pdx[xi] += pw[wi] * pg[yi];
            pdw[wi] += pg[yi] * px[xi];
          }
}

TEST(Conv1d, TiledColumnsMatchDirectLoops) {
  // 64 channels per group x K = 8 gives 512 column rows, so the 5000 output positions are cut into tiles
  // (ops/conv1d.cpp keeps a column tile near 2M elements): tile edges, groups and batch offsets all take part.
  Tensor x = random_tensor({2, 128, 10001}, 60, -1, 1, DType::f64, true);
  Tensor w = random_tensor({4, 64, 8}, 61, -1, 1, DType::f64, true);
  Tensor y = ops::conv1d(x, w, Tensor(), 2, 3, 2);
  ASSERT_EQ(y.shape(), (Shape{2, 4, 5000}));
  Tensor g = random_tensor(y.shape(), 62);
  backward(y, g);
  Tensor y_ref, dx_ref, dw_ref;
  direct_conv1d(x.detach(), w.detach(), g, 2, 3, 2, y_ref, dx_ref, dw_ref);
  EXPECT_TRUE(allclose(y, y_ref, 1e-12, 1e-10));
  EXPECT_TRUE(allclose(x.grad(), dx_ref, 1e-12, 1e-10));
  EXPECT_TRUE(allclose(w.grad(), dw_ref, 1e-12, 1e-10));
}

struct ConvCase {
  int64_t B, C_in, L, C_out, K, stride, padding, groups;
  bool bias;
  std::string name() const {
    char text[160];
    std::snprintf(text, sizeof text, "B %ld C_in %ld L %ld C_out %ld K %ld stride %ld padding %ld groups %ld", long(B),
                  long(C_in), long(L), long(C_out), long(K), long(stride), long(padding), long(groups));
    return text;
  }
};

// The fast path's shapes: around its pieces of at most `stride` taps (K below, at and above the stride, not a
// multiple of it, K 1, stride above K so that frames go unread), C_in 1 (a waveform), padding (a padded copy),
// groups (a copy per group, tasks in parallel), a batch; and WavLM's own, scaled down: encoder layers 0 and 1 (the
// last large enough for OpenBLAS to thread its GEMMs) and the positional conv (K 128, padding 64, 16 groups).
static const ConvCase kFastPathCases[] = {
    {1, 1, 400, 8, 10, 5, 0, 1, false},    {1, 16, 41, 16, 3, 2, 0, 1, false}, {2, 4, 17, 3, 2, 2, 0, 1, true},
    {1, 3, 13, 4, 1, 1, 0, 1, true},       {2, 6, 23, 9, 5, 2, 2, 3, true},    {1, 8, 29, 8, 8, 1, 4, 4, true},
    {1, 5, 7, 2, 7, 3, 3, 1, false},       {3, 2, 50, 4, 4, 7, 1, 2, true},    {1, 64, 203, 64, 128, 1, 64, 16, true},
    {1, 256, 801, 256, 3, 2, 0, 1, false},
};

// x [B, L, C_in] seen as [B, C_in, L] (frames-major, what the fast path takes), weight, bias: drawn in float64 and
// rounded to `dtype`.
static std::vector<Tensor> frames_major_inputs(const ConvCase& c, uint64_t seed, DType dtype) {
  auto draw = [&](const Shape& shape, uint64_t s) { return random_tensor(shape, s, -1, 1, DType::f64).to(dtype); };
  return {ops::transpose(draw({c.B, c.L, c.C_in}, seed), 1, 2), draw({c.C_out, c.C_in / c.groups, c.K}, seed + 1),
          c.bias ? draw({c.C_out}, seed + 2) : Tensor()};
}

static Tensor run_conv(const ConvCase& c, const std::vector<Tensor>& in) {
  return ops::conv1d(in[0], in[1], in[2], c.stride, c.padding, c.groups);
}

static Tensor reference_conv(const ConvCase& c, const std::vector<Tensor>& in) {
  ops::CpuIsaGuard use(ops::CpuIsa::baseline);
  return run_conv(c, in);
}

// The fast path's GEMMs over pieces of taps add in another order than im2col's one GEMM. float64: within 2^-48
// (3.6e-15) of the reference loops, relative to the output's largest element; measured at most 1.5e-15 (the
// scaled-down positional conv, 8192 terms per output). float32: the flash-attention rule, its error against the
// float64 reference at most twice the reference loops' own float32 error, never held below 4 ulps (2.4e-7);
// measured at most 1.7x, under the floor. ERC_PRINT_ERRORS=1 prints the measures (docs/TESTING.md).
TEST(Conv1dFastPath, MatchesReferenceLoops) {
  const std::vector<ops::CpuIsa> isas = available_isas();
  if (isas.size() == 1) GTEST_SKIP() << "no fast path on this build or CPU (baseline only)";
  uint64_t seed = 300;
  for (const ConvCase& c : kFastPathCases) {
    const std::vector<Tensor> in64 = frames_major_inputs(c, seed += 3, DType::f64),
                              in32 = frames_major_inputs(c, seed, DType::f32);
    const Tensor exact = reference_conv(c, in64), reference32 = reference_conv(c, in32);
    for (ops::CpuIsa isa : isas) {
      if (isa == ops::CpuIsa::baseline) continue;
      SCOPED_TRACE(std::string(ops::cpu_isa_name(isa)) + " " + c.name());
      ops::CpuIsaGuard use(isa);
      const Tensor fast64 = run_conv(c, in64), fast32 = run_conv(c, in32);
      EXPECT_TRUE(fast64.transpose(1, 2).is_contiguous()) << "frames-major in, frames-major out";
      const double error64 = scaled_error(fast64, exact);
      const double error32 = scaled_error(fast32, exact), reference_error32 = scaled_error(reference32, exact);
      EXPECT_LE(error64, std::ldexp(1.0, -48));
      EXPECT_LE(error32, std::max(2 * reference_error32, 2.4e-7)) << "reference loops' error " << reference_error32;
      if (std::getenv("ERC_PRINT_ERRORS") != nullptr)
        std::printf("conv1d %s %s: f64 %.3g; f32 %.3g, reference loops %.3g\n", ops::cpu_isa_name(isa),
                    c.name().c_str(), error64, error32, reference_error32);
      // A channels-first input (other than a waveform's, which is frames-major too) keeps to the reference loops.
      if (c.C_in > 1) {
        EXPECT_TRUE(allclose(run_conv(c, {in64[0].contiguous(), in64[1], in64[2]}), exact, 0, 0)) << "channels-first";
      }
    }
  }
}

// Each output is one task's (a batch element and group's) GEMMs in a fixed order, each GEMM cut into tiles by its
// shape alone (ops/blas.h): the bits do not depend on the thread count. Under OPENBLAS_CORETYPE=Haswell or Zen this
// failed while OpenBLAS threaded a lone task's GEMM itself (7,283 of 102,400 outputs moved at 2 threads).
TEST(Conv1dFastPath, SameBitsWhateverTheThreadCount) {
  const int max_threads = omp_get_max_threads();
  for (const ConvCase& c : {kFastPathCases[4], kFastPathCases[8], kFastPathCases[9]}) {
    SCOPED_TRACE(c.name());
    const std::vector<Tensor> in = frames_major_inputs(c, 400, DType::f32);
    omp_set_num_threads(1);
    const Tensor one = run_conv(c, in);
    for (int threads : {2, 3}) {
      omp_set_num_threads(threads);
      EXPECT_TRUE(allclose(run_conv(c, in), one, 0, 0)) << threads << " threads";
    }
  }
  omp_set_num_threads(max_threads);
}

TEST(CausalConv1d, KnownValues) {
  // One channel, weight [10, 1], bias 0.5: y[t] = 0.5 + 10 x[t - 1] + x[t], x[t - 1] = 0 at a sequence start.
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4, 5}, {5, 1});
  Tensor w = Tensor::from_vector<double>({10, 1}, {1, 1, 2});
  Tensor b = Tensor::from_vector<double>({0.5}, {1});
  EXPECT_EQ(ops::causal_conv1d(x, w, b, {0, 3, 5}).to_vector<double>(),
            (std::vector<double>{1.5, 12.5, 23.5, 4.5, 45.5}));
}

TEST(CausalConv1d, PackedEqualsEachSequenceAlone) {
  const ops::SeqOffsets offsets = {0, 1, 5, 12, 20};
  const int64_t T = 20, E = 6, K = 4;
  Tensor x = random_tensor({T, E}, 70, -1, 1, DType::f64, true);
  Tensor w = random_tensor({E, 1, K}, 71, -1, 1, DType::f64, true);
  Tensor b = random_tensor({E}, 72, -1, 1, DType::f64, true);
  Tensor g = random_tensor({T, E}, 73);
  Tensor y = ops::causal_conv1d(x, w, b, offsets);
  backward(y, g);

  // The same weights as fresh leaves, one call per sequence; their gradients add up over the calls.
  Tensor w_alone = w.detach().clone().set_requires_grad(true), b_alone = b.detach().clone().set_requires_grad(true);
  for (size_t s = 0; s + 1 < offsets.size(); ++s) {
    const int64_t begin = offsets[s], len = offsets[s + 1] - offsets[s];
    SCOPED_TRACE("sequence " + std::to_string(s));
    Tensor xs = x.detach().narrow(0, begin, len).clone().set_requires_grad(true);
    Tensor ys = ops::causal_conv1d(xs, w_alone, b_alone, ops::one_sequence(len));
    backward(ys, g.narrow(0, begin, len).contiguous());
    EXPECT_TRUE(allclose(ys, y.detach().narrow(0, begin, len), 0, 0));
    EXPECT_TRUE(allclose(xs.grad(), x.grad().narrow(0, begin, len), 0, 0));
  }
  EXPECT_TRUE(allclose(w_alone.grad(), w.grad(), 1e-14, 1e-12));  // summed in another order
  EXPECT_TRUE(allclose(b_alone.grad(), b.grad(), 1e-14, 1e-12));
}

TEST(SegmentMean, KnownValues) {
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {3, 2});
  EXPECT_EQ(ops::segment_mean(x, {0, 2, 3}).to_vector<double>(), (std::vector<double>{2, 3, 5, 6}));
}

TEST(FlipSequences, KnownValuesAnyDtypeAndSelfInverse) {
  Tensor x = Tensor::arange(5);  // i64: the flip moves rows of bytes, whatever they hold
  EXPECT_EQ(ops::flip_sequences(x, {0, 2, 5}).to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 4, 3, 2}));
  Tensor f = random_tensor({7, 3}, 80, -1, 1, DType::f32);
  EXPECT_TRUE(allclose(ops::flip_sequences(ops::flip_sequences(f, {0, 4, 7}), {0, 4, 7}), f, 0, 0));
}

TEST(Conv1d, ShapeErrorsNameBothShapes) {
  Tensor x = Tensor::zeros({2, 3, 10}), w = Tensor::zeros({4, 2, 3});
  std::string m = error_of([&] { ops::conv1d(x, w); });  // C_in 3 against weight's 2 channels
  EXPECT_TRUE(mentions(m, "[2, 3, 10]") && mentions(m, "[4, 2, 3]")) << m;
  m = error_of([&] { ops::conv1d(Tensor::zeros({2, 4, 10}), Tensor::zeros({3, 2, 3}), Tensor(), 1, 0, 2); });
  EXPECT_TRUE(mentions(m, "groups") && mentions(m, "[2, 4, 10]") && mentions(m, "[3, 2, 3]")) << m;  // 2 groups, 3 out
  m = error_of([&] { ops::conv1d(Tensor::zeros({1, 3, 2}), Tensor::zeros({4, 3, 5}), Tensor(), 1, 1); });
  EXPECT_TRUE(mentions(m, "shorter than the kernel")) << m;
  m = error_of([&] { ops::conv1d(x, Tensor::zeros({4, 3, 3}), Tensor::zeros({3})); });
  EXPECT_TRUE(mentions(m, "[4]") && mentions(m, "[3]")) << m;
  EXPECT_THROW(ops::conv1d(x, Tensor::zeros({4, 3, 3}, DType::f64)), Error);
  EXPECT_THROW(ops::conv1d(x, Tensor::zeros({4, 3, 3}), Tensor(), 0), Error);
  EXPECT_THROW(ops::conv1d(Tensor::zeros({3, 10}), Tensor::zeros({4, 3, 3})), Error);
}

TEST(CausalConv1d, ShapeAndOffsetErrors) {
  Tensor x = Tensor::zeros({12, 5}), w = Tensor::zeros({5, 1, 4}), b = Tensor::zeros({5});
  std::string m = error_of([&] { ops::causal_conv1d(x, Tensor::zeros({6, 1, 4}), b, {0, 12}); });
  EXPECT_TRUE(mentions(m, "[12, 5]") && mentions(m, "[6, 1, 4]")) << m;
  m = error_of([&] { ops::causal_conv1d(x, w, Tensor::zeros({4}), {0, 12}); });
  EXPECT_TRUE(mentions(m, "[12, 5]") && mentions(m, "[4]")) << m;
  m = error_of([&] { ops::causal_conv1d(x, w, b, {0, 5, 11}); });  // does not end at T
  EXPECT_TRUE(mentions(m, "causal_conv1d") && mentions(m, "T = 12")) << m;
  m = error_of([&] { ops::causal_conv1d(x, w, b, {0, 5, 5, 12}); });  // an empty sequence
  EXPECT_TRUE(mentions(m, "segment 1") && mentions(m, "empty")) << m;
  EXPECT_THROW(ops::causal_conv1d(x, w, b, {12}), Error);
  EXPECT_THROW(ops::causal_conv1d(x, Tensor::zeros({5, 2, 4}), b, {0, 12}), Error);
}

TEST(SegmentMean, EmptySegmentAndOffsetErrors) {
  Tensor x = Tensor::zeros({6, 2});
  std::string m = error_of([&] { ops::segment_mean(x, {0, 3, 3, 6}); });
  EXPECT_TRUE(mentions(m, "segment_mean") && mentions(m, "utt_offsets") && mentions(m, "empty")) << m;
  EXPECT_THROW(ops::segment_mean(x, {0, 7}), Error);
  EXPECT_THROW(ops::segment_mean(x, {1, 6}), Error);
  EXPECT_THROW(ops::segment_mean(Tensor::zeros({6}), {0, 6}), Error);
}

TEST(FlipSequences, OffsetErrors) {
  Tensor x = Tensor::zeros({6, 2});
  EXPECT_THROW(ops::flip_sequences(x, {0, 4, 2, 6}), Error);
  EXPECT_THROW(ops::flip_sequences(x, {0, 5}), Error);
  EXPECT_THROW(ops::flip_sequences(Tensor::zeros({}), {0, 1}), Error);
}
