#include "tensor/dtype.h"

#include "tensor/check.h"

namespace erc {

namespace detail {
void fail(const char* cond, const char* file, int line, const std::string& msg) {
  throw Error(cat(msg, "\n  (check `", cond, "` failed at ", file, ":", line, ")"));
}
}  // namespace detail

void fail_dtype(const char* op, DType dtype) {
  ERC_CHECK(false, op, ": expected a f32 or f64 tensor, got ", dtype_name(dtype));
  __builtin_unreachable();
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::i64: return 8;
    case DType::bf16: return 2;
    case DType::f16: return 2;
  }
  return 0;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32: return "f32";
    case DType::f64: return "f64";
    case DType::i64: return "i64";
    case DType::bf16: return "bf16";
    case DType::f16: return "f16";
  }
  return "?";
}

const char* device_name(Device device) { return device == Device::cpu ? "cpu" : "cuda"; }

bool is_floating(DType dtype) { return dtype != DType::i64; }

}  // namespace erc
