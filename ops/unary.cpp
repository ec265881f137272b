#include "ops/unary.h"

#include <algorithm>

#include "autograd/node.h"
#include "ops/cpu_isa.h"
#include "ops/device.h"
#include "ops/unary_cpu.h"
#include "ops/unary_cuda.h"

namespace erc::ops {

namespace {

// The vector fast path for an op on this CPU (ops/unary_cpu.h), or none: every function pointer null.
unary_cpu::Kernels fast_kernels(UnaryKind kind) {
#ifdef ERC_HAVE_SLEEF
  if (cpu_isa() != CpuIsa::baseline && cpu_isa_available(CpuIsa::avx2)) return unary_cpu::avx2(kind);
#else
  (void)kind;
#endif
  return {};
}

// f(begin, count) over [0, n) in pieces of a fixed size, on OpenMP threads when n is large.
template <typename F>
void in_pieces(int64_t n, F&& f) {
  constexpr int64_t kPiece = 8192;
  const int64_t n_pieces = (n + kPiece - 1) / kPiece;
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t k = 0; k < n_pieces; ++k) f(k * kPiece, std::min(kPiece, n - k * kPiece));
}

template <typename Fn>
struct UnaryBackward : autograd::Node {
  Tensor saved;  // y or x (Fn::kSavesOutput), detached and contiguous
  double param = 0;
  const char* name() const override { return Fn::name; }
  std::vector<Tensor> backward(const Tensor& grad_output) override {
    Tensor g = grad_output.detach().contiguous();
    Tensor gx = Tensor::empty(saved.shape(), saved.dtype(), saved.device());
    if (saved.device() == Device::cuda) {
      ERC_CUDA_CALL(cuda::unary_backward(Fn::kind, saved, g, gx, param));
      return {gx};
    }
    const unary_cpu::Backward fast = fast_kernels(Fn::kind).backward;
    if (fast != nullptr && saved.dtype() == DType::f32) {
      const float *s = saved.data<float>(), *gp = g.data<float>();
      float* out = gx.data<float>();
      in_pieces(gx.numel(), [&](int64_t begin, int64_t count) { fast(s + begin, gp + begin, out + begin, count); });
      return {gx};
    }
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
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  const unary_cpu::Forward fast = fast_kernels(Fn::kind).forward;
  if (x.device() == Device::cuda) {
    ERC_CUDA_CALL(cuda::unary_forward(Fn::kind, xc, y, param));
  } else if (fast != nullptr && x.dtype() == DType::f32) {
    const float* in = xc.data<float>();
    float* out = y.data<float>();
    in_pieces(y.numel(), [&](int64_t begin, int64_t count) { fast(in + begin, out + begin, count); });
  } else {
    dispatch_float(x.dtype(), Fn::name, [&](auto tag) {
      using scalar_t = decltype(tag);
      const scalar_t* in = xc.data<scalar_t>();
      scalar_t* out = y.data<scalar_t>();
      const scalar_t p = scalar_t(param);
      const int64_t n = y.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
      for (int64_t i = 0; i < n; ++i) out[i] = Fn::value(in[i], p);
    });
  }
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
