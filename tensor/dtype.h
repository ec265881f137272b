// Element types and devices. f32 is the default; f64 is for gradient checks on the CPU; bf16/f16 are storage
// types for the GPU work (converted element by element, tensor/half.h); i64 holds labels and indices.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace erc {

enum class DType : uint8_t { f32, f64, i64, bf16, f16 };
enum class Device : uint8_t { cpu, cuda };

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);  // "f32", "f64", ... as safetensors spells them: "F32", see safetensors.cpp
const char* device_name(Device device);
bool is_floating(DType dtype);

// The C++ type behind a dtype, for the ones the CPU computes in.
template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<double>() { return DType::f64; }
template <> constexpr DType dtype_of<int64_t>() { return DType::i64; }

}  // namespace erc

namespace erc {
[[noreturn]] void fail_dtype(const char* op, DType dtype);

// Calls f(float{}) or f(double{}) by dtype, so one generic lambda serves both:
//   dispatch_float(x.dtype(), "exp", [&](auto tag) { using scalar_t = decltype(tag); ... });
// A function, not a macro, so that OpenMP pragmas can stand inside the lambda.
template <typename F>
decltype(auto) dispatch_float(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::f32: return f(float{});
    case DType::f64: return f(double{});
    default: fail_dtype(op, dtype);
  }
}
}  // namespace erc
