#include "optim/radam_schedule_free.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "optim/radam_schedule_free_cuda.h"
#include "tensor/cuda_call.h"

namespace erc::optim {

RAdamScheduleFree::RAdamScheduleFree(std::vector<Tensor> params, RAdamScheduleFreeOptions options)
    : Optimizer(std::move(params)), options_(options), z_(params_.size()), v_(params_.size()) {
  ERC_CHECK(options_.lr >= 0, "RAdamScheduleFree: lr must be >= 0, got ", options_.lr);
  ERC_CHECK(options_.beta1 > 0 && options_.beta1 < 1 && options_.beta2 >= 0 && options_.beta2 < 1,
            "RAdamScheduleFree: betas must be in (0, 1) and [0, 1), got ", options_.beta1, ", ", options_.beta2);
}

// p = lerp(p, z, weight) for every parameter with state: the train()/eval() swap, on each parameter's device.
void RAdamScheduleFree::lerp_parameters(double weight) {
  NoGradGuard no_grad;
  std::vector<std::array<Tensor, 2>> on_device;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!z_[i].defined()) continue;
    if (params_[i].device() == Device::cuda) {
      on_device.push_back({params_[i], z_[i]});
      continue;
    }
    dispatch_float(params_[i].dtype(), "RAdamScheduleFree.train/eval", [&](auto tag) {
      using scalar_t = decltype(tag);
      scalar_t* p = params_[i].data<scalar_t>();
      scalar_t* z = z_[i].data<scalar_t>();
      for (int64_t k = 0; k < params_[i].numel(); ++k) Lerp{weight}(p[k], z[k]);
    });
  }
  if (!on_device.empty()) ERC_CUDA_CALL(cuda::lerp_towards(on_device, weight));
}

void RAdamScheduleFree::train() {
  if (training_) return;
  lerp_parameters(1.0 - options_.beta1);
  training_ = true;
}

void RAdamScheduleFree::eval() {
  if (!training_) return;
  lerp_parameters(1.0 - 1.0 / options_.beta1);
  training_ = false;
}

void RAdamScheduleFree::step() {
  ERC_CHECK(training_, "RAdamScheduleFree.step: the optimiser is in eval mode (parameters hold x); call train() ",
            "before stepping");
  NoGradGuard no_grad;
  const double beta1 = options_.beta1, beta2 = options_.beta2;
  const int64_t t = step_ + 1;
  const double beta2_t = std::pow(beta2, double(t));
  const double bias_correction2 = 1.0 - beta2_t;
  const double rho_inf = 2.0 / (1.0 - beta2) - 1.0;
  const double rho_t = rho_inf - 2.0 * double(t) * beta2_t / bias_correction2;
  const bool rectified = rho_t > 4.0;
  const double rect = rectified ? std::sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                                : (options_.silent_sgd_phase ? 0.0 : 1.0);
  const double lr = options_.lr * rect;
  scheduled_lr_ = lr;
  lr_max_ = std::max(lr, lr_max_);
  const double weight = std::pow(double(t), options_.r) * std::pow(lr_max_, options_.weight_lr_power);
  weight_sum_ += weight;
  const double ckp1 = weight_sum_ != 0.0 ? weight / weight_sum_ : 0.0;
  const RAdamScheduleFreeUpdate update{
      beta2, bias_correction2, options_.eps, options_.weight_decay, ckp1, lr * (beta1 * (1.0 - ckp1) - 1.0),
      lr,    rectified};

  std::vector<std::array<Tensor, 4>> on_device;  // every device parameter in one fused launch
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    Tensor g = p.grad();
    if (!g.defined()) continue;
    if (!z_[i].defined()) {
      z_[i] = p.detach().clone();
      v_[i] = Tensor::zeros(p.shape(), p.dtype(), p.device());
    }
    g = g.contiguous();
    if (p.device() == Device::cuda) {
      on_device.push_back({p, z_[i], v_[i], g});
      continue;
    }
    dispatch_float(p.dtype(), "RAdamScheduleFree.step", [&](auto tag) {
      using scalar_t = decltype(tag);
      scalar_t* y = p.data<scalar_t>();
      scalar_t* z = z_[i].data<scalar_t>();
      scalar_t* v = v_[i].data<scalar_t>();
      const scalar_t* grad = g.data<scalar_t>();
      const int64_t n = p.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
      for (int64_t k = 0; k < n; ++k) update(y[k], z[k], v[k], grad[k]);
    });
  }
  if (!on_device.empty()) ERC_CUDA_CALL(cuda::radam_schedule_free_step(on_device, update));
  step_ = t;
}

StateDict RAdamScheduleFree::state_dict() const {
  StateDict state;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!z_[i].defined()) continue;
    state["z." + std::to_string(i)] = z_[i];
    state["v." + std::to_string(i)] = v_[i];
  }
  state["step"] = scalar_state(double(step_));
  state["lr_max"] = scalar_state(lr_max_);
  state["weight_sum"] = scalar_state(weight_sum_);
  state["training"] = scalar_state(training_ ? 1.0 : 0.0);
  return state;
}

void RAdamScheduleFree::load_state_dict(const StateDict& state) {
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::string z_name = "z." + std::to_string(i);
    if (state.count(z_name)) {
      z_[i] = read_tensor_state(state, z_name, params_[i]);
      v_[i] = read_tensor_state(state, "v." + std::to_string(i), params_[i]);
    } else {
      z_[i] = Tensor();
      v_[i] = Tensor();
    }
  }
  step_ = int64_t(read_scalar_state(state, "step"));
  lr_max_ = read_scalar_state(state, "lr_max");
  weight_sum_ = read_scalar_state(state, "weight_sum");
  training_ = read_scalar_state(state, "training") != 0.0;
}

}  // namespace erc::optim
