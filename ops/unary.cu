#include "cuda/kernel.h"
#include "ops/unary_cuda.h"

namespace erc::ops::cuda {

namespace {

constexpr unsigned kThreads = 256;

template <typename T, typename Fn>
__global__ void unary_forward_kernel(const T* x, T* y, T param, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) y[i] = Fn::value(x[i], param);
}

template <typename T, typename Fn>
__global__ void unary_backward_kernel(const T* saved, const T* grad_y, T* grad_x, T param, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) grad_x[i] = grad_y[i] * Fn::slope(saved[i], param);
}

// Calls f(Fn{}) with the function struct of `kind`.
template <typename F>
void with_function(UnaryKind kind, F&& f) {
  switch (kind) {
    case UnaryKind::exp: return f(Exp{});
    case UnaryKind::log: return f(Log{});
    case UnaryKind::sqrt: return f(Sqrt{});
    case UnaryKind::pow: return f(Pow{});
    case UnaryKind::sigmoid: return f(Sigmoid{});
    case UnaryKind::tanh: return f(Tanh{});
    case UnaryKind::relu: return f(Relu{});
    case UnaryKind::silu: return f(Silu{});
    case UnaryKind::gelu: return f(Gelu{});
    case UnaryKind::softplus: return f(Softplus{});
  }
}

}  // namespace

void unary_forward(UnaryKind kind, const Tensor& x, const Tensor& y, double param) {
  const int64_t n = y.numel();
  if (n == 0) return;
  with_function(kind, [&](auto fn) {
    using Fn = decltype(fn);
    dispatch_float(y.dtype(), Fn::name, [&](auto tag) {
      using scalar_t = decltype(tag);
      launch<unary_forward_kernel<scalar_t, Fn>>(ERC_HERE, grid_for(n, kThreads), kThreads, 0,
                                                 x.device_data<scalar_t>(), y.device_data<scalar_t>(), scalar_t(param),
                                                 n);
    });
  });
}

void unary_backward(UnaryKind kind, const Tensor& saved, const Tensor& grad_y, const Tensor& grad_x, double param) {
  const int64_t n = grad_x.numel();
  if (n == 0) return;
  with_function(kind, [&](auto fn) {
    using Fn = decltype(fn);
    dispatch_float(grad_x.dtype(), Fn::name, [&](auto tag) {
      using scalar_t = decltype(tag);
      launch<unary_backward_kernel<scalar_t, Fn>>(ERC_HERE, grid_for(n, kThreads), kThreads, 0,
                                                  saved.device_data<scalar_t>(), grad_y.device_data<scalar_t>(),
                                                  grad_x.device_data<scalar_t>(), scalar_t(param), n);
    });
  });
}

}  // namespace erc::ops::cuda
