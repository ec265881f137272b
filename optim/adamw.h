// AdamW (Loshchilov & Hutter) as torch.optim.AdamW computes it: a plain reference beside RAdamScheduleFree.
#pragma once
#include "optim/optimizer.h"

namespace erc::optim {

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
};

class AdamW : public Optimizer {
 public:
  AdamW(std::vector<Tensor> params, AdamWOptions options = {});
  void step() override;
  StateDict state_dict() const override;  // m.<i>, v.<i>, step
  void load_state_dict(const StateDict& state) override;

 private:
  AdamWOptions options_;
  std::vector<Tensor> m_, v_;
  int64_t step_ = 0;
};

}  // namespace erc::optim
