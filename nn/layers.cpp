#include "nn/layers.h"

#include <cmath>

#include "ops/conv1d.h"
#include "ops/dropout.h"
#include "ops/layer_norm.h"
#include "ops/matmul.h"

namespace erc::nn {

Linear::Linear(int64_t in_features, int64_t out_features, bool with_bias, Generator& init) {
  // torch.nn.Linear: kaiming_uniform(a = sqrt(5)) on the weight reduces to U(+-1/sqrt(fan_in)); the bias likewise.
  const double bound = 1.0 / std::sqrt(double(in_features));
  weight = register_parameter("weight", rand({out_features, in_features}, init, DType::f32, -bound, bound));
  if (with_bias) bias = register_parameter("bias", rand({out_features}, init, DType::f32, -bound, bound));
}

Tensor Linear::forward(const Tensor& x) const { return ops::linear(x, weight, bias); }

Conv1d::Conv1d(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride_, bool with_bias,
               Generator& init)
    : stride(stride_) {
  const double bound = 1.0 / std::sqrt(double(in_channels * kernel));
  weight = register_parameter("weight", rand({out_channels, in_channels, kernel}, init, DType::f32, -bound, bound));
  if (with_bias) bias = register_parameter("bias", rand({out_channels}, init, DType::f32, -bound, bound));
}

Tensor Conv1d::forward(const Tensor& x) const { return ops::conv1d(x, weight, bias, stride); }

LayerNorm::LayerNorm(int64_t dim, double eps_) : eps(eps_) {
  weight = register_parameter("weight", Tensor::ones({dim}));
  bias = register_parameter("bias", Tensor::zeros({dim}));
}

Tensor LayerNorm::forward(const Tensor& x) const { return ops::layer_norm(x, weight, bias, eps); }

Tensor Dropout::forward(const Tensor& x) const { return ops::dropout(x, p, training(), *gen_); }

}  // namespace erc::nn
