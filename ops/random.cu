#include "cuda/kernel.h"
#include "ops/random_cuda.h"
#include "tensor/philox.h"

namespace erc::ops::cuda {

namespace {

constexpr unsigned kThreads = 256;

template <typename T>
__global__ void random_kernel(T* out, int64_t n, RandomDraw draw, uint64_t seed, uint64_t offset, double a, double b) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    switch (draw) {
      case RandomDraw::uniform: out[i] = philox_uniform<T>(seed, offset, uint64_t(i), a, b); break;
      case RandomDraw::normal: out[i] = philox_normal<T>(seed, offset, uint64_t(i), a, b); break;
      case RandomDraw::bernoulli: out[i] = philox_bernoulli<T>(seed, offset, uint64_t(i), a); break;
    }
  }
}

}  // namespace

void fill_random(const Tensor& dst, RandomDraw draw, uint64_t seed, uint64_t offset, double a, double b) {
  const int64_t n = dst.numel();
  if (n == 0) return;
  ERC_CHECK(dst.is_contiguous(), "random fill: expected a contiguous tensor");
  dispatch_float(dst.dtype(), "random fill", [&](auto tag) {
    using scalar_t = decltype(tag);
    launch<random_kernel<scalar_t>>(ERC_HERE, grid_for(n, kThreads), kThreads, 0, dst.device_data<scalar_t>(), n, draw,
                                    seed, offset, a, b);
  });
}

}  // namespace erc::ops::cuda
