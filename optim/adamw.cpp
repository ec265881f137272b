#include "optim/adamw.h"

#include <cmath>

#include "autograd/grad_mode.h"

namespace erc::optim {

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions options)
    : Optimizer(std::move(params)), options_(options), m_(params_.size()), v_(params_.size()) {
  for (size_t i = 0; i < params_.size(); ++i) {
    m_[i] = Tensor::zeros(params_[i].shape(), params_[i].dtype());
    v_[i] = Tensor::zeros(params_[i].shape(), params_[i].dtype());
  }
}

void AdamW::step() {
  NoGradGuard no_grad;
  const int64_t t = ++step_;
  const double bias_correction1 = 1.0 - std::pow(options_.beta1, double(t));
  const double bias_correction2 = 1.0 - std::pow(options_.beta2, double(t));
  const double step_size = options_.lr / bias_correction1;
  const double sqrt_bc2 = std::sqrt(bias_correction2);
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor g = params_[i].grad();
    if (!g.defined()) continue;
    g = g.contiguous();
    dispatch_float(params_[i].dtype(), "AdamW.step", [&](auto tag) {
      using scalar_t = decltype(tag);
      scalar_t* p = params_[i].data<scalar_t>();
      scalar_t* m = m_[i].data<scalar_t>();
      scalar_t* v = v_[i].data<scalar_t>();
      const scalar_t* grad = g.data<scalar_t>();
      const scalar_t b1 = scalar_t(options_.beta1), b2 = scalar_t(options_.beta2);
      for (int64_t k = 0; k < params_[i].numel(); ++k) {
        p[k] *= scalar_t(1.0 - options_.lr * options_.weight_decay);  // decoupled decay, before the moments
        m[k] = m[k] * b1 + (1 - b1) * grad[k];
        v[k] = v[k] * b2 + (1 - b2) * grad[k] * grad[k];
        p[k] -= scalar_t(step_size) * m[k] / (std::sqrt(v[k]) / scalar_t(sqrt_bc2) + scalar_t(options_.eps));
      }
    });
  }
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
