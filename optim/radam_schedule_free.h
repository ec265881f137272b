// RAdamScheduleFree (Defazio et al., "The Road Less Scheduled"), as the schedulefree 1.4.1 package computes it;
// docs/MODEL.md §3 writes out every line.
//
// Schedule-free keeps two sequences per parameter: z (the base SGD/Adam iterate) and x (a weighted average of
// the z's). Training evaluates gradients at y = beta1 x + (1 - beta1) z, so the parameters hold y while
// training. eval() swaps them to x (use x to evaluate and to save the model); train() swaps back. x itself is
// never stored: x = (y - (1 - beta1) z) / beta1.
#pragma once
#include "optim/optimizer.h"

namespace erc::optim {

struct RAdamScheduleFreeOptions {
  double lr = 1e-4;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double r = 0.0;
  double weight_lr_power = 2.0;
  bool silent_sgd_phase = true;  // no update while the variance rectification is undefined (rho_t <= 4)
};

class RAdamScheduleFree : public Optimizer {
 public:
  RAdamScheduleFree(std::vector<Tensor> params, RAdamScheduleFreeOptions options = {});

  // Like the package, a new optimiser is in eval mode: call train() before the first step().
  void train();  // parameters y = beta1 x + (1 - beta1) z
  void eval();   // parameters x = (y - (1 - beta1) z) / beta1
  bool training() const { return training_; }

  void step() override;
  StateDict state_dict() const override;  // z.<i>, v.<i>, step, lr_max, weight_sum, training
  void load_state_dict(const StateDict& state) override;

  int64_t steps_taken() const { return step_; }
  double scheduled_lr() const { return scheduled_lr_; }  // lr_t of the last step, for logging

 private:
  void lerp_parameters(double weight);

  RAdamScheduleFreeOptions options_;
  std::vector<Tensor> z_, v_;  // undefined until a parameter's first step (as the package's lazy state)
  int64_t step_ = 0;
  double lr_max_ = -1.0, weight_sum_ = 0.0, scheduled_lr_ = 0.0;
  bool training_ = false;
};

}  // namespace erc::optim
