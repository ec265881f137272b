// The element-wise arithmetic of AdamW, which the CPU loops (optim/adamw.cpp) and the device's fused kernel
// (optim/adamw.cu) both run, and the device's launcher.
#pragma once
#include <array>
#include <cmath>
#include <vector>

#include "tensor/host_device.h"
#include "tensor/tensor.h"

namespace erc::optim {

// One step of one element: p the parameter, m and v the moments.
struct AdamWUpdate {
  double lr, beta1, beta2, eps, weight_decay, step_size, sqrt_bias_correction2;
  template <typename T>
  ERC_HOST_DEVICE void operator()(T& p, T& m, T& v, const T& grad) const {
    const T b1 = T(beta1), b2 = T(beta2);
    p *= T(1.0 - lr * weight_decay);  // decoupled decay, before the moments
    m = m * b1 + (1 - b1) * grad;
    v = v * b2 + (1 - b2) * grad * grad;
    p -= T(step_size) * m / (std::sqrt(v) / T(sqrt_bias_correction2) + T(eps));
  }
};

namespace cuda {

// groups[i] = {p, m, v, grad} of parameter i: every element updated, in launches of many parameters.
void adamw_step(const std::vector<std::array<Tensor, 4>>& groups, const AdamWUpdate& update);

}  // namespace cuda
}  // namespace erc::optim
