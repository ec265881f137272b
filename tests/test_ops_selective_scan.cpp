// ops/selective_scan: gradient checks across chunk and sequence boundaries, chunking and packing that change no
// value, a hand-computed example, misuse errors, and the vector fast paths (ops/selective_scan_simd.h) against the
// reference loops, run under every ISA this build and CPU have.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "autograd/backward.h"
#include "autograd/grad_mode.h"
#include "fast_path_util.h"
#include "grad_util.h"
#include "ops/cpu_isa.h"
#include "ops/selective_scan.h"
#include "ops/selective_scan_naive.h"
#include "test_util.h"

using namespace erc;
using erc::test::allclose;
using erc::test::available_isas;
using erc::test::gradcheck_ok;
using erc::test::leaf;
using erc::test::scaled_error;
using Inputs = std::vector<Tensor>;

namespace {

// u, delta, A, B, C, D, z, delta_bias for T frames, E channels, N states; A < 0 as in Mamba (A = -exp(A_log)).
Inputs scan_inputs(int64_t T, int64_t E, int64_t N, uint64_t seed) {
  return {leaf({T, E}, seed),     leaf({T, E}, seed + 1), leaf({E, N}, seed + 2, -2.0, -0.5),
          leaf({T, N}, seed + 3), leaf({T, N}, seed + 4), leaf({E}, seed + 5),
          leaf({T, E}, seed + 6), leaf({E}, seed + 7)};
}

Tensor run(const Inputs& in, const ops::SeqOffsets& seq_offsets, int64_t chunk_size) {
  return ops::selective_scan(in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], seq_offsets, chunk_size);
}

// Fresh leaves holding the same values, so that separate runs do not add into each other's gradients.
Inputs fresh(const Inputs& in) {
  Inputs out;
  for (const Tensor& t : in) out.push_back(t.detach().clone().set_requires_grad(true));
  return out;
}

// Output and the gradient of every input under grad_out.
struct Result {
  Tensor out;
  Inputs grads;
};

Result run_with_grads(const Inputs& values, const ops::SeqOffsets& seq_offsets, int64_t chunk_size,
                      const Tensor& grad_out) {
  Inputs in = fresh(values);
  Tensor out = run(in, seq_offsets, chunk_size);
  backward(out, grad_out);
  Result r{out.detach(), {}};
  for (const Tensor& t : in) r.grads.push_back(t.grad());
  return r;
}

const char* const kNames[] = {"u", "delta", "A", "B", "C", "D", "z", "delta_bias"};

Inputs to_f32(const Inputs& in) {
  Inputs out;
  for (const Tensor& t : in) out.push_back(t.detach().to(DType::f32));
  return out;
}

// Per-frame results (out, du, ddelta, dz) come from the same operations in the same order whatever the chunking
// or packing, so they must agree bit for bit; sums over frames or channels may be added in another order.
void expect_same(const Result& a, const Result& b, double sum_tol) {
  EXPECT_TRUE(allclose(a.out, b.out, 0, 0)) << "out";
  for (size_t i = 0; i < a.grads.size(); ++i) {
    const double tol = (i == 0 || i == 1 || i == 6) ? 0 : sum_tol;
    EXPECT_TRUE(allclose(a.grads[i], b.grads[i], tol, tol)) << "gradient of " << kNames[i];
  }
}

}  // namespace

// The naive scan (ops/selective_scan_naive.h) is the reference: the op under every ISA and chunk size gives its
// output, on a packed batch with a 1-frame sequence; float64 differs from it by the order of operations, float32 by
// float32's rounding. Bounds: docs/TESTING.md (measured, then x ~5 rounded up).
TEST(SelectiveScanNaive, EveryCpuFormGivesItsOutput) {
  const ops::SeqOffsets packed{0, 1, 9, 40};
  const Inputs in = scan_inputs(40, 6, 4, 70);
  const Tensor want = ops::selective_scan_naive(in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], packed);
  for (ops::CpuIsa isa : available_isas()) {
    ops::CpuIsaGuard use(isa);
    for (int64_t chunk : {3, 2048}) {
      const ::testing::AssertionResult f64 = test::relative_error_below(run(in, packed, chunk), want, 1e-15);
      const ::testing::AssertionResult f32 = test::relative_error_below(run(to_f32(in), packed, chunk), want, 5e-7);
      EXPECT_TRUE(f64) << ops::cpu_isa_name(isa) << " chunk " << chunk;
      EXPECT_TRUE(f32) << ops::cpu_isa_name(isa) << " chunk " << chunk;
      if (std::getenv("ERC_PRINT_ERRORS"))
        std::printf("ERRORS naive scan %s chunk %lld: f64 %s, f32 %s\n", ops::cpu_isa_name(isa),
                    static_cast<long long>(chunk), f64.message(), f32.message());
    }
  }
}

// The op's backward, under every ISA and across chunk boundaries, gives the slope of the naive scan: the central
// differences of sum(naive(inputs) * g) for every element of every input.
TEST(SelectiveScanNaive, EveryCpuFormsGradientIsTheNaiveScansSlope) {
  const ops::SeqOffsets packed{0, 4, 9};
  const Inputs in = scan_inputs(9, 3, 2, 80);
  const Tensor g = test::random_tensor({9, 3}, 89);
  auto loss = [&](const Inputs& x) {
    const Tensor y = ops::selective_scan_naive(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], packed);
    double sum = 0;
    for (int64_t i = 0; i < y.numel(); ++i) sum += y.data<double>()[i] * g.data<double>()[i];
    return sum;
  };
  constexpr double h = 1e-6;
  for (ops::CpuIsa isa : available_isas()) {
    ops::CpuIsaGuard use(isa);
    const Result r = run_with_grads(in, packed, 2, g);
    for (size_t i = 0; i < in.size(); ++i) {
      Tensor slope = Tensor::zeros(in[i].shape(), DType::f64);
      for (int64_t k = 0; k < in[i].numel(); ++k) {
        Inputs x;
        for (const Tensor& t : in) x.push_back(t.detach().clone());
        x[i].data<double>()[k] += h;
        const double up = loss(x);
        x[i].data<double>()[k] -= 2 * h;
        slope.data<double>()[k] = (up - loss(x)) / (2 * h);
      }
      EXPECT_TRUE(allclose(r.grads[i], slope, 1e-8, 1e-6)) << ops::cpu_isa_name(isa) << " d" << kNames[i];
    }
  }
}

// chunk_size 4 over 9 frames: three chunks, two recomputations from saved boundary states.
// Every gradient check runs under each available ISA: in float64 the fast paths are the reference's vector form.
TEST(Gradcheck, SelectiveScanOneSequenceChunked) {
  for (ops::CpuIsa isa : available_isas()) {
    ops::CpuIsaGuard use(isa);
    EXPECT_TRUE(
        gradcheck_ok([](const Inputs& in) { return run(in, ops::one_sequence(9), 4); }, scan_inputs(9, 3, 2, 10)))
        << ops::cpu_isa_name(isa);
  }
}

// Lengths 1, 5, 3: a one-frame sequence, one that spans two chunks, and state resets in between.
TEST(Gradcheck, SelectiveScanPackedChunked) {
  for (ops::CpuIsa isa : available_isas()) {
    ops::CpuIsaGuard use(isa);
    EXPECT_TRUE(gradcheck_ok(
        [](const Inputs& in) {
          return run(in, {0, 1, 6, 9}, 4);
        },
        scan_inputs(9, 3, 2, 20)))
        << ops::cpu_isa_name(isa);
    EXPECT_TRUE(gradcheck_ok(
        [](const Inputs& in) {
          return run(in, {0, 1, 6, 9}, 1);
        },
        scan_inputs(9, 3, 2, 30)))
        << ops::cpu_isa_name(isa);
  }
}

// Channel 1's delta + delta_bias lies above softplus's threshold 20, where softplus is the identity.
TEST(Gradcheck, SelectiveScanSoftplusThreshold) {
  Inputs in = scan_inputs(6, 3, 2, 40);
  in[7] = Tensor::from_vector<double>({0.3, 22.0, -0.7}, {3}).set_requires_grad(true);
  for (ops::CpuIsa isa : available_isas()) {
    ops::CpuIsaGuard use(isa);
    EXPECT_TRUE(gradcheck_ok([](const Inputs& x) { return run(x, {0, 4, 6}, 3); }, in)) << ops::cpu_isa_name(isa);
  }
}

// delta + delta_bias = 0 gives delta_eff = ln 2 and, with A = -1, a decay of exactly 1/2 per frame; z = 40 makes
// SiLU(z) = 40 in float64.
TEST(SelectiveScan, HandComputedValues) {
  auto t = [](std::vector<double> v, Shape s) { return Tensor::from_vector<double>(v, s); };
  Inputs in{t({2, 0}, {2, 1}),   t({0, 0}, {2, 1}), t({-1}, {1, 1}),     t({3, 3}, {2, 1}),
            t({0.5, 1}, {2, 1}), t({0.25}, {1}),    t({40, 40}, {2, 1}), t({0}, {1})};
  const double ln2 = std::log(2.0);
  // h_1 = ln2 * 3 * 2, y_1 = 0.5 h_1 + 0.25 * 2; h_2 = h_1 / 2, y_2 = h_2.
  EXPECT_TRUE(allclose(run(in, ops::one_sequence(2), 2048), t({40 * (3 * ln2 + 0.5), 40 * 3 * ln2}, {2, 1}), 0, 1e-14));
  // As two sequences, frame 2 starts from h = 0 and has u = 0.
  EXPECT_TRUE(allclose(run(in, {0, 1, 2}, 2048), t({40 * (3 * ln2 + 0.5), 0}, {2, 1}), 0, 1e-14));
}

// Chunking only decides which states forward keeps: every chunk size gives the same output and gradients, under
// every ISA (the fast paths keep their own chunks: the argument must change nothing there either). E 40 spans
// several channel blocks and threads; T E N is large enough for the threaded path.
TEST(SelectiveScan, ChunkedEqualsUnchunked) {
  for (ops::CpuIsa isa : available_isas()) {
    SCOPED_TRACE(ops::cpu_isa_name(isa));
    ops::CpuIsaGuard use(isa);
    const int64_t T = 300;
    Inputs in = scan_inputs(T, 40, 5, 50);
    Tensor grad_out = test::random_tensor({T, 40}, 58);
    Result whole = run_with_grads(in, ops::one_sequence(T), T, grad_out);
    for (int64_t chunk : {1, 7, 64, 299}) {
      SCOPED_TRACE("chunk_size " + std::to_string(chunk));
      expect_same(run_with_grads(in, ops::one_sequence(T), chunk, grad_out), whole, 0);
    }
    const ops::SeqOffsets packed{0, 37, 38, 120, 300};
    Result packed_whole = run_with_grads(in, packed, T, grad_out);
    expect_same(run_with_grads(in, packed, 16, grad_out), packed_whole, 0);
  }
}

// A packed batch equals its sequences run one at a time (parameter gradients: the sum over the runs), under every
// ISA.
TEST(SelectiveScan, PackedEqualsSequencesAlone) {
  for (ops::CpuIsa isa : available_isas()) {
    SCOPED_TRACE(ops::cpu_isa_name(isa));
    ops::CpuIsaGuard use(isa);
    const int64_t T = 300, E = 40;
    const ops::SeqOffsets packed{0, 37, 38, 120, 300};
    Inputs in = scan_inputs(T, E, 5, 60);
    Tensor grad_out = test::random_tensor({T, E}, 68);
    Result together = run_with_grads(in, packed, 16, grad_out);
    Result alone{Tensor::zeros({T, E}, DType::f64), {}};
    for (const Tensor& t : in) alone.grads.push_back(Tensor::zeros(t.shape(), DType::f64));
    const bool per_frame[] = {true, true, false, true, true, false, true, false};
    for (size_t s = 0; s + 1 < packed.size(); ++s) {
      const int64_t start = packed[s], len = packed[s + 1] - start;
      Inputs part;
      for (size_t i = 0; i < in.size(); ++i)
        part.push_back(per_frame[i] ? in[i].detach().narrow(0, start, len) : in[i].detach());
      Result r = run_with_grads(part, ops::one_sequence(len), 16, grad_out.narrow(0, start, len).contiguous());
      alone.out.narrow(0, start, len).copy_(r.out);
      for (size_t i = 0; i < in.size(); ++i) {
        if (per_frame[i]) {
          alone.grads[i].narrow(0, start, len).copy_(r.grads[i]);
        } else {
          std::vector<double> sum = alone.grads[i].to_vector<double>(), add = r.grads[i].to_vector<double>();
          for (size_t k = 0; k < sum.size(); ++k) sum[k] += add[k];
          alone.grads[i] = Tensor::from_vector<double>(sum, in[i].shape());
        }
      }
    }
    // A lone short sequence may run on one thread, which adds dB and dC over channels in another order.
    expect_same(together, alone, 1e-12);
  }
}

// The thread count changes no bit, under every ISA: dB and dC add up channel groups in a fixed order.
TEST(SelectiveScan, ThreadCountChangesNoBit) {
  const int64_t T = 300, E = 70;
  const Inputs in = scan_inputs(T, E, 5, 70);
  const Tensor grad_out = test::random_tensor({T, E}, 78);
  const int before = omp_get_max_threads();
  for (ops::CpuIsa isa : available_isas()) {
    SCOPED_TRACE(ops::cpu_isa_name(isa));
    ops::CpuIsaGuard use(isa);
    for (const Inputs& values : {in, to_f32(in)}) {
      omp_set_num_threads(1);
      Result one = run_with_grads(values, {0, 100, 300}, 64, grad_out.to(values[0].dtype()));
      omp_set_num_threads(3);  // 3 channel groups over 3 threads, and the blocks of 70 channels do not divide evenly
      Result three = run_with_grads(values, {0, 100, 300}, 64, grad_out.to(values[0].dtype()));
      expect_same(one, three, 0);
    }
  }
  omp_set_num_threads(before);
}

// A fast path against the reference loops, float32 and float64, at sizes that leave partial vectors (E not a
// multiple of any vector width, N not a multiple of 8), a 1-frame sequence, chunk boundaries inside sequences, and
// the model's shape. Tolerances: docs/TESTING.md (the measured worst error, rounded up to the next power of two).
TEST(SelectiveScanFastPath, MatchesReferenceLoops) {
  const std::vector<ops::CpuIsa> isas = available_isas();
  if (isas.size() == 1) GTEST_SKIP() << "no fast path on this build or CPU (baseline only)";
  struct Size {
    int64_t T, E, N, chunk;
    ops::SeqOffsets seq_offsets;
  };
  const Size sizes[] = {{1, 1, 1, 2048, {0, 1}},         {9, 3, 2, 4, {0, 1, 6, 9}}, {40, 7, 5, 8, {0, 40}},
                        {70, 9, 17, 16, {0, 1, 30, 70}}, {64, 33, 16, 7, {0, 64}},   {129, 70, 16, 32, {0, 5, 129}},
                        {600, 512, 16, 256, {0, 600}}};
  for (ops::CpuIsa isa : isas) {
    if (isa == ops::CpuIsa::baseline) continue;
    for (const Size& size : sizes) {
      SCOPED_TRACE(std::string(ops::cpu_isa_name(isa)) + " T " + std::to_string(size.T) + " E " +
                   std::to_string(size.E) + " N " + std::to_string(size.N));
      const Inputs in = scan_inputs(size.T, size.E, size.N, 90 + uint64_t(size.E));
      const Tensor grad_out = test::random_tensor({size.T, size.E}, 99);
      for (const Inputs& values : {to_f32(in), in}) {
        const bool f32 = values[0].dtype() == DType::f32;
        const Tensor g = grad_out.to(values[0].dtype());
        Result reference;
        {
          ops::CpuIsaGuard use(ops::CpuIsa::baseline);
          reference = run_with_grads(values, size.seq_offsets, size.chunk, g);
        }
        ops::CpuIsaGuard use(isa);
        const Result fast = run_with_grads(values, size.seq_offsets, size.chunk, g);
        const double tol = f32 ? std::ldexp(1.0, -21) : std::ldexp(1.0, -49);  // 4.8e-7, 1.8e-15
        EXPECT_LE(scaled_error(fast.out, reference.out), tol) << (f32 ? "f32" : "f64") << " out";
        for (size_t i = 0; i < fast.grads.size(); ++i)
          EXPECT_LE(scaled_error(fast.grads[i], reference.grads[i]), tol)
              << (f32 ? "f32" : "f64") << " gradient of " << kNames[i];
        if (std::getenv("ERC_PRINT_ERRORS") != nullptr) {
          std::printf("%s %s T %ld E %ld N %ld out %.3g", ops::cpu_isa_name(isa), f32 ? "f32" : "f64", long(size.T),
                      long(size.E), long(size.N), scaled_error(fast.out, reference.out));
          for (size_t i = 0; i < fast.grads.size(); ++i)
            std::printf(" %s %.3g", kNames[i], scaled_error(fast.grads[i], reference.grads[i]));
          std::printf("\n");
        }
      }
    }
  }
}

TEST(SelectiveScanFastPath, UnavailableIsaIsAnErrorNamingTheAvailableOnes) {
  for (ops::CpuIsa isa : {ops::CpuIsa::avx2, ops::CpuIsa::avx512}) {
    if (ops::cpu_isa_available(isa)) continue;
    try {
      ops::CpuIsaGuard use(isa);
      ADD_FAILURE() << ops::cpu_isa_name(isa) << " was accepted";
    } catch (const std::exception& e) {
      EXPECT_NE(std::string(e.what()).find("available: baseline"), std::string::npos) << e.what();
    }
  }
  EXPECT_TRUE(ops::cpu_isa_available(ops::CpuIsa::baseline));
}

TEST(SelectiveScan, NoGradRunsForwardOnly) {
  Inputs in = scan_inputs(20, 3, 2, 80);
  Tensor with_graph = run(in, {0, 8, 20}, 4);
  NoGradGuard no_grad;
  Tensor without = run(in, {0, 8, 20}, 4);
  EXPECT_FALSE(without.requires_grad());
  EXPECT_TRUE(allclose(without, with_graph.detach(), 0, 0));
}

TEST(SelectiveScan, SavedStateCount) {
  EXPECT_EQ(ops::selective_scan_saved_states({0, 1, 6, 9}, 4), 1);  // only the 5-frame sequence has a boundary
  EXPECT_EQ(ops::selective_scan_saved_states({0, 2048}, 2048), 0);
  EXPECT_EQ(ops::selective_scan_saved_states({0, 2049}, 2048), 1);
  EXPECT_EQ(ops::selective_scan_saved_states({0, 14776}, 2048), 7);
  EXPECT_EQ(ops::selective_scan_saved_states({0, 3, 3000, 9000}, 1000), 2 + 5);
}

TEST(SelectiveScan, MisuseErrors) {
  Inputs in = scan_inputs(9, 3, 2, 90);
  auto with = [&](size_t i, const Tensor& bad) {
    Inputs x = in;
    x[i] = bad;
    return [x] { run(x, ops::one_sequence(9), 4); };
  };
  EXPECT_TRUE(test::error_mentions(with(1, Tensor::zeros({9, 4}, DType::f64)), {"delta", "[9, 3]", "[9, 4]"}));
  EXPECT_TRUE(test::error_mentions(with(6, Tensor::zeros({8, 3}, DType::f64)), {"z", "[9, 3]", "[8, 3]"}));
  EXPECT_TRUE(test::error_mentions(with(2, Tensor::zeros({4, 2}, DType::f64)), {"A", "[3, 2]", "[4, 2]"}));
  EXPECT_TRUE(test::error_mentions(with(3, Tensor::zeros({9, 3}, DType::f64)), {"B", "[9, 2]", "[9, 3]"}));
  EXPECT_TRUE(test::error_mentions(with(4, Tensor::zeros({2, 9}, DType::f64)), {"C", "[9, 2]", "[2, 9]"}));
  EXPECT_TRUE(test::error_mentions(with(5, Tensor::zeros({3, 1}, DType::f64)), {"D", "[3]", "[3, 1]"}));
  EXPECT_TRUE(test::error_mentions(with(7, Tensor::zeros({2}, DType::f64)), {"delta_bias", "[3]", "[2]"}));
  EXPECT_TRUE(test::error_mentions(with(0, Tensor::zeros({9}, DType::f64)), {"u", "[9]"}));
  EXPECT_TRUE(test::error_mentions(with(3, Tensor::zeros({9, 2}, DType::f32)), {"B", "f32", "f64"}));
  EXPECT_TRUE(test::error_mentions([&] { run(in, {0, 5}, 4); }, {"seq_offsets", "9"}));
  EXPECT_TRUE(test::error_mentions([&] { run(in, {0, 5, 5, 9}, 4); }, {"seq_offsets", "5, 5"}));
  EXPECT_TRUE(test::error_mentions([&] { run(in, ops::one_sequence(9), 0); }, {"chunk_size", "0"}));
}
