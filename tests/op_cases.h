// The registry of op cases: every op of ops/ at awkward sizes (T = 1, 2, a prime, 2047 / 2048 / 2049: the scan's
// chunk and the attention's block edges, 26,684: a long IEMOCAP conversation), packed batches, broadcast and
// non-contiguous inputs. Two suites run every case, each case its own GoogleTest test:
//   test_op_cases   CPU float32 against CPU float64, output and every input gradient (the bound below);
//   test_cuda_ops   CUDA against CPU in float64 and float32, and CUDA against itself under another schedule.
// A size that breaks a kernel is added here, once, for both. A new op comes with its cases.
//
// Bounds are relative errors |a - b|_2 / |b|_2 (with a floor of 1e-6 RMS for a gradient that is exactly zero in
// float64), measured and recorded in docs/TESTING.md; 0 means exact: the float32 result is the float64 one rounded
// (an op that only moves or selects elements), and CUDA gives the CPU's bits.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ops/attention.h"
#include "ops/binary.h"
#include "ops/causal_conv1d.h"
#include "ops/conv1d.h"
#include "ops/cross_entropy.h"
#include "ops/dropout.h"
#include "ops/index.h"
#include "ops/join.h"
#include "ops/layer_norm.h"
#include "ops/matmul.h"
#include "ops/packed.h"
#include "ops/reduce.h"
#include "ops/segment_mean.h"
#include "ops/selective_scan.h"
#include "ops/shape.h"
#include "ops/softmax.h"
#include "ops/unary.h"
#include "test_util.h"

namespace erc::test {

struct OpCase {
  std::string op;    // the op under test, e.g. "layer_norm"
  std::string name;  // a GoogleTest name: op, variant and size, e.g. "layer_norm_noncontiguous_T2049"
  std::function<std::vector<Tensor>(uint64_t seed)> make_inputs;  // f64 leaves that require grad, or i64
  std::function<Tensor(const std::vector<Tensor>&)> run;
  double f32_bound;  // float32 against float64; 0: exact
  bool cuda;         // the op has CUDA kernels: test_cuda_ops compares them with the CPU
};

// Sequence boundaries for T frames: one sequence when short, else a 1-frame one, a middle one and the rest.
inline ops::SeqOffsets packing(int64_t T) {
  if (T < 4) return {0, T};
  return {0, 1, 1 + T / 3, T};
}

// A f64 leaf whose values are distinct, 1/(n+1) apart, in a seeded order: max has one clear winner per row, so
// float32 and float64 pick the same element.
inline Tensor distinct_leaf(const Shape& shape, uint64_t seed) {
  const int64_t n = shape_numel(shape);
  std::vector<double> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[size_t(i)] = double(i + 1) / double(n + 1) - 0.5;
  Generator gen(seed);
  for (int64_t i = n - 1; i > 0; --i) std::swap(values[size_t(i)], values[gen.next_index(uint64_t(i + 1))]);
  Tensor t = Tensor::from_vector(values, shape);
  t.set_requires_grad(true);
  return t;
}

// i64 values v(i) for i in [0, n), as a [n] tensor.
inline Tensor index_tensor(int64_t n, const std::function<int64_t(int64_t)>& v) {
  std::vector<int64_t> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[size_t(i)] = v(i);
  return Tensor::from_vector(values, {n});
}

// One case per line or two, so that the registry reads as a table (clang-format would give each lambda its own lines).
// clang-format off
inline std::vector<OpCase> op_cases() {
  using Inputs = std::vector<Tensor>;
  std::vector<OpCase> cases;
  auto u = [](Shape shape, uint64_t seed, double lo = -1, double hi = 1) {
    return random_tensor(shape, seed, lo, hi, DType::f64, true);
  };
  // add(op, variant, T, bound, cuda, inputs, run)
  auto add = [&](const std::string& op, const std::string& variant, int64_t T, double f32_bound, bool cuda,
                 std::function<Inputs(uint64_t)> inputs, std::function<Tensor(const Inputs&)> run) {
    cases.push_back({op, op + (variant.empty() ? "" : "_" + variant) + "_T" + std::to_string(T), std::move(inputs),
                     std::move(run), f32_bound, cuda});
  };
  constexpr bool kCuda = true, kCpuOnly = false;

  for (int64_t T : {1, 2, 13, 2047, 2048, 2049}) {
    // Element-wise arithmetic: broadcasting in every direction, a non-contiguous operand.
    add("add", "broadcast", T, 2e-7, kCuda, [=](uint64_t s) { return Inputs{u({T, 5}, s), u({5}, s + 1)}; },
        [](const Inputs& x) { return ops::add(x[0], x[1]); });
    add("add", "noncontiguous", T, 2e-7, kCuda, [=](uint64_t s) { return Inputs{u({5, T}, s), u({T, 5}, s + 1)}; },
        [](const Inputs& x) { return ops::add(ops::transpose(x[0], 0, 1), x[1]); });
    add("sub", "outer", T, 2e-7, kCuda, [=](uint64_t s) { return Inputs{u({T, 1}, s), u({1, 5}, s + 1)}; },
        [](const Inputs& x) { return ops::sub(x[0], x[1]); });
    add("mul", "broadcast", T, 2e-7, kCuda, [=](uint64_t s) { return Inputs{u({T, 5}, s), u({T, 1}, s + 1)}; },
        [](const Inputs& x) { return ops::mul(x[0], x[1]); });
    add("div", "broadcast", T, 5e-7, kCuda, [=](uint64_t s) { return Inputs{u({T, 5}, s), u({5}, s + 1, 0.5, 2)}; },
        [](const Inputs& x) { return ops::div(x[0], x[1]); });
    add("neg", "", T, 0, kCuda, [=](uint64_t s) { return Inputs{u({T, 3}, s)}; },
        [](const Inputs& x) { return ops::neg(x[0]); });
    add("add_scalar", "", T, 2e-7, kCuda, [=](uint64_t s) { return Inputs{u({T, 3}, s)}; },
        [](const Inputs& x) { return ops::add_scalar(x[0], 0.3); });
    add("mul_scalar", "", T, 2e-7, kCuda, [=](uint64_t s) { return Inputs{u({T, 3}, s)}; },
        [](const Inputs& x) { return ops::mul_scalar(x[0], -1.7); });

    // Element-wise functions, each over a range that reaches its branches (softplus's threshold of 20).
    add("exp", "", T, 3e-7, kCuda, [=](uint64_t s) { return Inputs{u({T, 9}, s, -4, 4)}; },
        [](const Inputs& x) { return ops::exp(x[0]); });
    add("log", "", T, 2e-7, kCuda, [=](uint64_t s) { return Inputs{u({T, 9}, s, 0.1, 3)}; },
        [](const Inputs& x) { return ops::log(x[0]); });
    add("sqrt", "", T, 2e-7, kCuda, [=](uint64_t s) { return Inputs{u({T, 9}, s, 0.1, 3)}; },
        [](const Inputs& x) { return ops::sqrt(x[0]); });
    add("pow", "", T, 2e-7, kCuda, [=](uint64_t s) { return Inputs{u({T, 9}, s, 0.1, 3)}; },
        [](const Inputs& x) { return ops::pow(x[0], 2.5); });
    add("sigmoid", "", T, 1e-5, kCuda, [=](uint64_t s) { return Inputs{u({T, 9}, s, -30, 30)}; },
        [](const Inputs& x) { return ops::sigmoid(x[0]); });
    add("tanh", "", T, 3e-7, kCuda, [=](uint64_t s) { return Inputs{u({T, 9}, s, -4, 4)}; },
        [](const Inputs& x) { return ops::tanh(x[0]); });
    add("relu", "", T, 0, kCuda, [=](uint64_t s) { return Inputs{u({T, 9}, s)}; },
        [](const Inputs& x) { return ops::relu(x[0]); });
    add("silu", "", T, 5e-7, kCuda, [=](uint64_t s) { return Inputs{u({T, 9}, s, -8, 8)}; },
        [](const Inputs& x) { return ops::silu(x[0]); });
    add("gelu", "", T, 2e-7, kCuda, [=](uint64_t s) { return Inputs{u({T, 9}, s, -5, 5)}; },
        [](const Inputs& x) { return ops::gelu(x[0]); });
    add("softplus", "", T, 3e-7, kCuda, [=](uint64_t s) { return Inputs{u({T, 9}, s, -25, 25)}; },
        [](const Inputs& x) { return ops::softplus(x[0]); });

    // Reductions: over the frames (long rows), over everything, over a short last dim, un-broadcasting.
    add("sum", "frames", T, 2e-7, kCuda, [=](uint64_t s) { return Inputs{u({T, 3}, s)}; },
        [](const Inputs& x) { return ops::sum(x[0], {0}); });
    add("sum", "all", T, 2e-6, kCuda, [=](uint64_t s) { return Inputs{u({T, 7}, s)}; },
        [](const Inputs& x) { return ops::sum(x[0]); });
    add("mean", "last_keepdim", T, 3e-7, kCuda, [=](uint64_t s) { return Inputs{u({T, 6}, s)}; },
        [](const Inputs& x) { return ops::mean(x[0], {1}, true); });
    add("mean", "frames", T, 3e-7, kCuda, [=](uint64_t s) { return Inputs{u({2, T, 3}, s)}; },
        [](const Inputs& x) { return ops::mean(x[0], {1}); });
    add("max", "frames", T, 0, kCuda, [=](uint64_t s) { return Inputs{distinct_leaf({T, 3}, s)}; },
        [](const Inputs& x) { return ops::max(x[0], 0); });
    add("max", "last", T, 0, kCuda, [=](uint64_t s) { return Inputs{distinct_leaf({T, 6}, s)}; },
        [](const Inputs& x) { return ops::max(x[0], 1, true); });
    add("sum_to", "", T, 3e-7, kCuda, [=](uint64_t s) { return Inputs{u({T, 5}, s)}; },
        [](const Inputs& x) { return ops::sum_to(x[0], {1, 5}); });

    // Softmax over short rows (one thread per row on the GPU) and long ones (a block per row).
    add("softmax", "frames", T, 1e-6, kCuda, [=](uint64_t s) { return Inputs{u({T, 3}, s, -3, 3)}; },
        [](const Inputs& x) { return ops::softmax(x[0], 0); });
    add("softmax", "short_rows", T, 2e-7, kCuda, [=](uint64_t s) { return Inputs{u({T, 6}, s, -3, 3)}; },
        [](const Inputs& x) { return ops::softmax(x[0], 1); });
    add("log_softmax", "short_rows", T, 2e-7, kCuda, [=](uint64_t s) { return Inputs{u({T, 6}, s, -3, 3)}; },
        [](const Inputs& x) { return ops::log_softmax(x[0], 1); });
    add("log_softmax", "long_rows", T, 2e-7, kCuda, [=](uint64_t s) { return Inputs{u({3, T}, s, -3, 3)}; },
        [](const Inputs& x) { return ops::log_softmax(x[0], 1); });

    // Views and layout: exact, forward and backward (expand's backward sums).
    add("reshape", "", T, 0, kCuda, [=](uint64_t s) { return Inputs{u({T, 6}, s)}; },
        [T](const Inputs& x) { return ops::reshape(x[0], {T * 2, 3}); });
    add("permute", "", T, 0, kCuda, [=](uint64_t s) { return Inputs{u({T, 2, 3}, s)}; },
        [](const Inputs& x) { return ops::contiguous(ops::permute(x[0], {2, 0, 1})); });
    add("transpose", "", T, 0, kCuda, [=](uint64_t s) { return Inputs{u({T, 4}, s)}; },
        [](const Inputs& x) { return ops::transpose(x[0], 0, 1); });
    add("slice", "", T, 0, kCuda, [=](uint64_t s) { return Inputs{u({T, 7}, s)}; },
        [](const Inputs& x) { return ops::slice(x[0], 1, 2, 3); });
    add("expand", "", T, 2e-7, kCuda, [=](uint64_t s) { return Inputs{u({T, 1}, s)}; },
        [T](const Inputs& x) { return ops::expand(x[0], {T, 4}); });
    add("contiguous", "", T, 0, kCuda, [=](uint64_t s) { return Inputs{u({4, T}, s)}; },
        [](const Inputs& x) { return ops::contiguous(ops::transpose(x[0], 0, 1)); });

    // Joining and reversing.
    add("cat", "last", T, 0, kCuda, [=](uint64_t s) { return Inputs{u({T, 3}, s), u({T, 2}, s + 1)}; },
        [](const Inputs& x) { return ops::cat({x[0], x[1]}, 1); });
    add("cat", "frames", T, 0, kCuda, [=](uint64_t s) { return Inputs{u({T, 3}, s), u({2, 3}, s + 1)}; },
        [](const Inputs& x) { return ops::cat({x[0], x[1]}, 0); });
    add("stack", "", T, 0, kCuda, [=](uint64_t s) { return Inputs{u({T, 3}, s), u({T, 3}, s + 1)}; },
        [](const Inputs& x) { return ops::stack({x[0], x[1]}, 1); });
    add("flip", "", T, 0, kCpuOnly, [=](uint64_t s) { return Inputs{u({T, 3}, s)}; },
        [](const Inputs& x) { return ops::flip(x[0], {0, 1}); });

    // Indexing by i64 tensors, with repeated indices (their gradients add up).
    add("embedding", "", T, 1e-6, kCpuOnly,
        [=](uint64_t s) { return Inputs{u({10, 4}, s), index_tensor(T, [](int64_t i) { return (i * 7) % 10; })}; },
        [](const Inputs& x) { return ops::embedding(x[0], x[1]); });
    add("index_select", "", T, 3e-7, kCpuOnly,
        [=](uint64_t s) { return Inputs{u({T, 3}, s), index_tensor(T + 2, [T](int64_t i) { return (i * 5) % T; })}; },
        [](const Inputs& x) { return ops::index_select(x[0], 0, x[1]); });
    add("gather", "", T, 1e-7, kCpuOnly,
        [=](uint64_t s) {
          return Inputs{u({T, 4}, s), index_tensor(T * 3, [](int64_t i) { return (i * 3) % 4; }).reshape({T, 3})};
        },
        [](const Inputs& x) { return ops::gather(x[0], 1, x[1]); });

    // The losses and layers of the model.
    add("cross_entropy", "ignored", T, 2e-7, kCuda,
        [=](uint64_t s) {
          return Inputs{u({T, 6}, s, -3, 3),
                        index_tensor(T, [s](int64_t t) { return t % 7 == 3 ? -100 : (t * 5 + int64_t(s)) % 6; })};
        },
        [](const Inputs& x) { return ops::cross_entropy(x[0], x[1]); });
    add("cross_entropy", "all_ignored", T, 0, kCuda,
        [=](uint64_t s) { return Inputs{u({T, 6}, s, -3, 3), index_tensor(T, [](int64_t) { return -100; })}; },
        [](const Inputs& x) { return ops::cross_entropy(x[0], x[1]); });
    add("dropout", "", T, 2e-7, kCuda, [=](uint64_t s) { return Inputs{u({T, 9}, s)}; },
        [](const Inputs& x) {
          Generator gen(11);
          return ops::dropout(x[0], 0.25, true, gen);
        });
    add("layer_norm", "", T, 2e-7, kCuda,
        [=](uint64_t s) { return Inputs{u({T, 33}, s), u({33}, s + 1), u({33}, s + 2)}; },
        [](const Inputs& x) { return ops::layer_norm(x[0], x[1], x[2]); });
    add("layer_norm", "noncontiguous", T, 2e-7, kCuda,
        [=](uint64_t s) { return Inputs{u({33, T}, s), u({33}, s + 1), u({33}, s + 2)}; },
        [](const Inputs& x) { return ops::layer_norm(ops::transpose(x[0], 0, 1), x[1], x[2]); });
    add("matmul", "", T, 1e-6, kCuda, [=](uint64_t s) { return Inputs{u({T, 17}, s), u({17, 11}, s + 1)}; },
        [](const Inputs& x) { return ops::matmul(x[0], x[1]); });
    add("matmul", "transposed", T, 1e-6, kCuda, [=](uint64_t s) { return Inputs{u({17, T}, s), u({11, 17}, s + 1)}; },
        [](const Inputs& x) { return ops::matmul(ops::transpose(x[0], 0, 1), ops::transpose(x[1], 0, 1)); });
    add("bmm", "", T, 1e-6, kCuda, [=](uint64_t s) { return Inputs{u({3, T, 7}, s), u({3, 7, 5}, s + 1)}; },
        [](const Inputs& x) { return ops::bmm(x[0], x[1]); });
    add("linear", "", T, 1e-6, kCuda,
        [=](uint64_t s) { return Inputs{u({T, 17}, s), u({11, 17}, s + 1), u({11}, s + 2)}; },
        [](const Inputs& x) { return ops::linear(x[0], x[1], x[2]); });
    add("linear", "noncontiguous", T, 1e-6, kCuda,
        [=](uint64_t s) { return Inputs{u({17, T}, s), u({17, 11}, s + 1), u({11}, s + 2)}; },
        [](const Inputs& x) { return ops::linear(ops::transpose(x[0], 0, 1), ops::transpose(x[1], 0, 1), x[2]); });
    add("conv1d", "strided_grouped", T, 1e-6, kCuda,
        [=](uint64_t s) { return Inputs{u({2, 4, T + 2}, s), u({6, 2, 5}, s + 1), u({6}, s + 2)}; },
        [](const Inputs& x) { return ops::conv1d(x[0], x[1], x[2], 2, 2, 2); });
    add("relative_position_attention", "packed", T, 3e-6, kCuda,
        [=](uint64_t s) {
          return Inputs{u({T, 8}, s), u({T, 8}, s + 1), u({T, 8}, s + 2), u({T, 2}, s + 3, 0.5, 2), u({32, 2}, s + 4)};
        },
        [T](const Inputs& x) {
          return ops::relative_position_attention(x[0], x[1], x[2], x[3], x[4], packing(T), ops::RelativeBuckets{32, 40});
        });
  }
  for (int64_t T : {1, 2, 13, 2047, 2048, 2049, 26684}) {
    add("causal_conv1d", "packed", T, 3e-7, kCuda,
        [=](uint64_t s) { return Inputs{u({T, 6}, s), u({6, 1, 4}, s + 1), u({6}, s + 2)}; },
        [T](const Inputs& x) { return ops::causal_conv1d(x[0], x[1], x[2], packing(T)); });
    add("selective_scan", "packed", T, 2e-6, kCuda,
        [=](uint64_t s) {
          return Inputs{u({T, 6}, s), u({T, 6}, s + 1, -3, 0), u({6, 4}, s + 2, -2, -0.1), u({T, 4}, s + 3),
                        u({T, 4}, s + 4), u({6}, s + 5), u({T, 6}, s + 6), u({6}, s + 7, -1, 0)};
        },
        [T](const Inputs& x) {
          return ops::selective_scan(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], packing(T));
        });
    add("segment_mean", "", T, 2e-7, kCuda, [=](uint64_t s) { return Inputs{u({T, 5}, s)}; },
        [T](const Inputs& x) { return ops::segment_mean(x[0], packing(T)); });
    add("flip_sequences", "", T, 0, kCuda, [=](uint64_t s) { return Inputs{u({T, 4}, s)}; },
        [T](const Inputs& x) { return ops::flip_sequences(x[0], packing(T)); });
  }
  // The device scans chunks of 32 frames in blocks of 64 channels: one sequence at the chunk's edges, with more
  // channels than a block holds and the model's 16 states.
  for (int64_t T : {31, 32, 33, 65}) {
    add("selective_scan", "wide", T, 2e-6, kCuda,
        [=](uint64_t s) {
          return Inputs{u({T, 70}, s), u({T, 70}, s + 1, -3, 0), u({70, 16}, s + 2, -2, -0.1), u({T, 16}, s + 3),
                        u({T, 16}, s + 4), u({70}, s + 5), u({T, 70}, s + 6), u({70}, s + 7, -1, 0)};
        },
        [T](const Inputs& x) {
          return ops::selective_scan(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], ops::one_sequence(T));
        });
  }
  // Frames-major inputs, [B, L, C_in] seen as [B, C_in, L] (conv1d's fast path): read in place (no padding, one
  // group), and copied per group with padding. Last, so that the cases above keep their indices and seeds.
  for (int64_t T : {1, 2, 13, 2047, 2048, 2049}) {
    add("conv1d", "frames_major", T, 1e-6, kCuda,
        [=](uint64_t s) { return Inputs{u({2, T + 2, 5}, s), u({3, 5, 3}, s + 1), u({3}, s + 2)}; },
        [](const Inputs& x) { return ops::conv1d(ops::transpose(x[0], 1, 2), x[1], x[2], 2); });
    add("conv1d", "frames_major_grouped", T, 1e-6, kCuda,
        [=](uint64_t s) { return Inputs{u({2, T + 2, 4}, s), u({6, 2, 5}, s + 1), u({6}, s + 2)}; },
        [](const Inputs& x) { return ops::conv1d(ops::transpose(x[0], 1, 2), x[1], x[2], 2, 2, 2); });
  }
  // The attention at WavLM's head width (64: two dimensions per lane on the device), its last sequence 31, 32 and 33
  // frames long (the device's tile of 32 keys); and, at the narrow width, a 30 s utterance (1,499 frames) packed after
  // a 1-frame one.
  for (int64_t T : {48, 49, 50}) {
    add("relative_position_attention", "wide", T, 3e-6, kCuda,
        [=](uint64_t s) {
          return Inputs{u({T, 128}, s), u({T, 128}, s + 1), u({T, 128}, s + 2), u({T, 2}, s + 3, 0.5, 2),
                        u({320, 2}, s + 4)};
        },
        [T](const Inputs& x) {
          return ops::relative_position_attention(x[0], x[1], x[2], x[3], x[4], packing(T), ops::RelativeBuckets{320, 800});
        });
  }
  add("relative_position_attention", "thirty_seconds", 1500, 3e-6, kCuda,
      [=](uint64_t s) {
        return Inputs{u({1500, 8}, s), u({1500, 8}, s + 1), u({1500, 8}, s + 2), u({1500, 2}, s + 3, 0.5, 2),
                      u({320, 2}, s + 4)};
      },
      [](const Inputs& x) {
        return ops::relative_position_attention(x[0], x[1], x[2], x[3], x[4], ops::SeqOffsets{0, 1, 1500},
                                                ops::RelativeBuckets{320, 800});
      });
  return cases;
}
// clang-format on

// The registry, built once per process.
inline const std::vector<OpCase>& registry() {
  static const std::vector<OpCase> cases = op_cases();
  return cases;
}

// How far a result is from a reference: |a - b|_2 and |b|_2 over all elements, in double on the host.
struct Difference {
  double diff = 0, norm = 0;
  int64_t n = 0;
  double relative() const { return norm > 0 ? diff / norm : diff; }
};

inline Difference difference(const Tensor& actual, const Tensor& expected) {
  const auto a = actual.detach().to(Device::cpu).to(DType::f64).to_vector<double>();
  const auto e = expected.detach().to(Device::cpu).to(DType::f64).to_vector<double>();
  Difference d;
  d.n = int64_t(a.size());
  for (size_t i = 0; i < a.size(); ++i) d.diff += (a[i] - e[i]) * (a[i] - e[i]), d.norm += e[i] * e[i];
  d.diff = std::sqrt(d.diff), d.norm = std::sqrt(d.norm);
  return d;
}

// The float32 error a device's own math library can give an op. test_cuda_ops holds every kernel to the
// flash-attention rule (its error against float64 at most twice the CPU float32's) and never below this floor: 4 ulps
// (2.4e-7), or, where the op's transcendentals take more, the largest error over its cases in the simulator's ulp
// mode (every device transcendental moved by CUDA's documented maximum error: cuda/sim/device_math.h), doubled and
// rounded up (docs/TESTING.md).
inline double device_f32_floor(const std::string& op) {
  if (op == "exp") return 5e-7;             // measured 2.5e-7: expf is 2 ulps off
  if (op == "pow") return 1e-6;             // 4.1e-7: powf, 4 ulps
  if (op == "tanh") return 2e-6;            // 6.2e-7: tanhf, 2 ulps, and the slope 1 - y^2 made from y
  if (op == "selective_scan") return 5e-6;  // 1.8e-6: dA, over 26,684 frames of expf
  return 2.4e-7;
}

// Absolute floors (RMS) under every relative bound, for a gradient that is zero in exact arithmetic and only
// rounding noise in practice (attention over a single frame: ~1e-17 in float64, exactly 0 in float32).
constexpr double kFloor32 = 1e-8, kFloor64 = 1e-15;

// |a - b|_2 <= bound |b|_2 + floor sqrt(n).
inline bool within(const Difference& d, double bound, double floor) {
  return d.diff <= bound * d.norm + floor * std::sqrt(double(d.n));
}

}  // namespace erc::test
