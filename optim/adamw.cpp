#include "optim/adamw.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "optim/adamw_cuda.h"
#include "tensor/cuda_call.h"

namespace erc::optim {

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions options)
    : Optimizer(std::move(params)), options_(options), m_(params_.size()), v_(params_.size()) {
  for (size_t i = 0; i < params_.size(); ++i) {
    m_[i] = Tensor::zeros(params_[i].shape(), params_[i].dtype(), params_[i].device());
    v_[i] = Tensor::zeros(params_[i].shape(), params_[i].dtype(), params_[i].device());
  }
}

void AdamW::step() {
  NoGradGuard no_grad;
  const int64_t t = ++step_;
  const double bias_correction1 = 1.0 - std::pow(options_.beta1, double(t));
  const double bias_correction2 = 1.0 - std::pow(options_.beta2, double(t));
  const AdamWUpdate update{options_.lr,
                           options_.beta1,
                           options_.beta2,
                           options_.eps,
                           options_.weight_decay,
                           options_.lr / bias_correction1,
                           std::sqrt(bias_correction2)};
  std::vector<std::array<Tensor, 4>> on_device;  // every device parameter in one fused launch
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor g = params_[i].grad();
    if (!g.defined()) continue;
    g = g.contiguous();
    if (params_[i].device() == Device::cuda) {
      on_device.push_back({params_[i], m_[i], v_[i], g});
      continue;
    }
    dispatch_float(params_[i].dtype(), "AdamW.step", [&](auto tag) {
      using scalar_t = decltype(tag);
      scalar_t* p = params_[i].data<scalar_t>();
      scalar_t* m = m_[i].data<scalar_t>();
      scalar_t* v = v_[i].data<scalar_t>();
      const scalar_t* grad = g.data<scalar_t>();
      for (int64_t k = 0; k < params_[i].numel(); ++k) update(p[k], m[k], v[k], grad[k]);
    });
  }
  if (!on_device.empty()) ERC_CUDA_CALL(cuda::adamw_step(on_device, update));
}

StateDict AdamW::state_dict() const {
  StateDict state;
  for (size_t i = 0; i < params_.size(); ++i) {
    state["m." + std::to_string(i)] = m_[i];
    state["v." + std::to_string(i)] = v_[i];
  }
  state["step"] = scalar_state(double(step_));
  return state;
}

void AdamW::load_state_dict(const StateDict& state) {
  for (size_t i = 0; i < params_.size(); ++i) {
    m_[i] = read_tensor_state(state, "m." + std::to_string(i), params_[i]);
    v_[i] = read_tensor_state(state, "v." + std::to_string(i), params_[i]);
  }
  step_ = int64_t(read_scalar_state(state, "step"));
}

}  // namespace erc::optim
