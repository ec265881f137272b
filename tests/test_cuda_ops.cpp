// Every case of the op registry (tests/op_cases.h) on the CUDA device against the CPU, forward and backward:
// - float64: the two faces of an op compute one formula, so they differ only by the order of additions: relative
//   error at most 1e-12 (about 1e4 ulps of float64);
// - float32: by the flash-attention rule, the CUDA result's error against the CPU's float64 result at most twice the
//   CPU float32 result's, or the op's device floor where the CPU's is smaller (4 ulps of float32, or what a GPU's
//   math library takes: tests/op_cases.h); exact ops give the CPU's bits.
//   Both above the absolute floors of tests/op_cases.h;
// - determinism: the CUDA float32 run repeated (in the simulator, under a shuffled schedule of threads and blocks)
//   gives the same bits, output and gradients.
// The cases of an op without CUDA kernels check instead that it refuses device inputs by name.
// Runs on the simulator in a SIM build and on the GPU in a CUDA build with one; skips, saying why, without one.

#include <cstdio>
#include <cstdlib>

#include "autograd/backward.h"
#include "cuda/device.h"
#include "cuda_test_util.h"
#include "op_cases.h"
#include "ops/cpu_isa.h"

#ifdef ERC_CUDA_SIM
#include "cuda/sim/scheduler.h"
#endif

using namespace erc;
using erc::test::same_bits;

namespace {

struct CaseRun {
  Tensor out;
  std::vector<Tensor> grads;  // of the floating inputs, in order (undefined for the others)
};

// The case on `device` in `dtype`: inputs from the f64 leaves, grad_out from one seed.
CaseRun run_case(const test::OpCase& oc, const std::vector<Tensor>& in64, const Tensor& grad_out, DType dtype,
                 Device device) {
  std::vector<Tensor> inputs;
  for (const Tensor& t : in64) {
    if (!is_floating(t.dtype())) {
      inputs.push_back(t.to(device));
      continue;
    }
    Tensor moved = t.detach().to(dtype).to(device).clone();
    moved.set_requires_grad(true);
    inputs.push_back(moved);
  }
  CaseRun r;
  r.out = oc.run(inputs);
  EXPECT_EQ(r.out.device(), device) << "the output is not on its inputs' device";
  backward(r.out, grad_out.to(dtype).to(device));
  for (const Tensor& t : inputs) {
    r.grads.push_back(t.requires_grad() ? t.grad() : Tensor());
    if (t.requires_grad()) {
      EXPECT_EQ(t.grad().device(), device) << "a gradient is not on its leaf's device";
    }
  }
  return r;
}

// The registry's cases whose op has CUDA kernels, or has none yet (test_op_cases checks which ops those are).
std::vector<size_t> cases_with_kernels(bool with) {
  std::vector<size_t> indices;
  for (size_t i = 0; i < test::registry().size(); ++i)
    if (test::registry()[i].cuda == with) indices.push_back(i);
  return indices;
}

class CpuAgainstCuda : public test::CudaTest, public ::testing::WithParamInterface<size_t> {};

TEST_P(CpuAgainstCuda, ForwardBackwardAndDeterminism) {
  const test::OpCase& oc = test::registry()[GetParam()];
  const std::vector<Tensor> in64 = oc.make_inputs(100 + GetParam());
  const Tensor grad_out = test::random_tensor(oc.run(in64).shape(), 7 + GetParam());
  // The device against the CPU's reference loops: the CPU fast paths (ops/cpu_isa.h) are checked against those
  // loops in their own tests, and a more accurate CPU float32 must not tighten the device's bound.
  CaseRun cpu64, cpu32;
  {
    ops::CpuIsaGuard reference(ops::CpuIsa::baseline);
    cpu64 = run_case(oc, in64, grad_out, DType::f64, Device::cpu);
    cpu32 = run_case(oc, in64, grad_out, DType::f32, Device::cpu);
  }
  const CaseRun cuda64 = run_case(oc, in64, grad_out, DType::f64, Device::cuda);
  const CaseRun cuda32 = run_case(oc, in64, grad_out, DType::f32, Device::cuda);
#ifdef ERC_CUDA_SIM
  const sim::Schedule before = sim::schedule();
  sim::set_schedule({sim::Order::shuffled, 17 + GetParam()});
#endif
  const CaseRun again = run_case(oc, in64, grad_out, DType::f32, Device::cuda);
#ifdef ERC_CUDA_SIM
  sim::set_schedule(before);
#endif

  auto check = [&](const Tensor& c64, const Tensor& c32, const Tensor& r64, const Tensor& r32, const Tensor& rerun,
                   const std::string& what) {
    SCOPED_TRACE(what);
    if (oc.f32_bound == 0) {
      EXPECT_TRUE(same_bits(c64, r64)) << "float64: an exact op must give the CPU's bits";
      EXPECT_TRUE(same_bits(c32, r32)) << "float32: an exact op must give the CPU's bits";
    } else {
      const test::Difference d64 = test::difference(c64, r64);
      EXPECT_TRUE(test::within(d64, 1e-12, test::kFloor64)) << "float64: relative error " << d64.relative();
      const test::Difference cpu = test::difference(r32, r64), gpu = test::difference(c32, r64);
      if (std::getenv("ERC_PRINT_ERRORS"))
        std::printf("ERRORS %s %s %s gpu %.3g cpu %.3g f64 %.3g\n", oc.op.c_str(), oc.name.c_str(), what.c_str(),
                    gpu.relative(), cpu.relative(), d64.relative());
      EXPECT_TRUE(test::within(gpu, std::max(2 * cpu.relative(), test::device_f32_floor(oc.op)), test::kFloor32))
          << "float32: relative error " << gpu.relative() << ", the CPU's float32 " << cpu.relative();
    }
    EXPECT_TRUE(same_bits(rerun, c32)) << "a second run on the device gave other bits";
  };
  check(cuda64.out, cuda32.out, cpu64.out, cpu32.out, again.out, "output");
  for (size_t i = 0; i < in64.size(); ++i)
    if (cpu64.grads[i].defined())
      check(cuda64.grads[i], cuda32.grads[i], cpu64.grads[i], cpu32.grads[i], again.grads[i],
            "gradient of input " + std::to_string(i));
}

std::string case_name(const ::testing::TestParamInfo<size_t>& info) { return test::registry()[info.param].name; }

INSTANTIATE_TEST_SUITE_P(Registry, CpuAgainstCuda, ::testing::ValuesIn(cases_with_kernels(true)), case_name);

// An op without kernels refuses device inputs by name: it never reads device memory on the host (which the
// simulator would stop as a fault).
class CpuOnly : public test::CudaTest, public ::testing::WithParamInterface<size_t> {};

TEST_P(CpuOnly, RefusesDeviceInputsByName) {
  const test::OpCase& oc = test::registry()[GetParam()];
  std::vector<Tensor> inputs;
  for (const Tensor& t : oc.make_inputs(100 + GetParam())) inputs.push_back(t.detach().to(Device::cuda));
  EXPECT_TRUE(test::mentions(test::error_of([&] { oc.run(inputs); }), ": no CUDA kernel yet for this op"));
}

INSTANTIATE_TEST_SUITE_P(Registry, CpuOnly, ::testing::ValuesIn(cases_with_kernels(false)), case_name);

}  // namespace
