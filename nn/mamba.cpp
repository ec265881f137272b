#include "nn/mamba.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "ops/binary.h"
#include "ops/causal_conv1d.h"
#include "ops/matmul.h"
#include "ops/selective_scan.h"
#include "ops/shape.h"
#include "ops/unary.h"

namespace erc::nn {

CausalConv1d::CausalConv1d(int64_t channels, int64_t kernel, Generator& init) {
  const double bound = 1.0 / std::sqrt(double(kernel));  // fan_in = (in / groups) * K = K
  weight = register_parameter("weight", rand({channels, 1, kernel}, init, DType::f32, -bound, bound));
  bias = register_parameter("bias", rand({channels}, init, DType::f32, -bound, bound));
}

Tensor CausalConv1d::forward(const Tensor& x, const ops::SeqOffsets& seq_offsets) const {
  return ops::causal_conv1d(x, weight, bias, seq_offsets);
}

Mamba::Mamba(const MambaConfig& config_, Generator& init) : config(config_) {
  const int64_t D_ = config.d_model, E = config.d_inner(), N = config.d_state, R = config.dt_rank();
  // Own parameters first: PyTorch's named_parameters() lists a module's own before its children's.
  Tensor a_log = Tensor::empty({E, N});
  float* a = a_log.data<float>();
  for (int64_t e = 0; e < E; ++e)
    for (int64_t n = 0; n < N; ++n) a[e * N + n] = std::log(float(n + 1));  // S4D-real: A = -(n + 1)
  A_log = register_parameter("A_log", a_log);
  this->D = register_parameter("D", Tensor::ones({E}));

  in_proj = register_module("in_proj", std::make_shared<Linear>(D_, 2 * E, false, init));
  conv1d = register_module("conv1d", std::make_shared<CausalConv1d>(E, config.d_conv, init));
  x_proj = register_module("x_proj", std::make_shared<Linear>(E, R + 2 * N, false, init));
  dt_proj = register_module("dt_proj", std::make_shared<Linear>(R, E, true, init));
  out_proj = register_module("out_proj", std::make_shared<Linear>(E, D_, false, init));

  // dt_proj as the official init: weight U(+-R^-1/2); bias = softplus^-1(dt), dt log-uniform in [1e-3, 1e-1]
  // and at least 1e-4, so that softplus(bias) starts at a useful range of step sizes.
  NoGradGuard no_grad;
  const double std_dt = 1.0 / std::sqrt(double(R));
  Tensor w = rand({E, R}, init, DType::f32, -std_dt, std_dt);
  dt_proj->weight.detach().copy_(w);
  Tensor u = rand({E}, init, DType::f64);
  float* bias = dt_proj->bias.detach().data<float>();
  const double* up = u.data<double>();
  for (int64_t e = 0; e < E; ++e) {
    double dt = std::exp(up[e] * (std::log(0.1) - std::log(1e-3)) + std::log(1e-3));
    dt = std::max(dt, 1e-4);
    bias[e] = float(dt + std::log(-std::expm1(-dt)));
  }
}

Tensor Mamba::forward(const Tensor& a, const ops::SeqOffsets& seq_offsets) const {
  const int64_t E = config.d_inner(), N = config.d_state, R = config.dt_rank();
  // in_proj(a) = [x | z] as two GEMMs on the halves of its weight: x and z come out contiguous, and backward adds
  // two [T, D] input gradients instead of building a [T, 2E] one from two zero-padded halves (3x the bytes).
  Tensor x = ops::linear(a, ops::slice(in_proj->weight, 0, 0, E));  // [T, E]
  Tensor z = ops::linear(a, ops::slice(in_proj->weight, 0, E, E));  // [T, E]
  Tensor u = ops::silu(conv1d->forward(x, seq_offsets));    // [T, E]
  Tensor x_dbl = x_proj->forward(u);                        // [T, R + 2N]
  Tensor dt_low = ops::slice(x_dbl, 1, 0, R);
  Tensor B = ops::slice(x_dbl, 1, R, N), C = ops::slice(x_dbl, 1, R + N, N);
  Tensor delta = ops::linear(dt_low, dt_proj->weight);      // [T, E]; its bias is added inside the scan
  Tensor A = ops::neg(ops::exp(A_log));                     // [E, N]
  Tensor y = ops::selective_scan(u, delta, A, B, C, D, z, dt_proj->bias, seq_offsets);
  return out_proj->forward(y);                              // [T, D]
}

}  // namespace erc::nn
