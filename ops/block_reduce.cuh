// Reductions across the threads of a block, for kernels (device code only). The order of every addition is fixed by
// the thread numbering (a shuffle tree within each warp, then one over the warps' partials), so a result does not
// depend on how the threads are scheduled: the same bits on every run.
#pragma once
#include "cuda/kernel.h"

namespace erc::ops {

// Combines one value per thread of a block of kThreads threads (a multiple of 32, all of them calling); the result is
// valid in thread 0 only. Combine is a functor: T operator()(T, T).
template <unsigned kThreads, typename T, typename Combine>
__device__ T block_reduce(T value, T identity, Combine combine) {
  static_assert(kThreads % 32 == 0 && kThreads <= 1024, "a block of whole warps");
  ERC_SHARED_ARRAY(T, warp_partial, kThreads / 32);
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int distance = 16; distance > 0; distance /= 2)
    value = combine(value, __shfl_down_sync(0xffffffffu, value, distance));
  __syncthreads();  // an earlier call in the same kernel may still be reading warp_partial
  if (lane == 0) warp_partial[warp] = value;
  __syncthreads();
  if (warp == 0) {
    value = lane < kThreads / 32 ? warp_partial[lane] : identity;
    for (int distance = 16; distance > 0; distance /= 2)
      value = combine(value, __shfl_down_sync(0xffffffffu, value, distance));
  }
  return value;
}

// Combines one value per lane of a warp (all 32 calling) by a butterfly: every lane ends with the same bits, since
// each step adds the same two values in either order (commutative) and the tree is the same for every lane.
template <typename T, typename Combine>
__device__ T warp_all_reduce(T value, Combine combine) {
  for (int distance = 16; distance > 0; distance /= 2)
    value = combine(value, __shfl_xor_sync(0xffffffffu, value, distance));
  return value;
}

struct Plus {
  template <typename T>
  __device__ T operator()(T a, T b) const {
    return a + b;
  }
};
struct Max {
  template <typename T>
  __device__ T operator()(T a, T b) const {
    return a > b ? a : b;
  }
};

}  // namespace erc::ops
