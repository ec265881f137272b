// The CUDA face of ops/unary: the launchers ops/unary.cu defines and ops/unary.cpp calls, and the element functions
// and their slopes that both faces compute (one copy, for host and device).
#pragma once
#include <cmath>

#include "tensor/host_device.h"
#include "tensor/tensor.h"

namespace erc::ops {

enum class UnaryKind { exp, log, sqrt, pow, sigmoid, tanh, relu, silu, gelu, softplus };

// Each function is a struct with value(x, p) = y and slope(s, p) = dy/dx, where s is the element of the tensor
// forward saved: y when kSavesOutput, else x. p is the exponent of pow and unused elsewhere.

template <typename T>
ERC_HOST_DEVICE inline T stable_sigmoid(T x) {
  // e^-|x| never overflows; for x < 0 the form e^x / (1 + e^x) avoids 1 / (1 + inf).
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}

struct Exp {
  static constexpr const char* name = "exp";
  static constexpr UnaryKind kind = UnaryKind::exp;
  static constexpr bool kSavesOutput = true;
  template <typename T>
  ERC_HOST_DEVICE static T value(T x, T) {
    return std::exp(x);
  }
  template <typename T>
  ERC_HOST_DEVICE static T slope(T y, T) {
    return y;
  }
};

struct Log {
  static constexpr const char* name = "log";
  static constexpr UnaryKind kind = UnaryKind::log;
  static constexpr bool kSavesOutput = false;
  template <typename T>
  ERC_HOST_DEVICE static T value(T x, T) {
    return std::log(x);
  }
  template <typename T>
  ERC_HOST_DEVICE static T slope(T x, T) {
    return T(1) / x;
  }
};

struct Sqrt {
  static constexpr const char* name = "sqrt";
  static constexpr UnaryKind kind = UnaryKind::sqrt;
  static constexpr bool kSavesOutput = true;
  template <typename T>
  ERC_HOST_DEVICE static T value(T x, T) {
    return std::sqrt(x);
  }
  template <typename T>
  ERC_HOST_DEVICE static T slope(T y, T) {
    return T(0.5) / y;
  }
};

struct Pow {
  static constexpr const char* name = "pow";
  static constexpr UnaryKind kind = UnaryKind::pow;
  static constexpr bool kSavesOutput = false;
  template <typename T>
  ERC_HOST_DEVICE static T value(T x, T p) {
    return std::pow(x, p);
  }
  template <typename T>
  ERC_HOST_DEVICE static T slope(T x, T p) {
    return p == T(0) ? T(0) : p * std::pow(x, p - T(1));
  }
};

struct Sigmoid {
  static constexpr const char* name = "sigmoid";
  static constexpr UnaryKind kind = UnaryKind::sigmoid;
  static constexpr bool kSavesOutput = true;
  template <typename T>
  ERC_HOST_DEVICE static T value(T x, T) {
    return stable_sigmoid(x);
  }
  template <typename T>
  ERC_HOST_DEVICE static T slope(T y, T) {
    return y * (T(1) - y);
  }
};

struct Tanh {
  static constexpr const char* name = "tanh";
  static constexpr UnaryKind kind = UnaryKind::tanh;
  static constexpr bool kSavesOutput = true;
  template <typename T>
  ERC_HOST_DEVICE static T value(T x, T) {
    return std::tanh(x);
  }
  template <typename T>
  ERC_HOST_DEVICE static T slope(T y, T) {
    return T(1) - y * y;
  }
};

struct Relu {
  static constexpr const char* name = "relu";
  static constexpr UnaryKind kind = UnaryKind::relu;
  static constexpr bool kSavesOutput = true;  // y > 0 exactly where x > 0
  template <typename T>
  ERC_HOST_DEVICE static T value(T x, T) {
    return x > T(0) ? x : T(0);
  }
  template <typename T>
  ERC_HOST_DEVICE static T slope(T y, T) {
    return y > T(0) ? T(1) : T(0);
  }
};

struct Silu {
  static constexpr const char* name = "silu";
  static constexpr UnaryKind kind = UnaryKind::silu;
  static constexpr bool kSavesOutput = false;
  template <typename T>
  ERC_HOST_DEVICE static T value(T x, T) {
    return x * stable_sigmoid(x);
  }
  // d(x s)/dx = s + x s (1 - s)
  template <typename T>
  ERC_HOST_DEVICE static T slope(T x, T) {
    const T s = stable_sigmoid(x);
    return s * (T(1) + x * (T(1) - s));
  }
};

struct Gelu {
  static constexpr const char* name = "gelu";
  static constexpr UnaryKind kind = UnaryKind::gelu;
  static constexpr bool kSavesOutput = false;
  template <typename T>
  ERC_HOST_DEVICE static T value(T x, T) {
    return T(0.5) * x * (T(1) + std::erf(x * T(M_SQRT1_2)));
  }
  // d(x Phi(x))/dx = Phi(x) + x phi(x), phi(x) = e^(-x^2/2) / sqrt(2 pi)
  template <typename T>
  ERC_HOST_DEVICE static T slope(T x, T) {
    const T cdf = T(0.5) * (T(1) + std::erf(x * T(M_SQRT1_2)));
    const T pdf = std::exp(T(-0.5) * x * x) * T(0.5 * M_2_SQRTPI * M_SQRT1_2);
    return cdf + x * pdf;
  }
};

// softplus(x) = log(1 + e^x) as torch.nn.functional.softplus (beta 1, threshold 20: x itself above it), and its slope
// sigmoid(x), both from one exponential: the selective scan needs the two together.
template <typename T>
struct SoftplusAndSlope {
  T value, slope;
};
template <typename T>
ERC_HOST_DEVICE inline SoftplusAndSlope<T> softplus_and_slope(T x) {
  if (x > T(20)) return {x, T(1)};
  const T e = std::exp(x);
  return {std::log1p(e), e / (e + T(1))};
}

struct Softplus {
  static constexpr const char* name = "softplus";
  static constexpr UnaryKind kind = UnaryKind::softplus;
  static constexpr bool kSavesOutput = false;
  template <typename T>
  ERC_HOST_DEVICE static T value(T x, T) {
    return softplus_and_slope(x).value;
  }
  template <typename T>
  ERC_HOST_DEVICE static T slope(T x, T) {
    return softplus_and_slope(x).slope;
  }
};

namespace cuda {

// y = f(x) for the function of `kind`; x and y contiguous on the device. `param` is pow's exponent.
void unary_forward(UnaryKind kind, const Tensor& x, const Tensor& y, double param);
// grad_x = grad_y * f'(s), where s is what forward saved (y or x, as the function's kSavesOutput says).
void unary_backward(UnaryKind kind, const Tensor& saved, const Tensor& grad_y, const Tensor& grad_x, double param);

}  // namespace cuda
}  // namespace erc::ops
