// The CUDA simulator itself (SIM builds only: several kernels here break CUDA's rules on purpose).
// 1. Kernels with a classic bug (a missing __syncthreads in a shared-memory reduction, a race on a shared cell,
//    warp-synchronous code without __syncwarp, a block that reads another block's output) give a wrong answer under
//    at least one schedule, while their correct versions give the right one under every schedule.
// 2. Each refusal: a block or grid beyond CUDA's limits, too much dynamic shared memory, a __syncthreads not every
//    thread reaches, a warp exchange a lane of its mask does not join, an access outside the buffers a launch was
//    given (past the end, or to a buffer it was not given), host code touching device memory.
// 3. The built-ins behave as on a GPU: indices of 3-d launches, shuffles, ballots, atomics, dynamic shared memory,
//    the cuBLAS stand-in's column-major GEMM and its argument checks, events.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cuda/blas.h"
#include "cuda/kernel.h"
#include "cuda/sim/scheduler.h"
#include "cuda/stream.h"
#include "test_util.h"

namespace {

using erc::Device;
using erc::DType;
using erc::Tensor;
using erc::test::error_of;
using erc::test::mentions;
namespace sim = erc::sim;
using erc::launch;

constexpr unsigned kBlock = 256;

// Runs f once under each schedule and returns what it produced each time.
template <typename F>
auto under_every_schedule(F&& f) {
  const sim::Schedule before = sim::schedule();
  std::vector<decltype(f())> results;
  for (sim::Schedule s : {sim::Schedule{sim::Order::forward, 0}, sim::Schedule{sim::Order::reverse, 0},
                          sim::Schedule{sim::Order::shuffled, 1}, sim::Schedule{sim::Order::shuffled, 2}}) {
    sim::set_schedule(s);
    results.push_back(f());
  }
  sim::set_schedule(before);
  return results;
}

Tensor device_iota(int64_t n) { return Tensor::arange(n, DType::f32).to(Device::cuda); }

// ---- 1. Races that a reordering exposes --------------------------------------------------------------------------

__global__ void reduce_with_barriers(const float* x, float* out) {
  __shared__ float s[kBlock];
  const unsigned t = threadIdx.x;
  s[t] = x[blockIdx.x * kBlock + t];
  __syncthreads();
  for (unsigned stride = kBlock / 2; stride > 0; stride /= 2) {
    if (t < stride) s[t] += s[t + stride];
    __syncthreads();
  }
  if (t == 0) out[blockIdx.x] = s[0];
}

__global__ void reduce_missing_barrier(const float* x, float* out) {
  __shared__ float s[kBlock];
  const unsigned t = threadIdx.x;
  s[t] = x[blockIdx.x * kBlock + t];
  __syncthreads();
  for (unsigned stride = kBlock / 2; stride > 0; stride /= 2)
    if (t < stride) s[t] += s[t + stride];  // no __syncthreads: a thread may read a partner's half-done sum
  if (t == 0) out[blockIdx.x] = s[0];
}

// Every thread writes the cell; which value survives depends on who writes last.
__global__ void shared_cell_race(float* out) {
  __shared__ float cell;
  cell = float(threadIdx.x);
  __syncthreads();
  if (threadIdx.x == 0) out[blockIdx.x] = cell;
}

// The same cell written by one thread only.
__global__ void shared_cell_one_writer(float* out) {
  __shared__ float cell;
  if (threadIdx.x == kBlock - 1) cell = float(threadIdx.x);
  __syncthreads();
  if (threadIdx.x == 0) out[blockIdx.x] = cell;
}

// The last warp of a reduction written as if the 32 lanes ran in lockstep (pre-Volta style), without __syncwarp.
__global__ void warp_sum_lockstep(const float* x, float* out) {
  __shared__ float s[32];
  const unsigned lane = threadIdx.x;
  volatile float* v = s;
  v[lane] = x[lane];
  for (unsigned offset = 16; offset > 0; offset /= 2)
    if (lane < offset) v[lane] = v[lane] + v[lane + offset];
  if (lane == 0) out[0] = v[0];
}

// The same with every read separated from every write by __syncwarp.
__global__ void warp_sum_syncwarp(const float* x, float* out) {
  __shared__ float s[32];
  const unsigned lane = threadIdx.x;
  s[lane] = x[lane];
  __syncwarp();
  for (unsigned offset = 16; offset > 0; offset /= 2) {
    const float partner = lane < offset ? s[lane + offset] : 0.0f;
    __syncwarp();
    if (lane < offset) s[lane] += partner;
    __syncwarp();
  }
  if (lane == 0) out[0] = s[0];
}

// The same with register shuffles.
__global__ void warp_sum_shuffle(const float* x, float* out) {
  float v = x[threadIdx.x];
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  if (threadIdx.x == 0) out[0] = v;
}

// Block b passes on what block b - 1 wrote: only right if the blocks run in order, which CUDA never promises.
__global__ void chain_across_blocks(float* value) {
  if (threadIdx.x == 0) value[blockIdx.x + 1] = value[blockIdx.x] + 1.0f;
}

__global__ void write_block_index(float* value) {
  if (threadIdx.x == 0) value[blockIdx.x + 1] = float(blockIdx.x) + 1.0f;
}

TEST(CudaSimulator, AReductionMissingABarrierIsWrongUnderSomeScheduleTheCorrectOneNever) {
  const Tensor x = device_iota(4 * kBlock);
  const float expected = float(kBlock) * (kBlock - 1) / 2;  // block 0's sum; the others follow
  auto run = [&](bool barriers) {
    return under_every_schedule([&] {
      Tensor out = Tensor::zeros({4}, DType::f32, Device::cuda);
      if (barriers)
        launch<reduce_with_barriers>(ERC_HERE, 4, kBlock, 0, x.device_data<float>(), out.device_data<float>());
      else
        launch<reduce_missing_barrier>(ERC_HERE, 4, kBlock, 0, x.device_data<float>(), out.device_data<float>());
      return out.to(Device::cpu).to_vector<float>()[0];
    });
  };
  for (float sum : run(true)) EXPECT_EQ(sum, expected);
  int wrong = 0;
  for (float sum : run(false)) wrong += sum != expected;
  EXPECT_GT(wrong, 0) << "no schedule exposed the missing __syncthreads";
}

TEST(CudaSimulator, ARaceOnASharedCellGivesDifferentAnswersUnderDifferentSchedules) {
  auto run = [&](bool race) {
    return under_every_schedule([&] {
      Tensor out = Tensor::zeros({3}, DType::f32, Device::cuda);
      if (race)
        launch<shared_cell_race>(ERC_HERE, 3, kBlock, 0, out.device_data<float>());
      else
        launch<shared_cell_one_writer>(ERC_HERE, 3, kBlock, 0, out.device_data<float>());
      return out.to(Device::cpu).to_vector<float>();
    });
  };
  for (const auto& out : run(false)) EXPECT_EQ(out, std::vector<float>(3, float(kBlock - 1)));
  const auto raced = run(true);
  bool differ = false;
  for (const auto& out : raced) differ = differ || out != raced[0];
  EXPECT_TRUE(differ) << "every schedule let the same thread write last";
}

TEST(CudaSimulator, WarpSynchronousCodeWithoutSyncwarpIsWrongWithSyncwarpOrShufflesRight) {
  const Tensor x = device_iota(32);
  auto run = [&](int version) {
    return under_every_schedule([&] {
      Tensor out = Tensor::zeros({1}, DType::f32, Device::cuda);
      float* o = out.device_data<float>();
      const float* in = x.device_data<float>();
      if (version == 0) launch<warp_sum_lockstep>(ERC_HERE, 1, 32, 0, in, o);
      if (version == 1) launch<warp_sum_syncwarp>(ERC_HERE, 1, 32, 0, in, o);
      if (version == 2) launch<warp_sum_shuffle>(ERC_HERE, 1, 32, 0, in, o);
      return out.to(Device::cpu).item<float>();
    });
  };
  const float expected = 31.0f * 32 / 2;
  for (int correct : {1, 2})
    for (float sum : run(correct)) EXPECT_EQ(sum, expected) << "version " << correct;
  int wrong = 0;
  for (float sum : run(0)) wrong += sum != expected;
  EXPECT_GT(wrong, 0) << "no schedule exposed the lockstep assumption";
}

TEST(CudaSimulator, ABlockReadingAnotherBlocksOutputIsWrongUnderSomeBlockOrder) {
  constexpr int kBlocks = 8;
  auto run = [&](bool chained) {
    return under_every_schedule([&] {
      Tensor value = Tensor::zeros({kBlocks + 1}, DType::f32, Device::cuda);
      if (chained)
        launch<chain_across_blocks>(ERC_HERE, kBlocks, 32, 0, value.device_data<float>());
      else
        launch<write_block_index>(ERC_HERE, kBlocks, 32, 0, value.device_data<float>());
      return value.to(Device::cpu).to_vector<float>()[kBlocks];
    });
  };
  for (float last : run(false)) EXPECT_EQ(last, float(kBlocks));
  int wrong = 0;
  for (float last : run(true)) wrong += last != float(kBlocks);
  EXPECT_GT(wrong, 0) << "every block order was the launch order";
}

// ---- 2. Refusals --------------------------------------------------------------------------------------------------

__global__ void write_thread_index(float* out) { out[threadIdx.x] = float(threadIdx.x); }

template <typename T>
__global__ void write_value(T* out, T value) {
  out[threadIdx.x] = value;
}

__global__ void early_return_before_barrier(float* out) {
  if (threadIdx.x >= 100) return;
  __syncthreads();
  out[threadIdx.x] = 1.0f;
}

__global__ void barriers_in_two_branches(float* out) {
  if (threadIdx.x % 2 == 0) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1.0f;
}

__global__ void shuffle_half_warp_returns(float* out) {
  if (threadIdx.x >= 16) return;
  out[threadIdx.x] = __shfl_sync(0xffffffffu, float(threadIdx.x), 0);
}

__global__ void shuffle_reads_outside_mask(float* out) {
  if (threadIdx.x >= 16) return;
  out[threadIdx.x] = __shfl_sync(0x0000ffffu, float(threadIdx.x), 20);
}

__global__ void use_dynamic_shared(float* out) {
  ERC_DYNAMIC_SHARED(float, buffer);
  buffer[threadIdx.x] = float(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = buffer[blockDim.x - 1 - threadIdx.x];
}

TEST(CudaSimulator, RefusesBlocksAndGridsBeyondCudasLimits) {
  Tensor out = Tensor::zeros({2048}, DType::f32, Device::cuda);
  float* o = out.device_data<float>();
  std::string e = error_of([&] { launch<write_thread_index>(ERC_HERE, 1, 1025, 0, o); });
  EXPECT_TRUE(mentions(e, "write_thread_index"));
  EXPECT_TRUE(mentions(e, "exceeds CUDA's limits (at most 1024 threads"));
  EXPECT_TRUE(
      mentions(error_of([&] { launch<write_thread_index>(ERC_HERE, 1, dim3(1, 1, 65), 0, o); }), "block (1, 1, 65)"));
  EXPECT_TRUE(mentions(error_of([&] { launch<write_thread_index>(ERC_HERE, dim3(1, 65536), 1, 0, o); }),
                       "grid (1, 65536, 1) exceeds CUDA's limits"));
  EXPECT_TRUE(mentions(error_of([&] { launch<write_thread_index>(ERC_HERE, 0, 32, 0, o); }), "an empty grid"));
  EXPECT_TRUE(mentions(error_of([&] { launch<write_value<float>>(ERC_HERE, 1, 2048, 0, o, 1.0f); }),
                       "kernel `write_value<float>` (launched at "));
}

TEST(CudaSimulator, RefusesDynamicSharedMemoryBeyondWhatTheKernelMayUse) {
  Tensor out = Tensor::zeros({256}, DType::f32, Device::cuda);
  float* o = out.device_data<float>();
  const std::string e = error_of([&] { launch<use_dynamic_shared>(ERC_HERE, 1, 256, 64 * 1024, o); });
  EXPECT_TRUE(mentions(e, "65536 bytes of dynamic shared memory, above the 49152"));
  EXPECT_TRUE(mentions(e, "cudaFuncSetAttribute"));
  ASSERT_EQ(cudaFuncSetAttribute(use_dynamic_shared, cudaFuncAttributeMaxDynamicSharedMemorySize, 64 * 1024),
            cudaSuccess);
  launch<use_dynamic_shared>(ERC_HERE, 1, 256, 64 * 1024, o);
  EXPECT_EQ(out.to(Device::cpu).to_vector<float>()[0], 255.0f);
  EXPECT_EQ(cudaFuncSetAttribute(use_dynamic_shared, cudaFuncAttributeMaxDynamicSharedMemorySize, 228 * 1024),
            cudaErrorInvalidValue)
      << "above the device's 227 KiB";
}

TEST(CudaSimulator, RefusesABarrierThatNotEveryThreadReaches) {
  Tensor out = Tensor::zeros({256}, DType::f32, Device::cuda);
  float* o = out.device_data<float>();
  std::string e = error_of([&] { launch<early_return_before_barrier>(ERC_HERE, 2, 256, 0, o); });
  EXPECT_TRUE(mentions(e, "early_return_before_barrier"));
  EXPECT_TRUE(mentions(e, "is reached by 100 of the block's 256 threads; the other 156 returned before it"));
  EXPECT_TRUE(mentions(e, "test_cuda_simulator.cu:"));
  e = error_of([&] { launch<barriers_in_two_branches>(ERC_HERE, 1, 64, 0, o); });
  EXPECT_TRUE(mentions(e, "wait at two different __syncthreads"));
}

TEST(CudaSimulator, RefusesAWarpExchangeALaneOfItsMaskDoesNotJoin) {
  Tensor out = Tensor::zeros({32}, DType::f32, Device::cuda);
  float* o = out.device_data<float>();
  std::string e = error_of([&] { launch<shuffle_half_warp_returns>(ERC_HERE, 1, 32, 0, o); });
  EXPECT_TRUE(mentions(e, "waits in __shfl_sync"));
  EXPECT_TRUE(mentions(e, "returned without joining it"));
  e = error_of([&] { launch<shuffle_reads_outside_mask>(ERC_HERE, 1, 32, 0, o); });
  EXPECT_TRUE(mentions(e, "reads lane 20, which is not in its mask 0x0000ffff"));
}

// ---- Accesses outside what a launch was given: the process stops, as a GPU context does -------------------------

__global__ void write_one_past_the_end(float* x, int n) { x[n] = 1.0f; }

float* hidden_buffer = nullptr;  // a device buffer reached through a global, not through the launch's arguments
__global__ void read_a_buffer_not_given(float* out) { out[0] = hidden_buffer[0]; }

// 64 KiB of locals per level: deeper than a simulated thread's 256 KiB stack after a few levels.
__device__ int recurse(int depth) {
  volatile char locals[64 * 1024];
  locals[depth % sizeof(locals)] = char(depth);
  return depth == 0 ? 0 : recurse(depth - 1) + locals[0];
}
__global__ void overflow_the_stack(int* out) { out[0] = recurse(64); }

using CudaSimulatorDeathTest = ::testing::Test;

TEST_F(CudaSimulatorDeathTest, AWritePastTheEndOfABufferStopsTheProcessNamingTheKernel) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto write_past_the_end = [] {
    Tensor x = Tensor::zeros({13}, DType::f32, Device::cuda);
    launch<write_one_past_the_end>(ERC_HERE, 1, 1, 0, x.device_data<float>(), 13);
  };
  EXPECT_DEATH(
      write_past_the_end(),
      "out-of-bounds access: kernel `write_one_past_the_end` .*block \\(0, 0, 0\\), thread \\(0, 0, 0\\) wrote 0 "
      "bytes past the end of a 52-byte device buffer");
}

TEST_F(CudaSimulatorDeathTest, AReadOfABufferTheLaunchWasNotGivenStopsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto read_hidden = [] {
    Tensor hidden = Tensor::zeros({4}, DType::f32, Device::cuda), out = Tensor::zeros({1}, DType::f32, Device::cuda);
    hidden_buffer = hidden.device_data<float>();
    launch<read_a_buffer_not_given>(ERC_HERE, 1, 1, 0, out.device_data<float>());
  };
  EXPECT_DEATH(
      read_hidden(),
      "kernel `read_a_buffer_not_given`.* read byte 0 of a 16-byte device buffer that the kernel was not given");
}

TEST_F(CudaSimulatorDeathTest, AStackOverflowInAKernelStopsTheProcessSayingSo) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto overflow = [] {
    Tensor out = Tensor::zeros({1}, DType::f32, Device::cuda);
    launch<overflow_the_stack>(ERC_HERE, 1, 1, 0, reinterpret_cast<int*>(out.device_data<float>()));
  };
  EXPECT_DEATH(overflow(), "stack overflow in kernel `overflow_the_stack`.*each simulated thread has 256 KiB");
}

TEST_F(CudaSimulatorDeathTest, HostCodeTouchingDeviceMemoryStopsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto read_on_the_host = [] {
    Tensor x = Tensor::zeros({8}, DType::f32, Device::cuda);
    volatile float v = x.device_data<float>()[3];  // what a CPU loop without a device dispatch would do
    (void)v;
  };
  EXPECT_DEATH(read_on_the_host(),
               "host code read byte 12 of a 32-byte device buffer: device memory is not host memory");
}

// ---- 3. The built-ins -------------------------------------------------------------------------------------------

__global__ void record_indices(int64_t* out) {
  const int64_t block = blockIdx.x + int64_t(gridDim.x) * (blockIdx.y + int64_t(gridDim.y) * blockIdx.z);
  const int64_t thread = threadIdx.x + int64_t(blockDim.x) * (threadIdx.y + int64_t(blockDim.y) * threadIdx.z);
  const int64_t threads = int64_t(blockDim.x) * blockDim.y * blockDim.z;
  out[block * threads + thread] = block * 1000 + thread;
}

TEST(CudaSimulator, EveryThreadOfA3dGridSeesItsOwnIndices) {
  const dim3 grid(3, 2, 2), block(4, 3, 2);
  const int64_t n = 12 * 24;
  Tensor out = Tensor::full({n}, -1.0, DType::i64, Device::cuda);
  launch<record_indices>(ERC_HERE, grid, block, 0, out.device_data<int64_t>());
  const auto got = out.to(Device::cpu).to_vector<int64_t>();
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(got[size_t(i)], (i / 24) * 1000 + i % 24) << i;
}

// out[k][lane] for k = idx (lane 3 of each 8-lane segment), up by 2, down by 5, xor 6, within segments of 8.
__global__ void shuffles(float* out) {
  const float v = float(threadIdx.x) + 0.5f;
  const unsigned n = blockDim.x;
  out[0 * n + threadIdx.x] = __shfl_sync(0xffffffffu, v, 3, 8);
  out[1 * n + threadIdx.x] = __shfl_up_sync(0xffffffffu, v, 2, 8);
  out[2 * n + threadIdx.x] = __shfl_down_sync(0xffffffffu, v, 5);
  out[3 * n + threadIdx.x] = __shfl_xor_sync(0xffffffffu, v, 6, 8);
  out[4 * n + threadIdx.x] = float(__ballot_sync(0xffffffffu, threadIdx.x % 32 % 3 == 0));
  out[5 * n + threadIdx.x] =
      float(__any_sync(0xffffffffu, threadIdx.x % 32 == 7)) + 2 * float(__all_sync(0xffffffffu, 1));
}

TEST(CudaSimulator, WarpShufflesAndVotesGiveWhatAGpuGives) {
  constexpr unsigned n = 64;
  Tensor out = Tensor::zeros({6, n}, DType::f32, Device::cuda);
  launch<shuffles>(ERC_HERE, 1, n, 0, out.device_data<float>());
  const auto got = out.to(Device::cpu).to_vector<float>();
  unsigned ballot = 0;
  for (unsigned l = 0; l < 32; ++l) ballot |= (l % 3 == 0 ? 1u : 0u) << l;
  for (unsigned t = 0; t < n; ++t) {
    const unsigned lane = t % 32, base = t - lane;
    auto at = [&](unsigned l) { return float(base + l) + 0.5f; };
    EXPECT_EQ(got[0 * n + t], at(lane / 8 * 8 + 3)) << t;
    EXPECT_EQ(got[1 * n + t], at(lane % 8 >= 2 ? lane - 2 : lane)) << t;
    EXPECT_EQ(got[2 * n + t], at(lane + 5 < 32 ? lane + 5 : lane)) << t;
    EXPECT_EQ(got[3 * n + t], at(lane ^ 6)) << t;
    EXPECT_EQ(got[4 * n + t], float(ballot)) << t;
    EXPECT_EQ(got[5 * n + t], 3.0f) << t;
  }
}

__global__ void count_and_track_max(int* count, int* largest) {
  atomicAdd(count, 1);
  atomicMax(largest, int(blockIdx.x * blockDim.x + threadIdx.x));
}

TEST(CudaSimulator, AtomicsSeeEveryThread) {
  Tensor counters = Tensor::zeros({1}, DType::f32, Device::cuda), top = Tensor::zeros({1}, DType::f32, Device::cuda);
  launch<count_and_track_max>(ERC_HERE, 7, 96, 0, reinterpret_cast<int*>(counters.device_data<float>()),
                              reinterpret_cast<int*>(top.device_data<float>()));
  const float c = counters.to(Device::cpu).item<float>(), m = top.to(Device::cpu).item<float>();
  int count, largest;
  std::memcpy(&count, &c, 4);
  std::memcpy(&largest, &m, 4);
  EXPECT_EQ(count, 7 * 96);
  EXPECT_EQ(largest, 7 * 96 - 1);
}

__global__ void read_dynamic_shared_before_writing(float* out) {
  ERC_DYNAMIC_SHARED(float, buffer);
  out[blockIdx.x * blockDim.x + threadIdx.x] = buffer[threadIdx.x];
  __syncthreads();
  buffer[threadIdx.x] = 1.0f;
}

TEST(CudaSimulator, DynamicSharedMemoryStartsEachBlockAsNaNNotAsTheLastBlocksValues) {
  Tensor out = Tensor::zeros({2, 32}, DType::f32, Device::cuda);
  launch<read_dynamic_shared_before_writing>(ERC_HERE, 2, 32, 32 * sizeof(float), out.device_data<float>());
  for (float v : out.to(Device::cpu).to_vector<float>()) EXPECT_TRUE(std::isnan(v));
}

TEST(CudaSimulator, CublasStandInComputesColumnMajorProductsAndChecksItsArguments) {
  // Column-major A [2 x 3] = [1 2 3; 4 5 6], B [3 x 2] = [1 0; 0 1; 1 1]: A B = [4 5; 10 11].
  Tensor a = Tensor::from_vector<float>({1, 4, 2, 5, 3, 6}, {6}).to(Device::cuda);
  Tensor b = Tensor::from_vector<float>({1, 0, 1, 0, 1, 1}, {6}).to(Device::cuda);
  Tensor c = Tensor::zeros({4}, DType::f32, Device::cuda);
  const float one = 1, zero = 0;
  cublasHandle_t h = erc::cuda::blas_handle();
  ASSERT_EQ(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, a.device_data<float>(), 2, b.device_data<float>(),
                        3, &zero, c.device_data<float>(), 2),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(c.to(Device::cpu).to_vector<float>(), (std::vector<float>{4, 10, 5, 11}));
  // The transpose of B read from the same memory with op T: B^T [2 x 3], lda 3; (B^T)^T A^T = (A B)^T.
  ASSERT_EQ(cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_T, 2, 2, 3, &one, b.device_data<float>(), 3, a.device_data<float>(),
                        2, &zero, c.device_data<float>(), 2),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(c.to(Device::cpu).to_vector<float>(), (std::vector<float>{4, 5, 10, 11}));
  EXPECT_EQ(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, a.device_data<float>(), 1, b.device_data<float>(),
                        3, &zero, c.device_data<float>(), 2),
            CUBLAS_STATUS_INVALID_VALUE)
      << "lda 1 < m 2";
}

TEST(CudaSimulator, EventsTimeTheStreamWithTheHostsClock) {
  erc::cuda::Event start, end;
  start.record();
  Tensor x = device_iota(1 << 16);
  Tensor y = Tensor::zeros({1 << 16}, DType::f32, Device::cuda);
  y.copy_(x);
  end.record();
  EXPECT_GE(elapsed_ms(start, end), 0.0f);
}

TEST(CudaSimulator, BuiltInsOutsideAKernelAreAnError) {
  EXPECT_TRUE(mentions(error_of([] { (void)threadIdx.x; }), "outside a kernel"));
}

}  // namespace
