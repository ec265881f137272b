// erc's device helpers under the contracts their comments state, with kernels of this file's own: on the simulator in
// a SIM build and on the GPU in a CUDA build with one (skips, saying why, without one).
// - block_reduce may be called again at once in the same kernel: its first barrier keeps the second call's writes of
//   the warps' partials from landing before the first call's reads (one array per instantiation, so the two calls
//   here share a type and a functor; no kernel of erc's does that today, so only this test would notice the barrier
//   gone);
// - warp_all_reduce gives every lane the bits of its butterfly (partners 16, 8, 4, 2 then 1 lanes away): any other set
//   of partners that spans the warp sums every lane too, but in another order.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cuda/kernel.h"
#include "cuda_test_util.h"
#include "ops/block_reduce.cuh"

namespace {

using erc::Device;
using erc::DType;
using erc::Tensor;

constexpr unsigned kThreads = 256;

__global__ void two_reductions_in_a_row(const float* x, float* out) {
  const float v = x[blockIdx.x * kThreads + threadIdx.x];
  const float sum = erc::ops::block_reduce<kThreads>(v, 0.0f, erc::ops::Plus{});
  const float sum_of_squares = erc::ops::block_reduce<kThreads>(v * v, 0.0f, erc::ops::Plus{});
  if (threadIdx.x == 0) {
    out[2 * blockIdx.x] = sum;
    out[2 * blockIdx.x + 1] = sum_of_squares;
  }
}

__global__ void all_lanes_sum(const float* x, float* out) {
  out[threadIdx.x] = erc::ops::warp_all_reduce(x[threadIdx.x], erc::ops::Plus{});
}

using CudaKernels = erc::test::CudaTest;

TEST_F(CudaKernels, BlockReduceCalledTwiceInARowGivesBothResults) {
  constexpr unsigned kBlocks = 3;
  std::vector<float> host(kBlocks * kThreads);
  for (size_t i = 0; i < host.size(); ++i) host[i] = float((i * 37) % 101);  // small integers: every sum exact
  Tensor out = Tensor::zeros({kBlocks, 2}, DType::f32, Device::cuda);
  const Tensor x = Tensor::from_vector<float>(host, {int64_t(host.size())}).to(Device::cuda);
  erc::launch<two_reductions_in_a_row>(ERC_HERE, kBlocks, kThreads, 0, x.device_data<float>(),
                                       out.device_data<float>());
  const std::vector<float> got = out.to(Device::cpu).to_vector<float>();
  for (unsigned b = 0; b < kBlocks; ++b) {
    float sum = 0, sum_of_squares = 0;
    for (unsigned t = 0; t < kThreads; ++t) {
      const float v = host[b * kThreads + t];
      sum += v, sum_of_squares += v * v;
    }
    EXPECT_EQ(got[2 * b], sum) << "block " << b;
    EXPECT_EQ(got[2 * b + 1], sum_of_squares) << "block " << b;
  }
}

TEST_F(CudaKernels, WarpAllReduceGivesEveryLaneTheSameBits) {
  std::vector<float> host(32);
  // Magnitudes from 1 to 2^18: the order of the sum shows in the last bits.
  for (size_t i = 0; i < host.size(); ++i) host[i] = std::sin(1.3f * float(i)) * std::ldexp(1.0f, 3 * int(i % 7));
  const Tensor x = Tensor::from_vector<float>(host, {32}).to(Device::cuda);
  Tensor out = Tensor::zeros({32}, DType::f32, Device::cuda);
  erc::launch<all_lanes_sum>(ERC_HERE, 1, 32, 0, x.device_data<float>(), out.device_data<float>());
  const std::vector<float> got = out.to(Device::cpu).to_vector<float>();
  std::vector<float> lanes = host;
  for (int distance = 16; distance > 0; distance /= 2) {
    const std::vector<float> before = lanes;
    for (int lane = 0; lane < 32; ++lane) lanes[size_t(lane)] = before[size_t(lane)] + before[size_t(lane ^ distance)];
  }
  for (int lane = 0; lane < 32; ++lane) EXPECT_EQ(got[size_t(lane)], lanes[size_t(lane)]) << "lane " << lane;
  EXPECT_EQ(got[0], lanes[31]);
}

}  // namespace
