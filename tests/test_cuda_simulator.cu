// The CUDA simulator itself (SIM builds only: most kernels here break CUDA's rules on purpose).
// 1. racecheck: each classic race (a shared-memory reduction missing a __syncthreads, many threads writing one shared
//    cell, warp-synchronous code without __syncwarp, a block reading another block's output, a plain write among
//    atomics) is reported under every schedule, naming the kernel and the source line of both accesses; the correct
//    versions run clean and right under every schedule.
// 2. initcheck: device memory never written (fresh, or a block the caching allocator hands out again), shared memory
//    read before written (dynamic and static), a cuBLAS operand never written.
// 3. memcheck: an access one element past a buffer's end, to a buffer the launch was not given, to a freed buffer,
//    past a block's shared memory.
// 4. Device-like errors: a fault is asynchronous, surfaces at the next synchronisation and stays; the launches after it
//    do not run; CUDA_LAUNCH_BLOCKING=1 names the faulting launch; a process whose device faulted exits with the error,
//    not an abort; launches the device refuses (limits on blocks, grids, shared memory, argument bytes) fail at the
//    launch; a barrier or warp exchange that not every thread joins is a fault.
// 5. The built-ins behave as on a GPU: indices, shuffles, ballots, atomics, shared memory that starts as NaN, the
//    cuBLAS stand-in's products (column-major, its own summation order, TF32), events, copies from pinned memory that
//    wait for the stream. Host code touching device memory and a stack overflow stop the process.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "cuda/blas.h"
#include "cuda/kernel.h"
#include "cuda/memory.h"
#include "cuda/sim/device_state.h"
#include "cuda/sim/memory_check.h"
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

// What the next synchronisation after `f` reports ("" when nothing), with the device made new again before and after.
template <typename F>
std::string fault_of(F&& f) {
  sim::forget_device_errors();
  f();
  const cudaError_t status = cudaStreamSynchronize(erc::cuda::stream());
  std::string text;
  if (status != cudaSuccess) text = std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status);
  sim::forget_device_errors();
  return text;
}

// "tests/test_cuda_simulator.cu:N", N the line of this file that holds `marker`: where a report must point.
std::string line_marked(const std::string& marker) {
  std::ifstream source(std::string(ERC_FIXTURE_DIR) + "/../test_cuda_simulator.cu");
  std::string line;
  for (int n = 1; std::getline(source, line); ++n)
    if (line.find(marker) != std::string::npos && line.find("line_marked") == std::string::npos)
      return "tests/test_cuda_simulator.cu:" + std::to_string(n);
  return "(no line holds '" + marker + "')";
}

Tensor device_iota(int64_t n) { return Tensor::arange(n, DType::f32).to(Device::cuda); }

// ---- 1. racecheck -------------------------------------------------------------------------------------------------

__global__ void reduce_with_barriers(const float* x, float* out) {
  ERC_SHARED_ARRAY(float, s, kBlock);
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
  ERC_SHARED_ARRAY(float, s, kBlock);
  const unsigned t = threadIdx.x;
  s[t] = x[blockIdx.x * kBlock + t];
  __syncthreads();
  for (unsigned stride = kBlock / 2; stride > 0; stride /= 2)
    if (t < stride) s[t] += s[t + stride];  // racecheck: a partner's sum, read before its barrier
  if (t == 0) out[blockIdx.x] = s[0];
}

// Every thread writes the cell; which value survives depends on who writes last.
__global__ void shared_cell_race(float* out) {
  ERC_SHARED(float, cell);
  cell = float(threadIdx.x);  // racecheck: every thread writes the cell
  __syncthreads();
  if (threadIdx.x == 0) out[blockIdx.x] = cell;
}

// The same cell written by one thread only.
__global__ void shared_cell_one_writer(float* out) {
  ERC_SHARED(float, cell);
  if (threadIdx.x == kBlock - 1) cell = float(threadIdx.x);
  __syncthreads();
  if (threadIdx.x == 0) out[blockIdx.x] = cell;
}

// The last warp of a reduction written as if the 32 lanes ran in lockstep (pre-Volta style), without __syncwarp.
__global__ void warp_sum_lockstep(const float* x, float* out) {
  ERC_SHARED_ARRAY(float, s, 32);
  const unsigned lane = threadIdx.x;
  volatile float* v = s;
  v[lane] = x[lane];
  for (unsigned offset = 16; offset > 0; offset /= 2)
    if (lane < offset) v[lane] = v[lane] + v[lane + offset];  // racecheck: no __syncwarp
  if (lane == 0) out[0] = v[0];
}

// The same with every read separated from every write by __syncwarp.
__global__ void warp_sum_syncwarp(const float* x, float* out) {
  ERC_SHARED_ARRAY(float, s, 32);
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
  if (threadIdx.x == 0) value[blockIdx.x + 1] = value[blockIdx.x] + 1.0f;  // racecheck: another block's output
}

__global__ void write_block_index(float* value) {
  if (threadIdx.x == 0) value[blockIdx.x + 1] = float(blockIdx.x) + 1.0f;
}

// Atomics among themselves are ordered; a plain write to the same word among them is not.
__global__ void count_with_a_plain_reset(int* count) {
  if (threadIdx.x == 5) *count = 0;  // racecheck: a plain write among atomics
  atomicAdd(count, 1);
}

TEST(CudaSimulator, AReductionMissingABarrierIsARaceUnderEveryScheduleTheCorrectOneRunsClean) {
  const Tensor x = device_iota(4 * kBlock);
  const float expected = float(kBlock) * (kBlock - 1) / 2;  // block 0's sum; the others follow
  for (float sum : under_every_schedule([&] {
         Tensor out = Tensor::zeros({4}, DType::f32, Device::cuda);
         launch<reduce_with_barriers>(ERC_HERE, 4, kBlock, 0, x.device_data<float>(), out.device_data<float>());
         return out.to(Device::cpu).to_vector<float>()[0];
       }))
    EXPECT_EQ(sum, expected);
  for (const std::string& e : under_every_schedule([&] {
         Tensor out = Tensor::zeros({4}, DType::f32, Device::cuda);
         return fault_of([&] {
           launch<reduce_missing_barrier>(ERC_HERE, 4, kBlock, 0, x.device_data<float>(), out.device_data<float>());
         });
       })) {
    EXPECT_TRUE(mentions(e, "cudaErrorLaunchFailure: unspecified launch failure; CUDA simulator: racecheck: "));
    EXPECT_TRUE(mentions(e, "kernel `reduce_missing_barrier` (launched at "));
    EXPECT_TRUE(mentions(e, "of the block's shared memory at " + line_marked("racecheck: a partner's sum")));
    EXPECT_TRUE(mentions(e, "with no __syncthreads (or, in one warp, __syncwarp) between them"));
  }
}

TEST(CudaSimulator, ASharedCellEveryThreadWritesIsAWriteAfterWriteHazard) {
  for (const auto& out : under_every_schedule([&] {
         Tensor o = Tensor::zeros({3}, DType::f32, Device::cuda);
         launch<shared_cell_one_writer>(ERC_HERE, 3, kBlock, 0, o.device_data<float>());
         return o.to(Device::cpu).to_vector<float>();
       }))
    EXPECT_EQ(out, std::vector<float>(3, float(kBlock - 1)));
  Tensor out = Tensor::zeros({3}, DType::f32, Device::cuda);
  const std::string e = fault_of([&] { launch<shared_cell_race>(ERC_HERE, 3, kBlock, 0, out.device_data<float>()); });
  EXPECT_TRUE(mentions(e, "racecheck: WAW hazard: kernel `shared_cell_race`"));
  EXPECT_TRUE(mentions(e, "writes 4 bytes at byte 0 of the block's shared memory at " +
                              line_marked("racecheck: every thread writes the cell")));
  EXPECT_TRUE(mentions(e, "wrote that word at " + line_marked("racecheck: every thread writes the cell")));
}

TEST(CudaSimulator, WarpSynchronousCodeWithoutSyncwarpIsARaceWithSyncwarpOrShufflesClean) {
  const Tensor x = device_iota(32);
  const float expected = 31.0f * 32 / 2;
  for (int version : {1, 2})
    for (float sum : under_every_schedule([&] {
           Tensor out = Tensor::zeros({1}, DType::f32, Device::cuda);
           if (version == 1)
             launch<warp_sum_syncwarp>(ERC_HERE, 1, 32, 0, x.device_data<float>(), out.device_data<float>());
           if (version == 2)
             launch<warp_sum_shuffle>(ERC_HERE, 1, 32, 0, x.device_data<float>(), out.device_data<float>());
           return out.to(Device::cpu).item<float>();
         }))
      EXPECT_EQ(sum, expected) << "version " << version;
  for (const std::string& e : under_every_schedule([&] {
         Tensor out = Tensor::zeros({1}, DType::f32, Device::cuda);
         return fault_of(
             [&] { launch<warp_sum_lockstep>(ERC_HERE, 1, 32, 0, x.device_data<float>(), out.device_data<float>()); });
       })) {
    // A lane reads its partner's cell before the partner wrote it (initcheck), or while it does (racecheck).
    EXPECT_TRUE(mentions(e, "racecheck: ") || mentions(e, "initcheck: ")) << e;
    EXPECT_TRUE(mentions(e, line_marked("racecheck: no __syncwarp")));
  }
}

TEST(CudaSimulator, ABlockReadingAnotherBlocksOutputIsARaceUnderEveryBlockOrder) {
  constexpr int kBlocks = 8;
  for (float last : under_every_schedule([&] {
         Tensor value = Tensor::zeros({kBlocks + 1}, DType::f32, Device::cuda);
         launch<write_block_index>(ERC_HERE, kBlocks, 32, 0, value.device_data<float>());
         return value.to(Device::cpu).to_vector<float>()[kBlocks];
       }))
    EXPECT_EQ(last, float(kBlocks));
  for (const std::string& e : under_every_schedule([&] {
         Tensor value = Tensor::zeros({kBlocks + 1}, DType::f32, Device::cuda);
         return fault_of([&] { launch<chain_across_blocks>(ERC_HERE, kBlocks, 32, 0, value.device_data<float>()); });
       })) {
    EXPECT_TRUE(mentions(e, "racecheck: ")) << e;
    EXPECT_TRUE(mentions(e, "of a 36-byte device buffer (argument 0 of the kernel points into it) at " +
                                line_marked("racecheck: another block's output")));
    EXPECT_TRUE(mentions(e, "in another block of the same launch (nothing orders the blocks of a grid)"));
  }
}

TEST(CudaSimulator, AtomicsDoNotRaceWithEachOtherButAPlainWriteAmongThemDoes) {
  Tensor count = Tensor::zeros({1}, DType::i64, Device::cuda);
  const std::string e = fault_of([&] {
    launch<count_with_a_plain_reset>(ERC_HERE, 1, 64, 0, reinterpret_cast<int*>(count.device_data<int64_t>()));
  });
  EXPECT_TRUE(mentions(e, "racecheck: ")) << e;
  EXPECT_TRUE(mentions(e, line_marked("racecheck: a plain write among atomics")));
  EXPECT_TRUE(mentions(e, "updated atomically that word at") || mentions(e, "updates atomically"));
}

// ---- 2. initcheck -------------------------------------------------------------------------------------------------

__global__ void copy_one(const float* in, float* out) { out[threadIdx.x] = in[threadIdx.x]; }  // initcheck: a read

__global__ void fill_ones(float* x) { x[threadIdx.x] = 1.0f; }

__global__ void read_dynamic_shared_before_writing(float* out) {
  ERC_DYNAMIC_SHARED(float, buffer);
  out[blockIdx.x * blockDim.x + threadIdx.x] = buffer[threadIdx.x];  // initcheck: dynamic shared, unwritten
  __syncthreads();
  buffer[threadIdx.x] = 1.0f;
}

__global__ void read_static_shared_before_writing(float* out) {
  ERC_SHARED_ARRAY(double, table, 8);
  out[threadIdx.x] = float(table[threadIdx.x % 8]);  // initcheck: static shared, unwritten
}

TEST(CudaSimulator, ReadingDeviceMemoryNoCopyOrKernelWroteIsAnError) {
  Tensor fresh = Tensor::empty({13}, DType::f32, Device::cuda), out = Tensor::zeros({13}, DType::f32, Device::cuda);
  const std::string e =
      fault_of([&] { launch<copy_one>(ERC_HERE, 1, 13, 0, fresh.device_data<float>(), out.device_data<float>()); });
  EXPECT_TRUE(mentions(e,
                       "cudaErrorLaunchFailure: unspecified launch failure; CUDA simulator: initcheck: "
                       "kernel `copy_one` (launched at "));
  EXPECT_TRUE(mentions(e,
                       "block (0, 0, 0), thread (0, 0, 0) reads 4 bytes at byte 0 of a 52-byte device buffer "
                       "(argument 0 of the kernel points into it), whose byte 0 was never written since the buffer "
                       "was handed out, at " +
                           line_marked("initcheck: a read")));
  // Written, by a copy or a kernel, it reads clean.
  Tensor copied = Tensor::arange(13, DType::f32).to(Device::cuda),
         filled = Tensor::empty({13}, DType::f32, Device::cuda);
  launch<fill_ones>(ERC_HERE, 1, 13, 0, filled.device_data<float>());
  EXPECT_EQ(
      fault_of([&] { launch<copy_one>(ERC_HERE, 1, 13, 0, copied.device_data<float>(), out.device_data<float>()); }),
      "");
  EXPECT_EQ(
      fault_of([&] { launch<copy_one>(ERC_HERE, 1, 13, 0, filled.device_data<float>(), out.device_data<float>()); }),
      "");
}

TEST(CudaSimulator, ABlockTheCachingAllocatorHandsOutAgainIsPoisonAndUnwrittenAgain) {
  Tensor out = Tensor::zeros({13}, DType::f32, Device::cuda);
  erc::cuda::device_allocator().empty_cache();  // so that the block freed below is the one handed out next
  const void* first = nullptr;
  {
    Tensor used = Tensor::ones({13}, DType::f32, Device::cuda);
    first = used.device_data<float>();
  }
  Tensor reused = Tensor::empty({13}, DType::f32, Device::cuda);
  ASSERT_EQ(static_cast<const void*>(reused.device_data<float>()), first) << "the cache gave another block";
  const std::string e =
      fault_of([&] { launch<copy_one>(ERC_HERE, 1, 13, 0, reused.device_data<float>(), out.device_data<float>()); });
  EXPECT_TRUE(mentions(e, "initcheck: kernel `copy_one`")) << e;
  sim::set_checks(sim::Checks::memcheck);  // the values a GPU would read there instead: here NaN, not the old ones
  launch<copy_one>(ERC_HERE, 1, 13, 0, reused.device_data<float>(), out.device_data<float>());
  sim::set_checks(sim::Checks::all);
  for (float v : out.to(Device::cpu).to_vector<float>()) EXPECT_TRUE(std::isnan(v));
}

TEST(CudaSimulator, SharedMemoryReadBeforeTheBlockWroteItIsAnError) {
  Tensor out = Tensor::zeros({2, 32}, DType::f32, Device::cuda);
  std::string e = fault_of([&] {
    launch<read_dynamic_shared_before_writing>(ERC_HERE, 2, 32, 32 * sizeof(float), out.device_data<float>());
  });
  EXPECT_TRUE(mentions(e, "initcheck: kernel `read_dynamic_shared_before_writing`"));
  EXPECT_TRUE(mentions(e, "of the block's shared memory, whose byte 0 was never written in this block, at " +
                              line_marked("initcheck: dynamic shared, unwritten")));
  e = fault_of([&] { launch<read_static_shared_before_writing>(ERC_HERE, 1, 32, 0, out.device_data<float>()); });
  EXPECT_TRUE(mentions(e, "initcheck: ")) << e;
  EXPECT_TRUE(mentions(e, line_marked("initcheck: static shared, unwritten")));
}

TEST(CudaSimulator, ACublasOperandNoKernelWroteIsAnError) {
  Tensor a = Tensor::empty({6}, DType::f32, Device::cuda), b = Tensor::ones({6}, DType::f32, Device::cuda);
  Tensor c = Tensor::empty({4}, DType::f32, Device::cuda);
  const float one = 1, zero = 0;
  const std::string e = fault_of([&] {
    EXPECT_EQ(cublasSgemm(erc::cuda::blas_handle(), CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, a.device_data<float>(), 2,
                          b.device_data<float>(), 3, &zero, c.device_data<float>(), 2),
              CUBLAS_STATUS_SUCCESS);
  });
  EXPECT_TRUE(mentions(e, "initcheck: cuBLAS GEMM, matrix A reads 8 bytes at byte 0 of a 24-byte device buffer")) << e;
}

// ---- 3. memcheck --------------------------------------------------------------------------------------------------

__global__ void write_one_past_the_end(float* x, int n) { x[n] = 1.0f; }  // memcheck: one past the end

float* hidden_buffer = nullptr;  // a device buffer reached through a global, not through the launch's arguments
__global__ void read_a_buffer_not_given(float* out) { out[0] = hidden_buffer[0]; }  // memcheck: not given

__global__ void write_past_the_shared_memory(float* out) {
  ERC_DYNAMIC_SHARED(float, buffer);
  buffer[threadIdx.x + 1] = 1.0f;  // memcheck: past the shared memory
  if (threadIdx.x == 0) out[0] = 0.0f;
}

TEST(CudaSimulator, AnAccessOneElementPastABuffersEndIsAnIllegalAddress) {
  Tensor x = Tensor::zeros({13}, DType::f32, Device::cuda);  // 52 bytes: the end is not a page's
  const std::string e =
      fault_of([&] { launch<write_one_past_the_end>(ERC_HERE, 1, 1, 0, x.device_data<float>(), 13); });
  EXPECT_TRUE(mentions(e,
                       "cudaErrorIllegalAddress: an illegal memory access was encountered; CUDA simulator: "
                       "memcheck: kernel `write_one_past_the_end` (launched at "));
  EXPECT_TRUE(mentions(e,
                       "block (0, 0, 0), thread (0, 0, 0) writes 4 bytes at byte 52 of a 52-byte device buffer "
                       "(argument 0 of the kernel points into it): 4 of them past its end, at " +
                           line_marked("memcheck: one past the end")));
}

TEST(CudaSimulator, AnAccessToABufferTheLaunchWasNotGivenOrThatWasFreedIsAnIllegalAddress) {
  Tensor hidden = Tensor::zeros({4}, DType::f32, Device::cuda), out = Tensor::zeros({1}, DType::f32, Device::cuda);
  hidden_buffer = hidden.device_data<float>();
  std::string e = fault_of([&] { launch<read_a_buffer_not_given>(ERC_HERE, 1, 1, 0, out.device_data<float>()); });
  EXPECT_TRUE(mentions(e, "memcheck: kernel `read_a_buffer_not_given`"));
  EXPECT_TRUE(mentions(e,
                       "reads 4 bytes at byte 0 of a 16-byte device buffer that the kernel was not given (no argument "
                       "of the launch points into it), at " +
                           line_marked("memcheck: not given")));
  float* freed = nullptr;
  {
    Tensor gone = Tensor::zeros({13}, DType::f32, Device::cuda);
    freed = gone.device_data<float>();
  }
  e = fault_of([&] { launch<write_one_past_the_end>(ERC_HERE, 1, 1, 0, freed, 0); });
  EXPECT_TRUE(mentions(e,
                       "writes 4 bytes at byte 0 of a device buffer that was freed (the caching allocator holds it "
                       "for reuse)"))
      << e;
}

TEST(CudaSimulator, AnAccessPastTheBlocksSharedMemoryIsAnIllegalAddress) {
  Tensor out = Tensor::zeros({1}, DType::f32, Device::cuda);
  const std::string e = fault_of(
      [&] { launch<write_past_the_shared_memory>(ERC_HERE, 1, 32, 32 * sizeof(float), out.device_data<float>()); });
  EXPECT_TRUE(mentions(e, "memcheck: kernel `write_past_the_shared_memory`"));
  EXPECT_TRUE(mentions(e,
                       "thread (31, 0, 0) writes 4 bytes at byte 128 of shared memory, past the 128 bytes the block "
                       "has (128 dynamic, 0 static, in that order), at " +
                           line_marked("memcheck: past the shared memory")));
}

// ---- 4. Errors as a GPU keeps them --------------------------------------------------------------------------------

TEST(CudaSimulator, AFaultSurfacesAtTheNextSynchronisationAndEveryCallReturnsItFromThenOn) {
  sim::forget_device_errors();
  Tensor x = Tensor::zeros({13}, DType::f32, Device::cuda), later = Tensor::zeros({13}, DType::f32, Device::cuda);
  launch<write_one_past_the_end>(ERC_HERE, 1, 1, 0, x.device_data<float>(), 13);
  EXPECT_EQ(cudaPeekAtLastError(), cudaSuccess) << "a fault is asynchronous: the launch itself succeeded";
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  launch<fill_ones>(ERC_HERE, 1, 13, 0, later.device_data<float>());  // does not run: the context is lost
  EXPECT_EQ(cudaStreamSynchronize(erc::cuda::stream()), cudaErrorIllegalAddress);
  EXPECT_EQ(cudaGetLastError(), cudaErrorIllegalAddress);
  EXPECT_EQ(cudaGetLastError(), cudaErrorIllegalAddress) << "a sticky error is not cleared";
  EXPECT_EQ(cudaPeekAtLastError(), cudaErrorIllegalAddress);
  void* p = nullptr;
  EXPECT_EQ(cudaMalloc(&p, 64), cudaErrorIllegalAddress);
  float host[13];
  EXPECT_EQ(cudaMemcpy(host, later.device_data<float>(), sizeof host, cudaMemcpyDeviceToHost), cudaErrorIllegalAddress);
  // erc's own calls fail with the account of the fault and where to look next.
  const std::string e = error_of([&] { later.to(Device::cpu); });
  EXPECT_TRUE(mentions(e, "cudaErrorIllegalAddress"));
  EXPECT_TRUE(mentions(e, "kernel `write_one_past_the_end`"));
  EXPECT_TRUE(mentions(e, "CUDA_LAUNCH_BLOCKING=1"));
  sim::forget_device_errors();
  EXPECT_EQ(later.to(Device::cpu).to_vector<float>(), std::vector<float>(13, 0.0f)) << "the later launch ran";
}

using CudaSimulatorDeathTest = ::testing::Test;

TEST_F(CudaSimulatorDeathTest, WithCudaLaunchBlockingTheFaultingLaunchIsNamed) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // a fresh process, which reads the environment
  setenv("CUDA_LAUNCH_BLOCKING", "1", 1);
  auto fault = [] {
    Tensor x = Tensor::zeros({13}, DType::f32, Device::cuda);
    try {
      launch<write_one_past_the_end>(ERC_HERE, 1, 1, 0, x.device_data<float>(), 13);  // launch-blocking: it faults
    } catch (const erc::Error& e) {
      std::fprintf(stderr, "%s\n", e.what());
      std::exit(3);
    }
  };
  EXPECT_EXIT(fault(), ::testing::ExitedWithCode(3),
              "CUDA error cudaErrorIllegalAddress .* running kernel `write_one_past_the_end` .* at .*"
              "test_cuda_simulator.cu:" +
                  line_marked("launch-blocking: it faults").substr(29));
  unsetenv("CUDA_LAUNCH_BLOCKING");
}

TEST_F(CudaSimulatorDeathTest, AProcessWhoseDeviceFaultedExitsWithTheErrorNotAnAbort) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto fault_then_exit = [] {
    for (int i = 0; i < 3; ++i) Tensor::ones({1000}, DType::f32, Device::cuda);  // cached blocks, freed at exit
    Tensor x = Tensor::zeros({13}, DType::f32, Device::cuda);
    launch<write_one_past_the_end>(ERC_HERE, 1, 1, 0, x.device_data<float>(), 13);
    try {
      x.to(Device::cpu);
    } catch (const erc::Error& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      std::exit(3);  // static destructors run: the caching allocator frees its blocks on a faulted device
    }
  };
  EXPECT_EXIT(fault_then_exit(), ::testing::ExitedWithCode(3), "error: CUDA error cudaErrorIllegalAddress");
}

__global__ void write_thread_index(float* out) { out[threadIdx.x] = float(threadIdx.x); }

template <typename T>
__global__ void write_value(T* out, T value) {
  out[threadIdx.x] = value;
}

__global__ void use_dynamic_shared(float* out) {
  ERC_DYNAMIC_SHARED(float, buffer);
  buffer[threadIdx.x] = float(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = buffer[blockDim.x - 1 - threadIdx.x];
}

__global__ void use_static_and_dynamic_shared(float* out) {
  ERC_SHARED_ARRAY(float, table, 8192);  // 32 KiB
  ERC_DYNAMIC_SHARED(float, buffer);
  table[threadIdx.x] = 1.0f;
  buffer[threadIdx.x] = 2.0f;
  __syncthreads();
  out[threadIdx.x] = table[threadIdx.x] + buffer[threadIdx.x];
}

struct Huge {
  float values[8200];  // 32,800 bytes: above the 32,764 a kernel's arguments may take
};
__global__ void take_a_huge_argument(Huge h, float* out) { out[0] = h.values[0]; }

TEST(CudaSimulator, ALaunchTheDeviceRefusesFailsAtTheLaunchNamingTheKernelAndIsNotSticky) {
  Tensor out = Tensor::zeros({2048}, DType::f32, Device::cuda);
  float* o = out.device_data<float>();
  std::string e = error_of([&] { launch<write_thread_index>(ERC_HERE, 1, 1025, 0, o); });
  EXPECT_TRUE(mentions(e, "CUDA error cudaErrorInvalidConfiguration"));
  EXPECT_TRUE(mentions(e, "launching kernel `write_thread_index`"));
  EXPECT_TRUE(mentions(e, "exceeds CUDA's limits (at most 1024 threads"));
  EXPECT_EQ(cudaGetLastError(), cudaSuccess) << "a refused launch is not sticky";
  EXPECT_TRUE(
      mentions(error_of([&] { launch<write_thread_index>(ERC_HERE, 1, dim3(1, 1, 65), 0, o); }), "block (1, 1, 65)"));
  EXPECT_TRUE(mentions(error_of([&] { launch<write_thread_index>(ERC_HERE, dim3(1, 65536), 1, 0, o); }),
                       "grid (1, 65536, 1) exceeds CUDA's limits"));
  EXPECT_TRUE(mentions(error_of([&] { launch<write_thread_index>(ERC_HERE, 0, 32, 0, o); }), "an empty grid"));
  EXPECT_TRUE(mentions(error_of([&] { launch<write_value<float>>(ERC_HERE, 1, 2048, 0, o, 1.0f); }),
                       "kernel `write_value<float>`"));
  e = error_of([&] { launch<take_a_huge_argument>(ERC_HERE, 1, 1, 0, Huge{}, o); });
  EXPECT_TRUE(mentions(e, "CUDA error cudaErrorInvalidValue"));
  EXPECT_TRUE(mentions(e, "32808 bytes of arguments, above the 32764 a kernel takes"));
  launch<write_thread_index>(ERC_HERE, 1, 32, 0, o);
  EXPECT_EQ(out.to(Device::cpu).to_vector<float>()[31], 31.0f) << "the device still works";
}

TEST(CudaSimulator, SharedMemoryBeyondWhatTheKernelMayUseIsRefusedStaticAndDynamicTogether) {
  Tensor out = Tensor::zeros({256}, DType::f32, Device::cuda);
  float* o = out.device_data<float>();
  std::string e = error_of([&] { launch<use_dynamic_shared>(ERC_HERE, 1, 256, 64 * 1024, o); });
  EXPECT_TRUE(mentions(e, "65536 bytes of dynamic shared memory, above the 49152"));
  EXPECT_TRUE(mentions(e, "cudaFuncSetAttribute"));
  ASSERT_EQ(cudaFuncSetAttribute(use_dynamic_shared, cudaFuncAttributeMaxDynamicSharedMemorySize, 64 * 1024),
            cudaSuccess);
  launch<use_dynamic_shared>(ERC_HERE, 1, 256, 64 * 1024, o);
  EXPECT_EQ(out.to(Device::cpu).to_vector<float>()[0], 255.0f);
  EXPECT_EQ(cudaFuncSetAttribute(use_dynamic_shared, cudaFuncAttributeMaxDynamicSharedMemorySize, 228 * 1024),
            cudaErrorInvalidValue)
      << "above the device's 227 KiB";
  // 32 KiB static and 16 KiB dynamic fit in 48 KiB; 20 KiB dynamic do not, found at the first launch and at every
  // launch after it.
  launch<use_static_and_dynamic_shared>(ERC_HERE, 1, 256, 16 * 1024, o);
  EXPECT_EQ(out.to(Device::cpu).to_vector<float>()[0], 3.0f);
  e = error_of([&] { launch<use_static_and_dynamic_shared>(ERC_HERE, 1, 256, 20 * 1024, o); });
  EXPECT_TRUE(mentions(e, "32768 bytes of static and 20480 of dynamic shared memory, above the 49152")) << e;
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

TEST(CudaSimulator, ABarrierThatNotEveryThreadReachesIsAFault) {
  Tensor out = Tensor::zeros({256}, DType::f32, Device::cuda);
  float* o = out.device_data<float>();
  std::string e = fault_of([&] { launch<early_return_before_barrier>(ERC_HERE, 2, 256, 0, o); });
  EXPECT_TRUE(mentions(e, "cudaErrorLaunchFailure"));
  EXPECT_TRUE(mentions(e, "early_return_before_barrier"));
  EXPECT_TRUE(mentions(e, "is reached by 100 of the block's 256 threads; the other 156 returned before it"));
  EXPECT_TRUE(mentions(e, "test_cuda_simulator.cu:"));
  e = fault_of([&] { launch<barriers_in_two_branches>(ERC_HERE, 1, 64, 0, o); });
  EXPECT_TRUE(mentions(e, "wait at two different __syncthreads"));
}

TEST(CudaSimulator, AWarpExchangeALaneOfItsMaskDoesNotJoinIsAFault) {
  Tensor out = Tensor::zeros({32}, DType::f32, Device::cuda);
  float* o = out.device_data<float>();
  std::string e = fault_of([&] { launch<shuffle_half_warp_returns>(ERC_HERE, 1, 32, 0, o); });
  EXPECT_TRUE(mentions(e, "waits in __shfl_sync"));
  EXPECT_TRUE(mentions(e, "returned without joining it"));
  e = fault_of([&] { launch<shuffle_reads_outside_mask>(ERC_HERE, 1, 32, 0, o); });
  EXPECT_TRUE(mentions(e, "reads lane 20, which is not in its mask 0x0000ffff"));
}

// ---- 5. The built-ins, and what stops the process ----------------------------------------------------------------

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

TEST(CudaSimulator, SharedMemoryStartsEachBlockAsNaNNotAsTheLastBlocksValues) {
  sim::set_checks(sim::Checks::memcheck);  // initcheck would stop the read: what would it see?
  Tensor out = Tensor::zeros({2, 32}, DType::f32, Device::cuda);
  launch<read_dynamic_shared_before_writing>(ERC_HERE, 2, 32, 32 * sizeof(float), out.device_data<float>());
  sim::set_checks(sim::Checks::all);
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

// A row of 2^24 and 63 ones against ones: summed in one chain every 1 is lost to rounding (2^24 + 1 rounds to 2^24);
// in blocks of 32, the second block's 32 ones survive as 32.
TEST(CudaSimulator, CublasStandInSumsInBlocksOf32AndRoundsToTf32InTf32Mode) {
  std::vector<float> row(64, 1.0f);
  row[0] = 16777216.0f;
  Tensor a = Tensor::from_vector<float>(row, {64}).to(Device::cuda), b = Tensor::ones({64}, DType::f32, Device::cuda);
  Tensor c = Tensor::zeros({1}, DType::f32, Device::cuda);
  const float one = 1, zero = 0;
  cublasHandle_t h = erc::cuda::blas_handle();
  ASSERT_EQ(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 64, &one, a.device_data<float>(), 1, b.device_data<float>(),
                        64, &zero, c.device_data<float>(), 1),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(c.to(Device::cpu).item<float>(), 16777216.0f + 32.0f);
  // 1 + 2^-12 keeps its last bit in FP32 and loses it in TF32 (10 bits of mantissa).
  Tensor x = Tensor::full({1}, 1.0 + std::ldexp(1.0, -12), DType::f32, Device::cuda);
  Tensor y = Tensor::ones({1}, DType::f32, Device::cuda);
  auto product = [&] {
    EXPECT_EQ(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, x.device_data<float>(), 1, y.device_data<float>(),
                          1, &zero, c.device_data<float>(), 1),
              CUBLAS_STATUS_SUCCESS);
    return c.to(Device::cpu).item<float>();
  };
  EXPECT_EQ(product(), float(1.0 + std::ldexp(1.0, -12)));
  erc::cuda::use_tf32(true);
  EXPECT_EQ(product(), 1.0f);
  erc::cuda::use_tf32(false);
}

TEST(CudaSimulator, ACopyFromPinnedMemoryWaitsForTheStreamAsOnAGpu) {
  Tensor dst = Tensor::zeros({4}, DType::f32, Device::cuda);
  float* pinned = nullptr;
  ASSERT_EQ(cudaMallocHost(reinterpret_cast<void**>(&pinned), 4 * sizeof(float)), cudaSuccess);
  for (int i = 0; i < 4; ++i) pinned[i] = 1.0f;
  ASSERT_EQ(
      cudaMemcpyAsync(dst.device_data<float>(), pinned, 4 * sizeof(float), cudaMemcpyHostToDevice, erc::cuda::stream()),
      cudaSuccess);
  for (int i = 0; i < 4; ++i) pinned[i] = 2.0f;  // too early: the copy has not run
  ASSERT_EQ(cudaStreamSynchronize(erc::cuda::stream()), cudaSuccess);
  EXPECT_EQ(dst.to(Device::cpu).to_vector<float>(), std::vector<float>(4, 2.0f)) << "the copy ran at once";
  ASSERT_EQ(cudaFreeHost(pinned), cudaSuccess);
  // erc's own uploads stage the bytes first: the caller's memory is its own again at once.
  std::vector<float> host(1000);
  std::vector<Tensor> sent;
  for (int k = 0; k < 20; ++k) {
    for (size_t i = 0; i < host.size(); ++i) host[i] = float(k * 1000 + int(i));
    sent.push_back(Tensor::from_vector<float>(host, {1000}).to(Device::cuda));
  }
  for (int k = 0; k < 20; ++k)
    EXPECT_EQ(sent[size_t(k)].to(Device::cpu).to_vector<float>()[999], float(k * 1000 + 999));
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

// 64 KiB of locals per level: deeper than a simulated thread's 256 KiB stack after a few levels.
__device__ int recurse(int depth) {
  volatile char locals[64 * 1024];
  locals[depth % sizeof(locals)] = char(depth);
  return depth == 0 ? 0 : recurse(depth - 1) + locals[0];
}
__global__ void overflow_the_stack(int* out) { out[0] = recurse(64); }

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

}  // namespace
