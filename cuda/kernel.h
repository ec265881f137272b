// What every .cu file includes: the CUDA API (cuda/api.h), the launcher, and, in a SIM build, CUDA C++'s built-ins
// (cuda/sim/kernel_language.h), so that one kernel source compiles under nvcc and under the host compiler.
//
//   launch<scale_kernel<scalar_t>>(ERC_HERE, grid, block, shared_bytes, x, n);
//
// is `scale_kernel<scalar_t><<<grid, block, shared_bytes, erc's stream>>>(x, n)` under nvcc, followed by a check
// that names the kernel, file and line; in a SIM build it runs the grid on the simulator. With CUDA_LAUNCH_BLOCKING=1
// (in both builds) the launcher also waits for the kernel, so that a fault is reported at its own launch.
//
// Shared memory: ERC_SHARED(T, name) declares a T (`__shared__ T name`), ERC_SHARED_ARRAY(T, name, n) an array of n
// (`__shared__ T name[n]`, n a constant), ERC_DYNAMIC_SHARED(T, name) the launch's dynamic shared memory (the
// `extern __shared__` array) as a T*. Under nvcc they are exactly that; in a SIM build they are the block's bytes in
// the simulator's shared memory, which its memory checker watches.
//
// The launcher and its helpers are in namespace erc itself, not erc::cuda, so that the kernels and launchers of
// every op (in erc::ops::cuda) name them without qualification; only .cu files include this header.
#pragma once
#include <string>
#include <utility>

#include "cuda/api.h"
#include "cuda/check.h"
#include "cuda/stream.h"
#include "cuda/timeline.h"

#ifdef ERC_CUDA_SIM
#include "cuda/sim/kernel_language.h"
#endif

namespace erc {

// Where a launch is written.
struct Where {
  const char* file;
  int line;
};

// "binary_kernel<float>" from a __PRETTY_FUNCTION__ that reads "... [with auto Kernel = erc::ops::cuda::{anonymous}::
// binary_kernel<float>; ...]": the instantiation the compiler made, without its namespaces.
inline std::string kernel_name_in(const std::string& pretty) {
  const size_t begin = pretty.find("Kernel = ");
  if (begin == std::string::npos) return pretty;
  const std::string name = pretty.substr(begin + 9, pretty.find_first_of(";]", begin) - begin - 9);
  const size_t scope = name.rfind("::", name.find('<'));
  return scope == std::string::npos ? name : name.substr(scope + 2);
}

template <auto Kernel>
const char* kernel_name() {
  static const std::string name = kernel_name_in(__PRETTY_FUNCTION__);
  return name.c_str();
}

// Whether CUDA_LAUNCH_BLOCKING=1 asks every launch to be waited for.
bool launch_blocking();

template <auto Kernel, typename... Args>
void launch(Where where, dim3 grid, dim3 block, size_t shared_bytes, Args&&... args) {
  const bool timed = cuda::KernelTimeline::recording();
  if (timed) cuda::KernelTimeline::begin(kernel_name<Kernel>());
#ifdef ERC_CUDA_SIM
  sim::launch({kernel_name<Kernel>(), where.file, where.line}, Kernel, grid, block, shared_bytes,
              std::forward<Args>(args)...);
#else
  // clang-format off
  Kernel<<<grid, block, shared_bytes, cuda::stream()>>>(std::forward<Args>(args)...);
  // clang-format on
#endif
  cudaError_t status = cudaGetLastError();
  const bool waited = status == cudaSuccess && launch_blocking();
  if (waited) status = cudaStreamSynchronize(cuda::stream());
  ERC_CHECK(status == cudaSuccess, "CUDA error ", cudaGetErrorName(status), " (", cudaGetErrorString(status), ") ",
            waited ? "running" : "launching", " kernel `", kernel_name<Kernel>(), "` with grid (", grid.x, ", ", grid.y,
            ", ", grid.z, "), block (", block.x, ", ", block.y, ", ", block.z, "), ", shared_bytes,
            " bytes of shared memory, at ", where.file, ":", where.line);
  if (timed) cuda::KernelTimeline::end();
}

// The dynamic shared memory a launch of Kernel may use: beyond the default 48 KiB a kernel must ask for it (H100 and
// H200 give a block at most 227 KiB); more than that is an error naming what needed it.
template <auto Kernel>
size_t dynamic_shared_memory(size_t bytes, const std::string& needed_by) {
  constexpr size_t kDefault = 48 * 1024, kMost = 227 * 1024;
  ERC_CHECK(bytes <= kMost, needed_by, " needs ", bytes,
            " bytes of shared memory per block on the device, more than the ", kMost, " a block may have");
  if (bytes > kDefault)
    ERC_CUDA_CHECK(cudaFuncSetAttribute(Kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)));
  return bytes;
}

// The grid of an element-wise kernel over n > 0 elements with blocks of `threads`: one element per thread up to
// 1024 blocks (enough to fill an H100's 132 SMs), beyond that a grid-stride loop,
//   for (int64_t i = global_thread(); i < n; i += grid_threads())
inline unsigned grid_for(int64_t n, unsigned threads) {
  const int64_t blocks = (n + threads - 1) / threads;
  return unsigned(blocks < 1024 ? blocks : 1024);
}
__device__ inline int64_t global_thread() { return int64_t(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ inline int64_t grid_threads() { return int64_t(blockDim.x) * gridDim.x; }

}  // namespace erc

#define ERC_HERE (::erc::Where{__FILE__, __LINE__})

// Before a loop of constant trip count: nvcc unrolls it, so that a small array indexed by its counter lives in
// registers rather than local memory. The host compiler of a SIM build decides for itself.
#ifdef __CUDACC__
#define ERC_UNROLL _Pragma("unroll")
#else
#define ERC_UNROLL
#endif

#ifdef ERC_CUDA_SIM
#define ERC_DYNAMIC_SHARED(T, name) T* name = ::erc::sim::dynamic_shared<T>()
#define ERC_SHARED_ARRAY(T, name, n)                                       \
  static const int erc_shared_slot_##name = ::erc::sim::new_shared_slot(); \
  T* const name = ::erc::sim::static_shared<T>(erc_shared_slot_##name, size_t(n))
#define ERC_SHARED(T, name)                  \
  ERC_SHARED_ARRAY(T, erc_shared_##name, 1); \
  T& name = *erc_shared_##name
#else
#define ERC_DYNAMIC_SHARED(T, name)                                    \
  extern __shared__ __align__(16) unsigned char erc_dynamic_shared_[]; \
  T* name = reinterpret_cast<T*>(erc_dynamic_shared_)
#define ERC_SHARED_ARRAY(T, name, n) __shared__ T name[n]
#define ERC_SHARED(T, name) __shared__ T name
#endif
