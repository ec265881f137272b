// The element-wise arithmetic of SGD, which the CPU loops (optim/sgd.cpp) and the device's fused kernels
// (optim/sgd.cu) both run, and the device's launchers.
#pragma once
#include <array>
#include <vector>

#include "tensor/host_device.h"
#include "tensor/tensor.h"

namespace erc::optim {

// One step of one element: p the parameter and, with momentum, buf its momentum buffer (`first`: the parameter's
// first step, when the buffer starts at the gradient, as torch.optim.SGD does).
struct SGDUpdate {
  double lr, momentum, weight_decay;
  bool first;
  template <typename T>
  ERC_HOST_DEVICE void operator()(T& p, const T& grad) const {
    p -= T(lr) * (grad + T(weight_decay) * p);
  }
  template <typename T>
  ERC_HOST_DEVICE void operator()(T& p, const T& grad, T& buf) const {
    const T d = grad + T(weight_decay) * p;
    buf = first ? d : T(momentum) * buf + d;
    p -= T(lr) * buf;
  }
};

namespace cuda {

// groups[i] = {p, grad} of parameter i (no momentum), or {p, grad, buf}: every element updated, in launches of
// many parameters.
void sgd_step(const std::vector<std::array<Tensor, 2>>& groups, const SGDUpdate& update);
void sgd_step(const std::vector<std::array<Tensor, 3>>& groups, const SGDUpdate& update);

}  // namespace cuda
}  // namespace erc::optim
