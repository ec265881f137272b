#include "optim/sgd.h"

#include "autograd/grad_mode.h"

namespace erc::optim {

SGD::SGD(std::vector<Tensor> params, SGDOptions options)
    : Optimizer(std::move(params)), options_(options), momentum_(params_.size()) {}

void SGD::step() {
  NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor g = params_[i].grad();
    if (!g.defined()) continue;
    g = g.contiguous();
    const bool first = !momentum_[i].defined();
    if (options_.momentum != 0.0 && first) momentum_[i] = Tensor::zeros(params_[i].shape(), params_[i].dtype());
    dispatch_float(params_[i].dtype(), "SGD.step", [&](auto tag) {
      using scalar_t = decltype(tag);
      scalar_t* p = params_[i].data<scalar_t>();
      const scalar_t* grad = g.data<scalar_t>();
      scalar_t* buf = options_.momentum != 0.0 ? momentum_[i].data<scalar_t>() : nullptr;
      for (int64_t k = 0; k < params_[i].numel(); ++k) {
        scalar_t d = grad[k] + scalar_t(options_.weight_decay) * p[k];
        if (buf) d = buf[k] = first ? d : scalar_t(options_.momentum) * buf[k] + d;
        p[k] -= scalar_t(options_.lr) * d;
      }
    });
  }
}

StateDict SGD::state_dict() const {
  StateDict state;
  for (size_t i = 0; i < params_.size(); ++i)
    if (momentum_[i].defined()) state["momentum." + std::to_string(i)] = momentum_[i];
  return state;
}

void SGD::load_state_dict(const StateDict& state) {
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::string name = "momentum." + std::to_string(i);
    momentum_[i] = state.count(name) ? read_tensor_state(state, name, params_[i]) : Tensor();
  }
}

}  // namespace erc::optim
