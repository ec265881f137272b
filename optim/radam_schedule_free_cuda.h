// The element-wise arithmetic of RAdamScheduleFree, which the CPU loops (optim/radam_schedule_free.cpp) and the
// device's fused kernels (optim/radam_schedule_free.cu) both run, and the device's launchers.
#pragma once
#include <array>
#include <cmath>
#include <vector>

#include "tensor/host_device.h"
#include "tensor/tensor.h"

namespace erc::optim {

// p + weight (z - p), in the two forms torch.lerp uses (by weight), so f32 results round the same way.
template <typename T>
ERC_HOST_DEVICE inline T lerp(T p, T z, double weight) {
  return weight < 0.5 ? p + T(weight) * (z - p) : z - (z - p) * (T(1) - T(weight));
}

struct Lerp {
  double weight;
  template <typename T>
  ERC_HOST_DEVICE void operator()(T& p, T& z) const {
    p = lerp(p, z, weight);
  }
};

// One step of one element: y the parameter (the point gradients are taken at), z the base iterate, v the second
// moment, from the step's coefficients (docs/MODEL.md §3).
struct RAdamScheduleFreeUpdate {
  double beta2, bias_correction2, eps, weight_decay, ckp1, adaptive_y_lr, lr;
  bool rectified;
  template <typename T>
  ERC_HOST_DEVICE void operator()(T& y, T& z, T& v, const T& grad) const {
    v = v * T(beta2) + T(1.0 - beta2) * grad * grad;
    T gn = rectified ? grad / (std::sqrt(v / T(bias_correction2)) + T(eps)) : grad;
    if (weight_decay != 0.0) gn += T(weight_decay) * y;
    y = lerp(y, z, ckp1);
    y += T(adaptive_y_lr) * gn;
    z -= T(lr) * gn;
  }
};

namespace cuda {

// groups[i] = {y, z, v, grad} of parameter i: every element updated, in launches of many parameters.
void radam_schedule_free_step(const std::vector<std::array<Tensor, 4>>& groups, const RAdamScheduleFreeUpdate& update);
// groups[i] = {p, z}: p = lerp(p, z, weight), the train()/eval() swap.
void lerp_towards(const std::vector<std::array<Tensor, 2>>& groups, double weight);

}  // namespace cuda
}  // namespace erc::optim
