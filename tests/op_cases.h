// The registry of op cases at awkward sizes: T = 1, 2, a prime, 2047 / 2048 / 2049 (the scan's chunk and the
// attention's block edges), 26,684 (a long IEMOCAP conversation), packed batches and non-contiguous inputs.
// test_op_cases runs every case in float32 against float64 on the CPU; the CUDA parity test of the CUDA backend
// runs the same cases CPU against GPU, so a size that breaks a kernel is added here, once, for both.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "ops/attention.h"
#include "ops/binary.h"
#include "ops/causal_conv1d.h"
#include "ops/cross_entropy.h"
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
  std::string name;                                              // e.g. "layer_norm T=2049"
  std::function<std::vector<Tensor>(uint64_t seed)> make_inputs;  // f64 (floating) leaves, or i64
  std::function<Tensor(const std::vector<Tensor>&)> op;
};

// Sequence boundaries for T frames: one sequence when short, else a 1-frame one, a middle one and the rest.
inline ops::SeqOffsets packing(int64_t T) {
  if (T < 4) return {0, T};
  return {0, 1, 1 + T / 3, T};
}

inline std::vector<OpCase> op_cases() {
  std::vector<OpCase> cases;
  auto add = [&](const std::string& op_name, int64_t T, std::function<std::vector<Tensor>(uint64_t)> inputs,
                 std::function<Tensor(const std::vector<Tensor>&)> op) {
    cases.push_back({op_name + " T=" + std::to_string(T), std::move(inputs), std::move(op)});
  };
  auto u = [](Shape shape, uint64_t seed, double lo = -1, double hi = 1) {
    return random_tensor(shape, seed, lo, hi, DType::f64, true);
  };
  for (int64_t T : {1, 2, 13, 2047, 2048, 2049}) {
    add("add broadcast", T, [=](uint64_t s) { return std::vector<Tensor>{u({T, 5}, s), u({5}, s + 1)}; },
        [](const std::vector<Tensor>& x) { return ops::add(x[0], x[1]); });
    add("mul broadcast", T, [=](uint64_t s) { return std::vector<Tensor>{u({T, 5}, s), u({T, 1}, s + 1)}; },
        [](const std::vector<Tensor>& x) { return ops::mul(x[0], x[1]); });
    add("sum over frames", T, [=](uint64_t s) { return std::vector<Tensor>{u({T, 3}, s)}; },
        [](const std::vector<Tensor>& x) { return ops::sum(x[0], {0}); });
    add("softmax over frames", T, [=](uint64_t s) { return std::vector<Tensor>{u({T, 3}, s, -3, 3)}; },
        [](const std::vector<Tensor>& x) { return ops::softmax(x[0], 0); });
    add("log_softmax", T, [=](uint64_t s) { return std::vector<Tensor>{u({T, 6}, s, -3, 3)}; },
        [](const std::vector<Tensor>& x) { return ops::log_softmax(x[0], 1); });
    add("layer_norm", T, [=](uint64_t s) { return std::vector<Tensor>{u({T, 33}, s), u({33}, s + 1), u({33}, s + 2)}; },
        [](const std::vector<Tensor>& x) { return ops::layer_norm(x[0], x[1], x[2]); });
    add("layer_norm non-contiguous", T,
        [=](uint64_t s) { return std::vector<Tensor>{u({33, T}, s), u({33}, s + 1), u({33}, s + 2)}; },
        [](const std::vector<Tensor>& x) { return ops::layer_norm(ops::transpose(x[0], 0, 1), x[1], x[2]); });
    add("silu gelu softplus sigmoid", T, [=](uint64_t s) { return std::vector<Tensor>{u({T, 9}, s, -4, 4)}; },
        [](const std::vector<Tensor>& x) {
          return ops::add(ops::add(ops::silu(x[0]), ops::gelu(x[0])), ops::mul(ops::softplus(x[0]), ops::sigmoid(x[0])));
        });
    add("linear", T, [=](uint64_t s) { return std::vector<Tensor>{u({T, 17}, s), u({11, 17}, s + 1), u({11}, s + 2)}; },
        [](const std::vector<Tensor>& x) { return ops::linear(x[0], x[1], x[2]); });
    add("linear non-contiguous", T,
        [=](uint64_t s) { return std::vector<Tensor>{u({17, T}, s), u({17, 11}, s + 1), u({11}, s + 2)}; },
        [](const std::vector<Tensor>& x) {
          return ops::linear(ops::transpose(x[0], 0, 1), ops::transpose(x[1], 0, 1), x[2]);
        });
    add("cross_entropy with ignored", T,
        [=](uint64_t s) {
          std::vector<int64_t> targets(static_cast<size_t>(T));
          for (int64_t t = 0; t < T; ++t) targets[size_t(t)] = t % 7 == 3 ? -100 : (t * 5 + int64_t(s)) % 6;
          return std::vector<Tensor>{u({T, 6}, s, -3, 3), Tensor::from_vector(targets, {T})};
        },
        [](const std::vector<Tensor>& x) { return ops::cross_entropy(x[0], x[1]); });
    add("relative_position_attention packed", T,
        [=](uint64_t s) {
          return std::vector<Tensor>{u({T, 8}, s), u({T, 8}, s + 1), u({T, 8}, s + 2), u({T, 2}, s + 3, 0.5, 2),
                                     u({32, 2}, s + 4)};
        },
        [T](const std::vector<Tensor>& x) {
          return ops::relative_position_attention(x[0], x[1], x[2], x[3], x[4], packing(T), ops::RelativeBuckets{32, 40});
        });
  }
  for (int64_t T : {1, 2, 13, 2047, 2048, 2049, 26684}) {
    add("causal_conv1d packed", T,
        [=](uint64_t s) { return std::vector<Tensor>{u({T, 6}, s), u({6, 1, 4}, s + 1), u({6}, s + 2)}; },
        [T](const std::vector<Tensor>& x) { return ops::causal_conv1d(x[0], x[1], x[2], packing(T)); });
    add("selective_scan packed", T,
        [=](uint64_t s) {
          return std::vector<Tensor>{u({T, 6}, s),       u({T, 6}, s + 1, -3, 0), u({6, 4}, s + 2, -2, -0.1),
                                     u({T, 4}, s + 3),   u({T, 4}, s + 4),        u({6}, s + 5),
                                     u({T, 6}, s + 6),   u({6}, s + 7, -1, 0)};
        },
        [T](const std::vector<Tensor>& x) {
          return ops::selective_scan(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], packing(T));
        });
    add("segment_mean", T, [=](uint64_t s) { return std::vector<Tensor>{u({T, 5}, s)}; },
        [T](const std::vector<Tensor>& x) { return ops::segment_mean(x[0], packing(T)); });
    add("flip_sequences", T, [=](uint64_t s) { return std::vector<Tensor>{u({T, 4}, s)}; },
        [T](const std::vector<Tensor>& x) { return ops::flip_sequences(x[0], packing(T)); });
  }
  return cases;
}

}  // namespace erc::test
