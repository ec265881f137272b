#include "optim/sgd.h"

#include "autograd/grad_mode.h"
#include "optim/sgd_cuda.h"
#include "tensor/cuda_call.h"

namespace erc::optim {

SGD::SGD(std::vector<Tensor> params, SGDOptions options)
    : Optimizer(std::move(params)), options_(options), momentum_(params_.size()) {}

void SGD::step() {
  NoGradGuard no_grad;
  // The device's parameters in fused launches, grouped by whether they have a momentum buffer and whether it starts
  // at this step.
  std::vector<std::array<Tensor, 2>> on_device;
  std::vector<std::array<Tensor, 3>> on_device_with_buffer[2];  // [first]
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor g = params_[i].grad();
    if (!g.defined()) continue;
    g = g.contiguous();
    const bool with_buffer = options_.momentum != 0.0, first = !momentum_[i].defined();
    if (with_buffer && first) momentum_[i] = Tensor::zeros(params_[i].shape(), params_[i].dtype(), params_[i].device());
    const SGDUpdate update{options_.lr, options_.momentum, options_.weight_decay, first};
    if (params_[i].device() == Device::cuda) {
      if (with_buffer)
        on_device_with_buffer[first].push_back({params_[i], g, momentum_[i]});
      else
        on_device.push_back({params_[i], g});
      continue;
    }
    dispatch_float(params_[i].dtype(), "SGD.step", [&](auto tag) {
      using scalar_t = decltype(tag);
      scalar_t* p = params_[i].data<scalar_t>();
      const scalar_t* grad = g.data<scalar_t>();
      if (with_buffer) {
        scalar_t* buf = momentum_[i].data<scalar_t>();
        for (int64_t k = 0; k < params_[i].numel(); ++k) update(p[k], grad[k], buf[k]);
      } else {
        for (int64_t k = 0; k < params_[i].numel(); ++k) update(p[k], grad[k]);
      }
    });
  }
  for (bool first : {false, true}) {
    const SGDUpdate update{options_.lr, options_.momentum, options_.weight_decay, first};
    if (!on_device_with_buffer[first].empty()) ERC_CUDA_CALL(cuda::sgd_step(on_device_with_buffer[first], update));
  }
  if (!on_device.empty())
    ERC_CUDA_CALL(cuda::sgd_step(on_device, SGDUpdate{options_.lr, options_.momentum, options_.weight_decay, false}));
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
