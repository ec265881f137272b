// ERC_HOST_DEVICE marks the few functions that host code and CUDA kernels share (dtype conversions, Philox, element
// functions), so that both compute them from one copy of the source. Under nvcc it means __host__ __device__.
// Elsewhere it means always inlined: in a SIM build a kernel's .cu file is compiled with other flags than the CPU's
// .cpp files (the memory checker's instrumentation, the GPU's fused multiply-adds: CMakeLists.txt), and an inline
// function that both define is one symbol, of which the linker keeps one copy for both. Inlined at every call, each
// side runs the function as its own file compiled it.
#pragma once

#ifdef __CUDACC__
#define ERC_HOST_DEVICE __host__ __device__
#else
#define ERC_HOST_DEVICE __attribute__((always_inline))
#endif

// x as it is, hidden from the optimiser: an addition that uses it is not fused with the multiplication that made it.
// GCC fuses them where the target has FMA and -ffp-contract=fast (the SIM build's kernels, as nvcc does on a GPU);
// nvcc's device code writes __fmul_rn / __fadd_rn instead (tensor/philox.h).
namespace erc {

template <typename T>
ERC_HOST_DEVICE inline T unfused(T x) {
#if defined(__CUDA_ARCH__)
  return x;
#elif defined(__x86_64__) || defined(__i386__)
  asm("" : "+x"(x));
  return x;
#else
  asm("" : "+w"(x));
  return x;
#endif
}

}  // namespace erc
