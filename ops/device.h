// The dispatch seam every op goes through: its inputs must share one device (an error names both otherwise), its
// outputs are made there, and it runs its CPU loops or calls its CUDA launchers (ops/<op>.cu). An op with no
// kernel on the device yet says so instead of reading device memory on the host.
#pragma once
#include <initializer_list>
#include <vector>

#include "tensor/tensor.h"

namespace erc::ops {

// The device of the op's defined inputs (the CPU when none is defined).
Device device_of(const char* op, std::initializer_list<Tensor> inputs);
Device device_of(const char* op, const std::vector<Tensor>& inputs);

// For an op whose CUDA kernels are not written yet: an error naming the op when an input is on the device.
void require_cpu(const char* op, std::initializer_list<Tensor> inputs);
void require_cpu(const char* op, const std::vector<Tensor>& inputs);

[[noreturn]] void fail_without_cuda(const char* op);

}  // namespace erc::ops

// ERC_CUDA_CALL(launcher(...)) calls an op's CUDA launcher. In a build without the CUDA backend no device tensor can
// exist and the launchers are not compiled: the call becomes an error (never reached), and the launcher's call is
// only named inside sizeof, which needs no definition.
#ifdef ERC_WITH_CUDA
#define ERC_CUDA_CALL(...) __VA_ARGS__
#else
#define ERC_CUDA_CALL(...) (static_cast<void>(sizeof((__VA_ARGS__, 0))), ::erc::ops::fail_without_cuda(__func__))
#endif
