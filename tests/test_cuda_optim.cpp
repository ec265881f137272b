// The optimisers' fused device updates against their CPU loops: the same parameters and gradients, stepped on both,
// through the silent phase of RAdamScheduleFree and past it, with the train()/eval() swap, in float32 and float64,
// over more tensors than one launch takes and with an empty one among them. The two faces run one expression per
// element, so they agree to the last bit where the compilers round alike (the simulator) and within 4 ulps per step
// where nvcc contracts a multiply and an add into one FMA (a GPU). Two device runs give the same bits.
// Runs on the simulator in a SIM build and on the GPU in a CUDA build with one; skips, saying why, without one.
#include <functional>
#include <memory>

#include "cuda_test_util.h"
#include "optim/adamw.h"
#include "optim/radam_schedule_free.h"
#include "optim/sgd.h"
#include "test_util.h"

using namespace erc;
using erc::test::same_bits;

namespace {

using MakeOptimizer = std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)>;

// 130 parameters (more than the 128 of one launch) of awkward sizes, the fifth empty.
std::vector<Shape> parameter_shapes() {
  std::vector<Shape> shapes;
  for (int i = 0; i < 130; ++i) shapes.push_back(i == 4 ? Shape{0, 3} : Shape{1 + (i * 7) % 13, 1 + i % 5});
  return shapes;
}

// The parameters after `n_steps` steps on `device` (each step's gradients from its own seed; every third parameter
// has no gradient on the first step, so its state starts a step late), on the host; the optimiser's swap to eval()
// and back after the last step when it has one.
std::vector<Tensor> trained_parameters(const MakeOptimizer& make, DType dtype, Device device, int n_steps) {
  std::vector<Tensor> params;
  const std::vector<Shape> shapes = parameter_shapes();
  for (size_t i = 0; i < shapes.size(); ++i)
    params.push_back(test::random_tensor(shapes[i], 10 + i, -1, 1, dtype).to(device).set_requires_grad(true));
  std::unique_ptr<optim::Optimizer> opt = make(params);
  auto* schedule_free = dynamic_cast<optim::RAdamScheduleFree*>(opt.get());
  if (schedule_free) schedule_free->train();
  for (int step = 0; step < n_steps; ++step) {
    for (size_t i = 0; i < params.size(); ++i) {
      if (step == 0 && i % 3 == 0) continue;
      params[i].set_grad(test::random_tensor(shapes[i], 1000 * step + i, -1, 1, dtype).to(device));
    }
    opt->step();
    opt->zero_grad();
  }
  if (schedule_free) {
    schedule_free->eval();
    EXPECT_EQ(schedule_free->state_dict().at("z.1").device(), device) << "the optimiser's state is not on the device";
  }
  std::vector<Tensor> on_host;
  for (const Tensor& p : params) on_host.push_back(p.detach().to(Device::cpu));
  return on_host;
}

void expect_device_matches_cpu(const MakeOptimizer& make) {
  constexpr int kSteps = 8;  // RAdamScheduleFree's silent phase is steps 1-4
  for (DType dtype : {DType::f32, DType::f64}) {
    const double ulp = dtype == DType::f32 ? 1.19e-7 : 2.2e-16;
    const std::vector<Tensor> cpu = trained_parameters(make, dtype, Device::cpu, kSteps);
    const std::vector<Tensor> device = trained_parameters(make, dtype, Device::cuda, kSteps);
    const std::vector<Tensor> again = trained_parameters(make, dtype, Device::cuda, kSteps);
    for (size_t i = 0; i < cpu.size(); ++i) {
      const std::vector<double> want = cpu[i].to(DType::f64).to_vector<double>();
      const std::vector<double> got = device[i].to(DType::f64).to_vector<double>();
      ASSERT_EQ(want.size(), got.size());
      for (size_t k = 0; k < want.size(); ++k)
        ASSERT_NEAR(got[k], want[k], 4 * kSteps * ulp * std::max(1.0, std::abs(want[k])))
            << dtype_name(dtype) << " parameter " << i << " element " << k;
      EXPECT_TRUE(same_bits(device[i], again[i])) << "two device runs differ: parameter " << i;
    }
  }
}

class CudaOptim : public test::CudaTest {};

TEST_F(CudaOptim, RAdamScheduleFreeStepAndSwapMatchCpu) {
  expect_device_matches_cpu([](std::vector<Tensor> p) {
    return std::make_unique<optim::RAdamScheduleFree>(
        std::move(p), optim::RAdamScheduleFreeOptions{.lr = 0.05, .weight_decay = 0.01});
  });
}

TEST_F(CudaOptim, AdamWStepMatchesCpu) {
  expect_device_matches_cpu(
      [](std::vector<Tensor> p) { return std::make_unique<optim::AdamW>(std::move(p), optim::AdamWOptions{}); });
}

TEST_F(CudaOptim, SgdStepMatchesCpuWithAndWithoutMomentum) {
  for (double momentum : {0.0, 0.9})
    expect_device_matches_cpu([momentum](std::vector<Tensor> p) {
      return std::make_unique<optim::SGD>(std::move(p),
                                          optim::SGDOptions{.lr = 0.1, .momentum = momentum, .weight_decay = 0.01});
    });
}

TEST_F(CudaOptim, StateLoadedFromTheHostMovesToTheDevice) {
  Tensor host = Tensor::ones({3}).set_requires_grad(true);
  Tensor device = Tensor::ones({3}).to(Device::cuda).set_requires_grad(true);
  optim::AdamW on_host({host}), on_device({device});
  host.set_grad(Tensor::full({3}, 0.5));
  on_host.step();
  on_device.load_state_dict(on_host.state_dict());
  EXPECT_EQ(on_device.state_dict().at("m.0").device(), Device::cuda);
  device.detach().copy_(host.detach());
  host.set_grad(Tensor::full({3}, 0.25));
  device.set_grad(Tensor::full({3}, 0.25).to(Device::cuda));
  on_host.step();
  on_device.step();
  EXPECT_TRUE(same_bits(host.detach(), device.detach().to(Device::cpu)));
}

}  // namespace
