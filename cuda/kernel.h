// What every .cu file includes: the CUDA API (cuda/api.h), the launcher, and, in a SIM build, CUDA C++'s built-ins
// (cuda/sim/kernel_language.h), so that one kernel source compiles under nvcc and under the host compiler.
//
//   ERC_LAUNCH(scale_kernel<scalar_t>)(grid, block, shared_bytes, x, n);
//
// is `scale_kernel<scalar_t><<<grid, block, shared_bytes, erc's stream>>>(x, n)` under nvcc, followed by a check
// that names the kernel, file and line; in a SIM build it runs the grid on the simulator. ERC_DYNAMIC_SHARED(T, name)
// declares a kernel's dynamic shared memory (the `extern __shared__` array) as a T*.
#pragma once
#include <utility>

#include "cuda/api.h"
#include "cuda/check.h"
#include "cuda/stream.h"

#ifdef ERC_CUDA_SIM
#include "cuda/sim/kernel_language.h"
#endif

namespace erc::cuda {

struct Launch {
  const char* kernel;
  const char* file;
  int line;

  template <auto Kernel, typename... Args>
  void run(dim3 grid, dim3 block, size_t shared_bytes, Args&&... args) const {
#ifdef ERC_CUDA_SIM
    sim::launch({kernel, file, line}, Kernel, grid, block, shared_bytes, std::forward<Args>(args)...);
#else
    // clang-format off
    Kernel<<<grid, block, shared_bytes, stream()>>>(std::forward<Args>(args)...);
    // clang-format on
    const cudaError_t status = cudaGetLastError();
    ERC_CHECK(status == cudaSuccess, "CUDA error ", cudaGetErrorName(status), " (", cudaGetErrorString(status),
              ") launching kernel `", kernel, "` with grid (", grid.x, ", ", grid.y, ", ", grid.z, "), block (",
              block.x, ", ", block.y, ", ", block.z, "), ", shared_bytes, " bytes of shared memory, at ", file, ":",
              line);
#endif
  }
};

// The grid of an element-wise kernel over n > 0 elements with blocks of `threads`: one element per thread up to
// 1024 blocks (enough to fill an H100's 132 SMs), beyond that a grid-stride loop (ERC_GRID_STRIDE).
inline unsigned grid_for(int64_t n, unsigned threads) {
  const int64_t blocks = (n + threads - 1) / threads;
  return unsigned(blocks < 1024 ? blocks : 1024);
}

}  // namespace erc::cuda

#define ERC_LAUNCH(...) ::erc::cuda::Launch{#__VA_ARGS__, __FILE__, __LINE__}.run<__VA_ARGS__>

// for (ERC_GRID_STRIDE(i, n)) visits every i in [0, n) once across the grid.
#define ERC_GRID_STRIDE(i, n)                                                            \
  int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n);                  \
  i += int64_t(blockDim.x) * gridDim.x

#ifdef ERC_CUDA_SIM
#define ERC_DYNAMIC_SHARED(T, name) T* name = ::erc::sim::dynamic_shared<T>()
#else
#define ERC_DYNAMIC_SHARED(T, name)                                \
  extern __shared__ __align__(16) unsigned char erc_dynamic_shared_[]; \
  T* name = reinterpret_cast<T*>(erc_dynamic_shared_)
#endif
