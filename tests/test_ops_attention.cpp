// ops/attention: the buckets docs/MODEL.md §1 lists, float64 gradient checks, agreement with the same attention
// composed of plain ops (one block and several blocks of query rows), the vector fast path against the reference
// loops, and refused misuse.
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "autograd/backward.h"
#include "fast_path_util.h"
#include "grad_util.h"
#include "ops/attention.h"
#include "ops/binary.h"
#include "ops/cpu_isa.h"
#include "ops/index.h"
#include "ops/join.h"
#include "ops/matmul.h"
#include "ops/shape.h"
#include "ops/softmax.h"
#include "test_util.h"

using namespace erc;
using erc::test::available_isas;
using erc::test::error_of;
using erc::test::mentions;
using erc::test::scaled_error;

namespace {

const ops::RelativeBuckets kWavLM{320, 800};

TEST(Attention, BucketsListedInSpec) {
  const std::vector<std::pair<int64_t, int64_t>> checks = {{-1000, 159}, {-777, 158}, {-80, 80}, {-1, 1},
                                                           {0, 0},       {1, 161},    {80, 240}, {800, 319}};
  for (auto [rel, bucket] : checks) EXPECT_EQ(ops::relative_bucket(rel, kWavLM), bucket) << "rel " << rel;
}

// The same attention from matmul, softmax and an embedding lookup of the [n, n] bucket matrix, sequence by
// sequence and head by head: slow and memory-hungry, but built from ops checked elsewhere.
Tensor composed_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& gate, const Tensor& embed,
                          const ops::SeqOffsets& offsets, const ops::RelativeBuckets& buckets) {
  const int64_t H = gate.size(1), Dh = q.size(1) / H;
  std::vector<Tensor> sequences;
  for (size_t s = 0; s + 1 < offsets.size(); ++s) {
    const int64_t t0 = offsets[s], n = offsets[s + 1] - t0;
    std::vector<int64_t> bucket(size_t(n * n));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) bucket[size_t(i * n + j)] = ops::relative_bucket(j - i, buckets);
    const Tensor bias = ops::embedding(embed, Tensor::from_vector(bucket, {n, n}));  // [n, n, H]
    std::vector<Tensor> heads;
    for (int64_t h = 0; h < H; ++h) {
      auto head = [&](const Tensor& x) { return ops::slice(ops::slice(x, 0, t0, n), 1, h * Dh, Dh); };
      Tensor scores = ops::mul_scalar(ops::matmul(head(q), ops::transpose(head(k), 0, 1)), 1.0 / std::sqrt(double(Dh)));
      Tensor gated = ops::mul(ops::slice(ops::slice(gate, 0, t0, n), 1, h, 1),
                              ops::reshape(ops::slice(bias, 2, h, 1), {n, n}));
      heads.push_back(ops::matmul(ops::softmax(ops::add(scores, gated), 1), head(v)));
    }
    sequences.push_back(ops::cat(heads, 1));
  }
  return ops::cat(sequences, 0);
}

struct Inputs {
  Tensor q, k, v, gate, embed;
  std::vector<Tensor> all() const { return {q, k, v, gate, embed}; }
};

Inputs random_inputs(int64_t T, int64_t H, int64_t Dh, int64_t num_buckets, DType dtype, uint64_t seed,
                     bool requires_grad) {
  auto r = [&](Shape shape, uint64_t s, double lo, double hi) {
    return test::random_tensor(shape, seed * 10 + s, lo, hi, dtype, requires_grad);
  };
  return {r({T, H * Dh}, 1, -1, 1), r({T, H * Dh}, 2, -1, 1), r({T, H * Dh}, 3, -1, 1), r({T, H}, 4, 0.5, 2.5),
          r({num_buckets, H}, 5, -1, 1)};
}

TEST(Gradcheck, RelativePositionAttention) {
  const ops::RelativeBuckets buckets{8, 12};  // short sequences still reach the logarithmic and the last buckets
  const ops::SeqOffsets offsets = {0, 1, 9, 22};
  Inputs in = random_inputs(22, 2, 3, 8, DType::f64, 1, true);
  EXPECT_TRUE(test::gradcheck_ok(
      [&](const std::vector<Tensor>& x) {
        return ops::relative_position_attention(x[0], x[1], x[2], x[3], x[4], offsets, buckets);
      },
      in.all()));
}

// Sequences longer than one block of query rows (1,500 frames: three blocks), and the gradients of the long one.
TEST(Attention, BlocksAgreeWithComposedOps) {
  const ops::SeqOffsets offsets = {0, 1500, 1503};
  Inputs in = random_inputs(1503, 2, 4, 320, DType::f64, 2, true);
  Tensor fused = ops::relative_position_attention(in.q, in.k, in.v, in.gate, in.embed, offsets, kWavLM);
  Tensor grad_out = test::random_tensor(fused.shape(), 99);
  backward(fused, grad_out);
  std::vector<Tensor> fused_grads;
  for (Tensor& t : in.all()) fused_grads.push_back(t.grad()), t.set_grad(Tensor());
  Tensor composed = composed_attention(in.q, in.k, in.v, in.gate, in.embed, offsets, kWavLM);
  backward(composed, grad_out);
  EXPECT_TRUE(test::allclose(fused, composed, 1e-12, 1e-10));
  const char* names[] = {"q", "k", "v", "gate", "rel_embed"};
  for (size_t i = 0; i < 5; ++i)
    EXPECT_TRUE(test::allclose(fused_grads[i], in.all()[i].grad(), 1e-11, 1e-9)) << "gradient of " << names[i];
}

TEST(Attention, Float32AgreesWithFloat64) {
  const ops::SeqOffsets offsets = {0, 700, 1201};
  Inputs in = random_inputs(1201, 4, 8, 320, DType::f64, 3, false);
  Tensor want = ops::relative_position_attention(in.q, in.k, in.v, in.gate, in.embed, offsets, kWavLM);
  Tensor got = ops::relative_position_attention(in.q.to(DType::f32), in.k.to(DType::f32), in.v.to(DType::f32),
                                                in.gate.to(DType::f32), in.embed.to(DType::f32), offsets, kWavLM);
  EXPECT_TRUE(test::allclose(got, want, 1e-6, 1e-5));
}

// The output and every gradient, for upstream gradient g.
std::vector<Tensor> output_and_gradients(const Inputs& in, const ops::SeqOffsets& offsets,
                                         const ops::RelativeBuckets& buckets, const Tensor& g) {
  Tensor out = ops::relative_position_attention(in.q, in.k, in.v, in.gate, in.embed, offsets, buckets);
  backward(out, g.to(out.dtype()));
  std::vector<Tensor> results = {out.detach()};
  for (Tensor t : in.all()) results.push_back(t.grad()), t.set_grad(Tensor());
  return results;
}

// The vector probability rows (float32; forward, and backward's recomputation) against the reference loops, on
// sequences around the vector width (1, 7, 16, 17, 33 frames: whole vectors and tails) and WavLM's 499 frames of 64
// values per head. The flash-attention rule: each result's error against the float64 reference at most twice the
// reference loops' own float32 error, never held below 4 ulps (2.4e-7); measured with ERC_PRINT_ERRORS=1 at most
// 1.6x, under the floor (docs/TESTING.md).
TEST(AttentionFastPath, MatchesReferenceLoops) {
  const std::vector<ops::CpuIsa> isas = available_isas();
  if (isas.size() == 1) GTEST_SKIP() << "no fast path on this build or CPU (baseline only)";
  struct Size {
    ops::SeqOffsets offsets;
    int64_t H, Dh;
  };
  const Size sizes[] = {{{0, 1}, 2, 3}, {{0, 1, 8, 24, 41, 74}, 3, 5}, {{0, 499}, 4, 64}};
  const char* names[] = {"out", "dq", "dk", "dv", "dgate", "drel_embed"};
  uint64_t seed = 50;
  for (const Size& size : sizes) {
    const int64_t T = size.offsets.back();
    const Inputs in64 = random_inputs(T, size.H, size.Dh, 320, DType::f64, ++seed, true);
    Inputs in32;
    std::vector<Tensor> leaves32;
    for (const Tensor& t : in64.all()) leaves32.push_back(t.detach().to(DType::f32).set_requires_grad(true));
    in32 = {leaves32[0], leaves32[1], leaves32[2], leaves32[3], leaves32[4]};
    const Tensor g = test::random_tensor({T, size.H * size.Dh}, seed + 100);
    const std::vector<Tensor> exact = output_and_gradients(in64, size.offsets, kWavLM, g);
    std::vector<Tensor> reference32;
    {
      ops::CpuIsaGuard use(ops::CpuIsa::baseline);
      reference32 = output_and_gradients(in32, size.offsets, kWavLM, g);
    }
    for (ops::CpuIsa isa : isas) {
      if (isa == ops::CpuIsa::baseline) continue;
      SCOPED_TRACE(std::string(ops::cpu_isa_name(isa)) + " T " + std::to_string(T) + " Dh " + std::to_string(size.Dh));
      ops::CpuIsaGuard use(isa);
      const std::vector<Tensor> fast = output_and_gradients(in32, size.offsets, kWavLM, g);
      for (size_t i = 0; i < fast.size(); ++i) {
        const double error = scaled_error(fast[i], exact[i]), reference_error = scaled_error(reference32[i], exact[i]);
        EXPECT_LE(error, std::max(2 * reference_error, 2.4e-7)) << names[i] << ": reference loops' " << reference_error;
        if (std::getenv("ERC_PRINT_ERRORS") != nullptr)
          std::printf("attention %s T %ld %s: %.3g, reference loops %.3g\n", ops::cpu_isa_name(isa), long(T), names[i],
                      error, reference_error);
      }
    }
  }
}

TEST(Attention, RefusesMisuse) {
  Inputs in = random_inputs(10, 2, 3, 320, DType::f64, 4, false);
  auto call = [&](const Tensor& q, const Tensor& gate, const Tensor& embed, const ops::SeqOffsets& offsets) {
    return error_of([&] { ops::relative_position_attention(q, in.k, in.v, gate, embed, offsets, kWavLM); });
  };
  EXPECT_TRUE(mentions(call(ops::slice(in.q, 0, 0, 9), in.gate, in.embed, {0, 10}), "[9, 6]"));
  EXPECT_TRUE(mentions(call(in.q, test::random_tensor({10, 4}, 5), in.embed, {0, 10}), "gate [10, 4]"));
  EXPECT_TRUE(mentions(call(in.q, in.gate, ops::slice(in.embed, 0, 0, 100), {0, 10}), "[320, 2]"));
  EXPECT_TRUE(mentions(call(in.q, in.gate, in.embed, {0, 9}), "seq_offsets"));
  EXPECT_TRUE(mentions(call(in.q.to(DType::f32), in.gate, in.embed, {0, 10}), "dtype"));
}

}  // namespace
