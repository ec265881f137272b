#include "optim/radam_schedule_free.h"

#include <cmath>

#include "autograd/grad_mode.h"

namespace erc::optim {

RAdamScheduleFree::RAdamScheduleFree(std::vector<Tensor> params, RAdamScheduleFreeOptions options)
    : Optimizer(std::move(params)), options_(options), z_(params_.size()), v_(params_.size()) {
  ERC_CHECK(options_.lr >= 0, "RAdamScheduleFree: lr must be >= 0, got ", options_.lr);
  ERC_CHECK(options_.beta1 > 0 && options_.beta1 < 1 && options_.beta2 >= 0 && options_.beta2 < 1,
            "RAdamScheduleFree: betas must be in (0, 1) and [0, 1), got ", options_.beta1, ", ", options_.beta2);
}

// p + weight (z - p), in the two forms torch.lerp uses (by weight), so f32 results round the same way.
template <typename T>
static T lerp(T p, T z, double weight) {
  return weight < 0.5 ? p + T(weight) * (z - p) : z - (z - p) * (T(1) - T(weight));
}

template <typename T>
static void lerp_towards(T* p, const T* z, int64_t n, double weight) {
  for (int64_t i = 0; i < n; ++i) p[i] = lerp(p[i], z[i], weight);
}

void RAdamScheduleFree::train() {
  if (training_) return;
  NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!z_[i].defined()) continue;
    dispatch_float(params_[i].dtype(), "RAdamScheduleFree.train", [&](auto tag) {
      using scalar_t = decltype(tag);
      lerp_towards(params_[i].data<scalar_t>(), z_[i].data<scalar_t>(), params_[i].numel(), 1.0 - options_.beta1);
    });
  }
  training_ = true;
}

void RAdamScheduleFree::eval() {
  if (!training_) return;
  NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!z_[i].defined()) continue;
    dispatch_float(params_[i].dtype(), "RAdamScheduleFree.eval", [&](auto tag) {
      using scalar_t = decltype(tag);
      lerp_towards(params_[i].data<scalar_t>(), z_[i].data<scalar_t>(), params_[i].numel(),
                   1.0 - 1.0 / options_.beta1);
    });
  }
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
  const double adaptive_y_lr = lr * (beta1 * (1.0 - ckp1) - 1.0);

  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    Tensor g = p.grad();
    if (!g.defined()) continue;
    if (!z_[i].defined()) {
      z_[i] = p.detach().clone();
      v_[i] = Tensor::zeros(p.shape(), p.dtype());
    }
    g = g.contiguous();
    dispatch_float(p.dtype(), "RAdamScheduleFree.step", [&](auto tag) {
      using scalar_t = decltype(tag);
      scalar_t* y = p.data<scalar_t>();
      scalar_t* z = z_[i].data<scalar_t>();
      scalar_t* v = v_[i].data<scalar_t>();
      const scalar_t* grad = g.data<scalar_t>();
      const int64_t n = p.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
      for (int64_t k = 0; k < n; ++k) {
        v[k] = v[k] * scalar_t(beta2) + scalar_t(1.0 - beta2) * grad[k] * grad[k];
        scalar_t gn = rectified ? grad[k] / (std::sqrt(v[k] / scalar_t(bias_correction2)) + scalar_t(options_.eps))
                                : grad[k];
        if (options_.weight_decay != 0.0) gn += scalar_t(options_.weight_decay) * y[k];
        y[k] = lerp(y[k], z[k], ckp1);
        y[k] += scalar_t(adaptive_y_lr) * gn;
        z[k] -= scalar_t(lr) * gn;
      }
    });
  }
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
