#include "ops/unary.h"

#include <cmath>

#include "autograd/node.h"

namespace erc::ops {

namespace {

// Each function is a struct with value(x, p) = y and slope(s, p) = dy/dx, where s is the element of the tensor
// forward saved: y when kSavesOutput, else x. p is the exponent of pow and unused elsewhere.

template <typename T>
T stable_sigmoid(T x) {
  // e^-|x| never overflows; for x < 0 the form e^x / (1 + e^x) avoids 1 / (1 + inf).
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}

struct Exp {
  static constexpr const char* name = "exp";
  static constexpr bool kSavesOutput = true;
  template <typename T> static T value(T x, T) { return std::exp(x); }
  template <typename T> static T slope(T y, T) { return y; }
};

struct Log {
  static constexpr const char* name = "log";
  static constexpr bool kSavesOutput = false;
  template <typename T> static T value(T x, T) { return std::log(x); }
  template <typename T> static T slope(T x, T) { return T(1) / x; }
};

struct Sqrt {
  static constexpr const char* name = "sqrt";
  static constexpr bool kSavesOutput = true;
  template <typename T> static T value(T x, T) { return std::sqrt(x); }
  template <typename T> static T slope(T y, T) { return T(0.5) / y; }
};

struct Pow {
  static constexpr const char* name = "pow";
  static constexpr bool kSavesOutput = false;
  template <typename T> static T value(T x, T p) { return std::pow(x, p); }
  template <typename T> static T slope(T x, T p) { return p == T(0) ? T(0) : p * std::pow(x, p - T(1)); }
};

struct Sigmoid {
  static constexpr const char* name = "sigmoid";
  static constexpr bool kSavesOutput = true;
  template <typename T> static T value(T x, T) { return stable_sigmoid(x); }
  template <typename T> static T slope(T y, T) { return y * (T(1) - y); }
};

struct Tanh {
  static constexpr const char* name = "tanh";
  static constexpr bool kSavesOutput = true;
  template <typename T> static T value(T x, T) { return std::tanh(x); }
  template <typename T> static T slope(T y, T) { return T(1) - y * y; }
};

struct Relu {
  static constexpr const char* name = "relu";
  static constexpr bool kSavesOutput = true;  // y > 0 exactly where x > 0
  template <typename T> static T value(T x, T) { return x > T(0) ? x : T(0); }
  template <typename T> static T slope(T y, T) { return y > T(0) ? T(1) : T(0); }
};

struct Silu {
  static constexpr const char* name = "silu";
  static constexpr bool kSavesOutput = false;
  template <typename T> static T value(T x, T) { return x * stable_sigmoid(x); }
  // d(x s)/dx = s + x s (1 - s)
  template <typename T> static T slope(T x, T) {
    const T s = stable_sigmoid(x);
    return s * (T(1) + x * (T(1) - s));
  }
};

struct Gelu {
  static constexpr const char* name = "gelu";
  static constexpr bool kSavesOutput = false;
  template <typename T> static T value(T x, T) { return T(0.5) * x * (T(1) + std::erf(x * T(M_SQRT1_2))); }
  // d(x Phi(x))/dx = Phi(x) + x phi(x), phi(x) = e^(-x^2/2) / sqrt(2 pi)
  template <typename T> static T slope(T x, T) {
    const T cdf = T(0.5) * (T(1) + std::erf(x * T(M_SQRT1_2)));
    const T pdf = std::exp(T(-0.5) * x * x) * T(0.5 * M_2_SQRTPI * M_SQRT1_2);
    return cdf + x * pdf;
  }
};

struct Softplus {
  static constexpr const char* name = "softplus";
  static constexpr bool kSavesOutput = false;
  static constexpr double kThreshold = 20.0;
  template <typename T> static T value(T x, T) { return x > T(kThreshold) ? x : std::log1p(std::exp(x)); }
  template <typename T> static T slope(T x, T) { return x > T(kThreshold) ? T(1) : stable_sigmoid(x); }
};

template <typename Fn>
struct UnaryBackward : autograd::Node {
  Tensor saved;  // y or x (Fn::kSavesOutput), detached and contiguous
  double param = 0;
  const char* name() const override { return Fn::name; }
  std::vector<Tensor> backward(const Tensor& grad_output) override {
    Tensor g = grad_output.detach().contiguous();
    Tensor gx = Tensor::empty(saved.shape(), saved.dtype());
    dispatch_float(saved.dtype(), Fn::name, [&](auto tag) {
      using scalar_t = decltype(tag);
      const scalar_t* s = saved.data<scalar_t>();
      const scalar_t* gp = g.data<scalar_t>();
      scalar_t* out = gx.data<scalar_t>();
      const scalar_t p = scalar_t(param);
      const int64_t n = gx.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
      for (int64_t i = 0; i < n; ++i) out[i] = gp[i] * Fn::slope(s[i], p);
    });
    return {gx};
  }
};

template <typename Fn>
Tensor unary(const Tensor& x, double param = 0) {
  Tensor xc = x.detach().contiguous();
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  dispatch_float(x.dtype(), Fn::name, [&](auto tag) {
    using scalar_t = decltype(tag);
    const scalar_t* in = xc.data<scalar_t>();
    scalar_t* out = y.data<scalar_t>();
    const scalar_t p = scalar_t(param);
    const int64_t n = y.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) out[i] = Fn::value(in[i], p);
  });
  if (!autograd::needs_grad({x})) return y;
  auto node = std::make_shared<UnaryBackward<Fn>>();
  node->saved = Fn::kSavesOutput ? y.detach() : xc;
  node->param = param;
  return autograd::record(y, node, {x});
}

}  // namespace

Tensor exp(const Tensor& x) { return unary<Exp>(x); }
Tensor log(const Tensor& x) { return unary<Log>(x); }
Tensor sqrt(const Tensor& x) { return unary<Sqrt>(x); }
Tensor pow(const Tensor& x, double exponent) { return unary<Pow>(x, exponent); }
Tensor sigmoid(const Tensor& x) { return unary<Sigmoid>(x); }
Tensor tanh(const Tensor& x) { return unary<Tanh>(x); }
Tensor relu(const Tensor& x) { return unary<Relu>(x); }
Tensor silu(const Tensor& x) { return unary<Silu>(x); }
Tensor gelu(const Tensor& x) { return unary<Gelu>(x); }
Tensor softplus(const Tensor& x) { return unary<Softplus>(x); }

}  // namespace erc::ops
