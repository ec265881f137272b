// CUDA C++'s built-ins as erc's kernels use them, for a SIM build: the same .cu sources then compile with the host
// compiler and run on the simulator (cuda/sim/scheduler.h). Only what erc's kernels need is here; a kernel that
// uses something else fails to compile in the SIM build, and its author adds it, with a test in
// tests/test_cuda_simulator.cu.
//
// Memory spaces: shared memory is declared with ERC_SHARED / ERC_SHARED_ARRAY (static) and ERC_DYNAMIC_SHARED
// (cuda/kernel.h), which give each block its bytes in the simulator's shared memory, poison (0xff bytes, NaN in every
// float type) and unwritten when the block starts, where the memory checker sees every access (memory_check.h); a
// plain `__shared__` does not compile here, and says what to write instead. Device memory is host memory the
// simulator guards. Atomics are real atomics (std::atomic_ref), announced to the memory checker first.
#pragma once
#include <math.h>

#include <atomic>
#include <cstdint>
#include <cstring>

#include "cuda/sim/memory_check.h"
#include "cuda/sim/scheduler.h"
#include "tensor/host_device.h"

// Function and variable qualifiers.
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
#define __shared__ erc_kernels_declare_shared_memory_with_ERC_SHARED_or_ERC_SHARED_ARRAY_from_cuda_kernel_h

// The thread's coordinates.
#define threadIdx (::erc::sim::this_thread().thread_idx)
#define blockIdx (::erc::sim::this_thread().block_idx)
#define blockDim (::erc::sim::this_thread().block_dim)
#define gridDim (::erc::sim::this_thread().grid_dim)
constexpr int warpSize = 32;

// Barriers and warp exchanges: macros, so that the simulator can name the line each thread waits at.
#define __syncthreads() ::erc::sim::syncthreads(__FILE__, __LINE__)
#define __syncwarp(...) ::erc::sim::syncwarp_at(__FILE__, __LINE__ __VA_OPT__(, ) __VA_ARGS__)
#define __shfl_sync(...) ::erc::sim::shfl_at(::erc::sim::WarpOp::shfl_idx, __FILE__, __LINE__, __VA_ARGS__)
#define __shfl_up_sync(...) ::erc::sim::shfl_at(::erc::sim::WarpOp::shfl_up, __FILE__, __LINE__, __VA_ARGS__)
#define __shfl_down_sync(...) ::erc::sim::shfl_at(::erc::sim::WarpOp::shfl_down, __FILE__, __LINE__, __VA_ARGS__)
#define __shfl_xor_sync(...) ::erc::sim::shfl_at(::erc::sim::WarpOp::shfl_xor, __FILE__, __LINE__, __VA_ARGS__)
#define __ballot_sync(mask, predicate) ::erc::sim::ballot_at(__FILE__, __LINE__, mask, predicate)
#define __any_sync(mask, predicate) (::erc::sim::ballot_at(__FILE__, __LINE__, mask, predicate) != 0u)
#define __all_sync(mask, predicate) \
  (::erc::sim::ballot_at(__FILE__, __LINE__, mask, predicate) == static_cast<unsigned>(mask))

namespace erc::sim {

inline void syncwarp_at(const char* file, int line, unsigned mask = 0xffffffffu) {
  warp_exchange(WarpOp::sync, mask, 0, 0, 32, file, line);
}

template <typename T>
T shfl_at(WarpOp op, const char* file, int line, unsigned mask, T value, int arg, int width = 32) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "a warp shuffle moves at most 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  bits = warp_exchange(op, mask, bits, arg, width, file, line);
  std::memcpy(&value, &bits, sizeof(T));
  return value;
}

inline unsigned ballot_at(const char* file, int line, unsigned mask, int predicate) {
  return unsigned(warp_exchange(WarpOp::ballot, mask, predicate != 0, 0, 32, file, line));
}

template <typename T>
T* dynamic_shared() {
  return reinterpret_cast<T*>(dynamic_shared_memory());
}

}  // namespace erc::sim

// Atomics (each returns the old value).
template <typename T>
T atomicAdd(T* address, T value) {
  ::erc::sim::check_atomic(address, sizeof(T));
  return std::atomic_ref<T>(*address).fetch_add(value);
}
template <typename T>
T atomicSub(T* address, T value) {
  ::erc::sim::check_atomic(address, sizeof(T));
  return std::atomic_ref<T>(*address).fetch_sub(value);
}
template <typename T>
T atomicExch(T* address, T value) {
  ::erc::sim::check_atomic(address, sizeof(T));
  return std::atomic_ref<T>(*address).exchange(value);
}
template <typename T>
T atomicCAS(T* address, T compare, T value) {
  ::erc::sim::check_atomic(address, sizeof(T));
  std::atomic_ref<T>(*address).compare_exchange_strong(compare, value);
  return compare;
}
template <typename T>
T atomicMax(T* address, T value) {
  ::erc::sim::check_atomic(address, sizeof(T));
  std::atomic_ref<T> cell(*address);
  T old = cell.load();
  while (old < value && !cell.compare_exchange_weak(old, value)) {
  }
  return old;
}
template <typename T>
T atomicMin(T* address, T value) {
  ::erc::sim::check_atomic(address, sizeof(T));
  std::atomic_ref<T> cell(*address);
  T old = cell.load();
  while (value < old && !cell.compare_exchange_weak(old, value)) {
  }
  return old;
}
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }

// Math intrinsics. The fast ones (__expf, __logf, __fdividef) compute the accurate function here (moved by expf's and
// logf's bounds in the ulp mode of cuda/sim/device_math.h): a GPU's are less accurate still.
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
// Rounded on their own, never fused into a multiply-add with their neighbours (the kernels are compiled to fuse).
inline float __fadd_rn(float a, float b) { return erc::unfused(erc::unfused(a) + erc::unfused(b)); }
inline float __fmul_rn(float a, float b) { return erc::unfused(a * b); }
inline double __dadd_rn(double a, double b) { return erc::unfused(erc::unfused(a) + erc::unfused(b)); }
inline double __dmul_rn(double a, double b) { return erc::unfused(a * b); }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline double __fma_rn(double a, double b, double c) { return fma(a, b, c); }
inline int __float_as_int(float x) {
  int i;
  std::memcpy(&i, &x, 4);
  return i;
}
inline float __int_as_float(int i) {
  float x;
  std::memcpy(&x, &i, 4);
  return x;
}
inline unsigned __popc(unsigned x) { return unsigned(__builtin_popcount(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }
template <typename T>
T __ldg(const T* address) {
  return *address;
}
