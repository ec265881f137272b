#include "tensor/dtype.h"

#include <cstring>

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

static uint32_t bits_of(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}
static float float_of(uint32_t u) {
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

uint16_t f32_to_bf16(float x) {
  uint32_t u = bits_of(x);
  if ((u & 0x7fffffff) > 0x7f800000) return uint16_t((u >> 16) | 0x40);  // NaN stays a (quiet) NaN
  u += 0x7fff + ((u >> 16) & 1);                                        // round to nearest even
  return uint16_t(u >> 16);
}

float bf16_to_f32(uint16_t x) { return float_of(uint32_t(x) << 16); }

uint16_t f32_to_f16(float x) {
  uint32_t u = bits_of(x);
  uint32_t sign = (u >> 16) & 0x8000;
  uint32_t abs = u & 0x7fffffff;
  if (abs > 0x7f800000) return uint16_t(sign | 0x7e00);       // NaN
  if (abs >= 0x477ff000) return uint16_t(sign | 0x7c00);      // rounds past 65504: infinity
  if (abs < 0x38800000) {                                     // below 2^-14: subnormal half (or zero)
    // Scale into the subnormal range with one float add, which rounds to nearest even for us.
    float f = float_of(abs) + 0.5f;
    return uint16_t(sign | (bits_of(f) - bits_of(0.5f)));
  }
  uint32_t mant_odd = (abs >> 13) & 1;
  abs += 0xc8000fff + mant_odd;  // rebias exponent (127 -> 15) and round to nearest even
  return uint16_t(sign | (abs >> 13));
}

float f16_to_f32(uint16_t x) {
  uint32_t sign = uint32_t(x & 0x8000) << 16;
  uint32_t exp = (x >> 10) & 0x1f;
  uint32_t mant = x & 0x3ff;
  if (exp == 0x1f) return float_of(sign | 0x7f800000 | (mant << 13));
  if (exp == 0) {  // zero or subnormal: mant * 2^-24
    float f = float(mant) * 5.9604644775390625e-8f;
    return sign ? -f : f;
  }
  return float_of(sign | ((exp + 112) << 23) | (mant << 13));
}

}  // namespace erc
