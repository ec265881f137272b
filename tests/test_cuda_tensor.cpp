// Device tensors: made on the device, moved and copied across devices in every dtype, refused clearly wherever host
// code would read their memory, kept on their device by every op and by autograd, and filled by the device's Philox
// with the CPU's values. Skips, saying why, where no GPU answers.
#include <cmath>

#include "autograd/backward.h"
#include "cuda_test_util.h"
#include "ops/binary.h"
#include "ops/join.h"
#include "ops/cross_entropy.h"
#include "ops/dropout.h"
#include "ops/reduce.h"
#include "ops/unary.h"
#include "tensor/random.h"
#include "test_util.h"

namespace {

using namespace erc;
using erc::test::same_bits;
using test::error_of;
using test::mentions;
using DeviceTensor = test::CudaTest;

TEST_F(DeviceTensor, MadeOnTheDeviceWithTheValuesAsked) {
  const Tensor z = Tensor::zeros({3, 4}, DType::f32, Device::cuda), o = Tensor::ones({5}, DType::f64, Device::cuda);
  const Tensor f = Tensor::full({2, 2}, -2.5, DType::f16, Device::cuda),
               e = Tensor::empty({7}, DType::i64, Device::cuda);
  for (const Tensor& t : {z, o, f, e}) EXPECT_EQ(t.device(), Device::cuda);
  EXPECT_EQ(z.to(Device::cpu).to_vector<float>(), std::vector<float>(12, 0.0f));
  EXPECT_EQ(o.to(Device::cpu).to_vector<double>(), std::vector<double>(5, 1.0));
  EXPECT_EQ(f.to(Device::cpu).to(DType::f32).to_vector<float>(), std::vector<float>(4, -2.5f));
  EXPECT_EQ(Tensor::zeros({0}, DType::f32, Device::cuda).to(Device::cpu).numel(), 0);
}

TEST_F(DeviceTensor, EveryDtypeCrossesToTheDeviceAndBackBitForBit) {
  const Tensor x = test::random_tensor({17, 3}, 5, -100, 100);
  for (DType dtype : {DType::f32, DType::f64, DType::i64, DType::bf16, DType::f16}) {
    SCOPED_TRACE(dtype_name(dtype));
    const Tensor host = x.to(dtype);
    const Tensor device = host.to(Device::cuda);
    EXPECT_EQ(device.device(), Device::cuda);
    EXPECT_EQ(device.dtype(), dtype);
    EXPECT_TRUE(same_bits(device, host));
  }
}

TEST_F(DeviceTensor, CastsOnTheDeviceRoundAsTheCpuDoes) {
  // Beyond f16's range: infinities too, which become int64's ends on both sides (tensor/convert.h).
  const Tensor x = test::random_tensor({33, 5}, 9, -70000, 70000);
  for (DType from : {DType::f32, DType::f64, DType::i64, DType::bf16, DType::f16})
    for (DType to : {DType::f32, DType::f64, DType::i64, DType::bf16, DType::f16}) {
      SCOPED_TRACE(std::string(dtype_name(from)) + " -> " + dtype_name(to));
      const Tensor host = x.to(from);
      EXPECT_TRUE(same_bits(host.to(Device::cuda).to(to), host.to(to)));
    }
}

TEST_F(DeviceTensor, ToInt64OnTheDeviceSaturatesAsTheCpuDoesAtEveryEdge) {
  const double big = 0x1p63;
  const Tensor x = Tensor::from_vector<double>(
      {NAN, INFINITY, -INFINITY, big, -big, std::nextafter(big, 0.0), -9.2e18, 1e300, -1e300, 1.5, -1.5, -0.0}, {12});
  for (DType from : {DType::f64, DType::f32, DType::f16, DType::bf16}) {
    SCOPED_TRACE(dtype_name(from));
    const Tensor host = x.to(from);
    EXPECT_TRUE(same_bits(host.to(Device::cuda).to(DType::i64), host.to(DType::i64)));
  }
}

TEST_F(DeviceTensor, CopiesAcrossDevicesIntoStridedViewsAndOtherDtypes) {
  const Tensor src = test::random_tensor({6, 4}, 3);
  // host -> a transposed device view, in another dtype
  Tensor on_device = Tensor::zeros({4, 6}, DType::f32, Device::cuda);
  on_device.transpose(0, 1).copy_(src);
  EXPECT_TRUE(same_bits(on_device, src.transpose(0, 1).to(DType::f32).contiguous()));
  // device (non-contiguous) -> a narrowed host view
  Tensor host = Tensor::zeros({4, 10}, DType::f64);
  host.narrow(1, 2, 6).copy_(on_device);
  EXPECT_TRUE(same_bits(host.narrow(1, 2, 6).contiguous(), on_device.to(DType::f64)));
  EXPECT_EQ(host.narrow(1, 0, 2).to_vector<double>(), std::vector<double>(8, 0.0));
  // device -> device, broadcast source (stride 0)
  Tensor row = Tensor::from_vector<float>({1, 2, 3}, {3}).to(Device::cuda);
  Tensor filled = Tensor::empty({2, 3}, DType::f32, Device::cuda);
  filled.copy_(row.expand({2, 3}));
  EXPECT_EQ(filled.to(Device::cpu).to_vector<float>(), (std::vector<float>{1, 2, 3, 1, 2, 3}));
  // fill_ on a strided device view
  filled.narrow(1, 1, 1).fill_(-1.0);
  EXPECT_EQ(filled.to(Device::cpu).to_vector<float>(), (std::vector<float>{1, -1, 3, 1, -1, 3}));
}

// Every host entry point to a tensor's memory refuses a device tensor, naming itself and the way out.
TEST_F(DeviceTensor, HostAccessToDeviceMemoryIsAClearErrorAtEveryEntryPoint) {
  Tensor x = Tensor::ones({2, 3}, DType::f32, Device::cuda);
  const Tensor one = Tensor::ones({1}, DType::f64, Device::cuda);
  const std::vector<std::pair<std::string, std::function<void()>>> entries = {
      {"data<T>()", [&] { (void)x.data<float>(); }},
      {"data<T>()", [&] { (void)static_cast<const Tensor&>(x).data<float>(); }},
      {"raw_data()", [&] { (void)x.raw_data(); }},
      {"item()", [&] { (void)one.item<double>(); }},
      {"item_as_double()", [&] { (void)one.item_as_double(); }},
      {"to_vector()", [&] { (void)x.to_vector<float>(); }},
  };
  for (const auto& [method, access] : entries) {
    const std::string e = error_of(access);
    EXPECT_TRUE(mentions(e, "Tensor::" + method + " reads host memory, and this tensor ([")) << method;
    EXPECT_TRUE(mentions(e, "is on cuda")) << method;
    EXPECT_TRUE(mentions(e, ".to(Device::cpu)")) << method;
  }
  EXPECT_TRUE(mentions(error_of([] { (void)Tensor::ones({2}).device_data<float>(); }), "is on cpu, not on the device"));
}

TEST_F(DeviceTensor, AnOpWithInputsOnTwoDevicesNamesBoth) {
  const Tensor a = Tensor::ones({2, 3}), b = Tensor::ones({3}, DType::f32, Device::cuda);
  const std::string e = error_of([&] { ops::add(a, b); });
  EXPECT_TRUE(mentions(e, "add: inputs on two devices: input 0 [2, 3] is on cpu, input 1 [3] on cuda"));
}

TEST_F(DeviceTensor, AnOpWithoutKernelsSaysSoInsteadOfReadingDeviceMemory) {
  const Tensor x = Tensor::ones({4, 8}, DType::f32, Device::cuda);
  const std::string e = error_of([&] { ops::flip(x, {1}); });
  EXPECT_TRUE(mentions(e, "flip: no CUDA kernel yet for this op"));
}

TEST_F(DeviceTensor, OpsMakeTheirOutputsAndAutogradItsGradientsOnTheInputsDevice) {
  Tensor x = test::random_tensor({5, 3}, 2, -1, 1, DType::f32).to(Device::cuda);
  x.set_requires_grad(true);
  Tensor loss = ops::sum(ops::mul(ops::exp(x), x));
  EXPECT_EQ(loss.device(), Device::cuda);
  backward(loss);
  backward(ops::sum(ops::mul(ops::exp(x), x)));  // a second backward adds into the device gradient
  ASSERT_TRUE(x.grad().defined());
  EXPECT_EQ(x.grad().device(), Device::cuda);
  const Tensor hx = x.detach().to(Device::cpu);
  const Tensor expected = ops::mul_scalar(ops::mul(ops::exp(hx), ops::add_scalar(hx, 1.0)), 2.0);  // 2 e^x (1 + x)
  EXPECT_TRUE(test::allclose(x.grad(), expected, 1e-6, 1e-6));
}

TEST_F(DeviceTensor, RandomDrawsOnTheDeviceAreTheCpusAndAdvanceTheGeneratorAlike) {
  for (DType dtype : {DType::f32, DType::f64}) {
    SCOPED_TRACE(dtype_name(dtype));
    Generator host_gen(99), device_gen(99);
    EXPECT_TRUE(same_bits(rand({1001}, device_gen, dtype, -2, 3, Device::cuda), rand({1001}, host_gen, dtype, -2, 3)));
    Tensor hm = Tensor::empty({777}, dtype), dm = Tensor::empty({777}, dtype, Device::cuda);
    host_gen.fill_bernoulli(hm, 0.3);
    device_gen.fill_bernoulli(dm, 0.3);
    EXPECT_TRUE(same_bits(dm, hm));
    // Box-Muller calls log, cos and sin, which a GPU may give 1 and 2 ulps off: x = mean + stddev r cos(theta) moves
    // by at most stddev (r dcos + |cos| dr) <= 3.5e-15 stddev absolutely in float64 (r <= 8.6, dcos <= 2^-52,
    // dr = dlog / r <= 2^-52 r / 2), and relatively without bound near a zero of cos (a relative tolerance was
    // wrong); in float32, by one ulp of the largest |x| (17.7). Measured in the simulator's ulp mode: 1.8e-15 and 0.
    const Tensor dn = randn({501}, device_gen, dtype, 0.5, 2.0, Device::cuda),
                 hn = randn({501}, host_gen, dtype, 0.5, 2.0);
    EXPECT_TRUE(test::allclose(dn, hn, dtype == DType::f32 ? 2e-6 : 1e-14, 0));
    EXPECT_EQ(device_gen.offset(), host_gen.offset());
  }
}

// On the device the targets are checked where they are (reading them back would wait for the stream): a target
// outside the classes makes the loss NaN, which erc_train stops on, naming the step.
TEST_F(DeviceTensor, CrossEntropyOnTheDeviceMakesTheLossNaNForATargetOutsideTheClasses) {
  const Tensor logits = test::random_tensor({3, 4}, 8, -1, 1, DType::f32).to(Device::cuda);
  const Tensor good = Tensor::from_vector<int64_t>({0, -100, 3}, {3}),
               bad = Tensor::from_vector<int64_t>({0, 4, 3}, {3});
  EXPECT_TRUE(std::isfinite(ops::cross_entropy(logits, good.to(Device::cuda)).to(Device::cpu).item<float>()));
  EXPECT_TRUE(std::isnan(ops::cross_entropy(logits, bad.to(Device::cuda)).to(Device::cpu).item<float>()));
  EXPECT_TRUE(test::mentions(test::error_of([&] { ops::cross_entropy(logits.to(Device::cpu), bad); }),
                             "target 4 of row 1 is outside [0, 4)"));
}

TEST_F(DeviceTensor, ADropoutMaskOnTheDeviceIsTheCpusBitForBit) {
  const Tensor x = test::random_tensor({129, 33}, 4, -1, 1, DType::f32);
  Generator host_gen(7), device_gen(7);
  const Tensor on_host = ops::dropout(x, 0.1, true, host_gen);
  const Tensor on_device = ops::dropout(x.to(Device::cuda), 0.1, true, device_gen);
  EXPECT_EQ(on_device.device(), Device::cuda);
  EXPECT_TRUE(same_bits(on_device, on_host));
  EXPECT_EQ(device_gen.offset(), host_gen.offset());
}

}  // namespace
