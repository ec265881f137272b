// The dispatch seam every op goes through: its inputs must share one device (an error names both otherwise), its
// outputs are made there, and it runs its CPU loops or calls its CUDA launchers (ops/<op>.cu). An op with no
// kernel on the device yet says so instead of reading device memory on the host.
#pragma once
#include <initializer_list>
#include <string>
#include <vector>

#include "tensor/cuda_call.h"
#include "tensor/tensor.h"

namespace erc::ops {

// The device of the op's defined inputs (the CPU when none is defined).
Device device_of(const char* op, std::initializer_list<Tensor> inputs);
Device device_of(const char* op, const std::vector<Tensor>& inputs);

// For an op whose CUDA kernels are not written yet: an error naming the op when an input is on the device.
void require_cpu(const char* op, std::initializer_list<Tensor> inputs);
void require_cpu(const char* op, const std::vector<Tensor>& inputs);

// Where a program runs for `choice`: "cpu"; "cuda", an error saying why when no device answers; "auto", the GPU when
// one answers, else the CPU (the simulator of a SIM build is chosen only by name: it is for tests, not for speed).
// `description` says which, and why, in one line.
struct DeviceChoice {
  Device device;
  std::string description;
};
DeviceChoice choose_device(const std::string& choice);

// The device's GEMMs (linear, matmul, bmm through cuBLAS) in TF32 on tensor cores when `on`, else in FP32 (the default,
// for parity with the CPU). A no-op without the CUDA backend.
void use_tf32_gemms(bool on);

// For a launcher: the device pointer of an optional output (a gradient not asked for is an undefined Tensor).
template <typename T>
T* device_data_or_null(const Tensor& t) {
  return t.defined() ? t.device_data<T>() : nullptr;
}

}  // namespace erc::ops
