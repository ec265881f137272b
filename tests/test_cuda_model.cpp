// The whole ErcModel on the device against the CPU: logits, loss and every parameter gradient on one conversation
// with unlabelled utterances, dropout active (the device draws the CPU's Philox masks), at a small width in the
// simulator (it runs in seconds) and at the paper's width on a GPU; then ten RAdamScheduleFree training steps, run
// twice on the device (the second time, in the simulator, under a shuffled schedule of threads and blocks), must give
// the same bits, and the same bits again with recompute_layers.
// Tolerances (docs/TESTING.md): the two faces differ only by the order of additions (the GEMMs, the device's
// per-chunk scan, its reductions). Measured in the simulator, as the largest error relative to each tensor's largest
// element: 1.9e-15 in float64, 3.2e-7 in float32 (a gradient of x_proj.weight); the bounds are 2e-14 and 1e-5.
// Runs on the simulator in a SIM build and on the GPU in a CUDA build with one; skips, saying why, without one.
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "autograd/backward.h"
#include "cuda/memory.h"
#include "cuda_test_util.h"
#include "nn/erc_model.h"
#include "ops/cross_entropy.h"
#include "optim/radam_schedule_free.h"
#include "test_util.h"

#ifdef ERC_CUDA_SIM
#include "cuda/sim/scheduler.h"
#endif

using namespace erc;

namespace {

constexpr int64_t kFeatureDim = 24;

// d_model 16 (d_inner 32, d_state 16, dt_rank 1) or the paper's 256.
nn::ErcModelConfig test_config(int64_t d_model = 16) {
  nn::ErcModelConfig config;
  config.feature_dim = kFeatureDim;
  config.mamba.d_model = d_model;
  return config;
}

// One conversation of 77 frames (more than two 32-frame scan chunks, not a multiple) in five utterances, two of them
// unlabelled (ignore_index -100).
struct Conversation {
  Tensor features = test::random_tensor({77, kFeatureDim}, 5, -1, 1, DType::f64);
  Tensor labels = Tensor::from_vector<int64_t>({2, -100, 0, -100, 5}, {5});
  ops::SeqOffsets seq_offsets{0, 77}, utt_offsets{0, 9, 31, 32, 60, 77};
};

struct Pass {
  Tensor logits, loss;
  std::vector<std::pair<std::string, Tensor>> grads;  // on the host
};

Pass forward_backward(DType dtype, Device device, int64_t d_model) {
  nn::ErcModel model(test_config(d_model), /*seed=*/3);
  model.to(dtype);
  model.to(device);
  model.train();
  const Conversation c;
  Pass pass;
  pass.logits = model.forward(c.features.to(dtype).to(device), c.seq_offsets, c.utt_offsets);
  pass.loss = ops::cross_entropy(pass.logits, c.labels.to(device));
  EXPECT_EQ(pass.loss.device(), device);
  backward(pass.loss);
  for (auto& [name, p] : model.named_parameters()) {
    EXPECT_TRUE(p.grad().defined()) << name;
    EXPECT_EQ(p.grad().device(), device) << name;
    pass.grads.emplace_back(name, p.grad().to(Device::cpu));
  }
  pass.logits = pass.logits.detach().to(Device::cpu);
  pass.loss = pass.loss.detach().to(Device::cpu);
  return pass;
}

// max |got - want| / max |want| over the tensor.
double relative_error(const Tensor& got, const Tensor& want) {
  const std::vector<double> g = got.to(DType::f64).to_vector<double>(), w = want.to(DType::f64).to_vector<double>();
  double max_error = 0, max_want = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    max_error = std::max(max_error, std::abs(g[i] - w[i]));
    max_want = std::max(max_want, std::abs(w[i]));
  }
  return max_error / std::max(max_want, 1e-300);
}

void expect_device_matches_cpu(DType dtype, int64_t d_model, double bound) {
  const Pass cpu = forward_backward(dtype, Device::cpu, d_model),
             device = forward_backward(dtype, Device::cuda, d_model);
  double largest = relative_error(device.logits, cpu.logits);
  EXPECT_LE(relative_error(device.logits, cpu.logits), bound) << "logits";
  EXPECT_LE(relative_error(device.loss, cpu.loss), bound) << "loss";
  ASSERT_EQ(device.grads.size(), cpu.grads.size());
  for (size_t i = 0; i < cpu.grads.size(); ++i) {
    const double e = relative_error(device.grads[i].second, cpu.grads[i].second);
    EXPECT_LE(e, bound) << cpu.grads[i].first;
    largest = std::max(largest, e);
  }
  if (std::getenv("ERC_PRINT_ERRORS"))
    std::printf("ErcModel d_model %lld %s: largest error %.3g\n", (long long)d_model, dtype_name(dtype), largest);
}

class CudaModel : public test::CudaTest {};

TEST_F(CudaModel, LogitsLossAndEveryGradientMatchCpuInFloat64) { expect_device_matches_cpu(DType::f64, 16, 2e-14); }

TEST_F(CudaModel, LogitsLossAndEveryGradientMatchCpuInFloat32) { expect_device_matches_cpu(DType::f32, 16, 1e-5); }

TEST_F(CudaModel, AtThePapersWidthLogitsLossAndEveryGradientMatchCpuInFloat64) {
  expect_device_matches_cpu(DType::f64, 256, 2e-14);
}

TEST_F(CudaModel, AtThePapersWidthLogitsLossAndEveryGradientMatchCpuInFloat32) {
  expect_device_matches_cpu(DType::f32, 256, 1e-5);
}

// The parameters after ten training steps on the device, alternating two conversations, on the host.
std::vector<Tensor> ten_steps_on_the_device(bool recompute_layers = false) {
  nn::ErcModelConfig config = test_config();
  config.recompute_layers = recompute_layers;
  nn::ErcModel model(config, /*seed=*/4);
  model.to(Device::cuda);
  optim::RAdamScheduleFree optimizer(model.parameters(), {.lr = 1e-3});
  optimizer.train();
  model.train();
  const Conversation c;
  const Tensor other = test::random_tensor({40, kFeatureDim}, 6, -1, 1, DType::f32).to(Device::cuda);
  for (int step = 0; step < 10; ++step) {
    optimizer.zero_grad();
    const bool first = step % 2 == 0;
    const Tensor logits = first
                              ? model.forward(c.features.to(DType::f32).to(Device::cuda), c.seq_offsets, c.utt_offsets)
                              : model.forward(other, {0, 40}, {0, 15, 40});
    const Tensor labels = first ? c.labels : Tensor::from_vector<int64_t>({1, 3}, {2});
    backward(ops::cross_entropy(logits, labels.to(Device::cuda)));
    optimizer.step();
  }
  optimizer.eval();
  std::vector<Tensor> params;
  for (const Tensor& p : model.parameters()) params.push_back(p.detach().to(Device::cpu));
  return params;
}

// A training step as erc_train runs it (features and labels up, forward, loss read by the host, backward, optimiser)
// waits for the device once: to read the loss. The uploads go through pinned staging, the scan's offset tables
// too, and cross_entropy counts its targets on the device.
TEST_F(CudaModel, ATrainingStepWaitsForTheDeviceOnlyToReadTheLoss) {
  nn::ErcModel model(test_config(), /*seed=*/4);
  model.to(Device::cuda);
  optim::RAdamScheduleFree optimizer(model.parameters(), {.lr = 1e-3});
  optimizer.train();
  model.train();
  const Conversation c;
  const Tensor features = c.features.to(DType::f32);
  for (int step = 0; step < 3; ++step) {
    const size_t before = cuda::host_waits();
    optimizer.zero_grad();
    const Tensor logits = model.forward(features.to(Device::cuda), c.seq_offsets, c.utt_offsets);
    const Tensor loss = ops::cross_entropy(logits, c.labels.to(Device::cuda));
    EXPECT_TRUE(std::isfinite(loss.detach().to(Device::cpu).item<float>()));
    backward(loss);
    optimizer.step();
    EXPECT_EQ(cuda::host_waits() - before, 1u) << "step " << step;
  }
}

TEST_F(CudaModel, TenTrainingStepsTwiceGiveTheSameBits) {
  const std::vector<Tensor> first = ten_steps_on_the_device();
#ifdef ERC_CUDA_SIM
  sim::set_schedule({sim::Order::shuffled, 23});
#endif
  const std::vector<Tensor> second = ten_steps_on_the_device();
#ifdef ERC_CUDA_SIM
  sim::set_schedule({});
#endif
  ASSERT_EQ(first.size(), second.size());
  for (size_t i = 0; i < first.size(); ++i)
    EXPECT_TRUE(test::same_bits(first[i], second[i])) << "parameter " << i << " differs between two runs";
}

TEST_F(CudaModel, RecomputedLayersGiveTheSameTenStepsOnTheDevice) {
  const std::vector<Tensor> plain = ten_steps_on_the_device(), recomputed = ten_steps_on_the_device(true);
  ASSERT_EQ(plain.size(), recomputed.size());
  for (size_t i = 0; i < plain.size(); ++i)
    EXPECT_TRUE(test::same_bits(plain[i], recomputed[i])) << "parameter " << i << " differs with recompute_layers";
}

}  // namespace
