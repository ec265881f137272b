// SGD with optional momentum and weight decay, as torch.optim.SGD computes it (dampening 0, no Nesterov).
#pragma once
#include "optim/optimizer.h"

namespace erc::optim {

struct SGDOptions {
  double lr = 1e-2;
  double momentum = 0.0;
  double weight_decay = 0.0;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, SGDOptions options = {});
  void step() override;
  StateDict state_dict() const override;  // momentum.<i> once it exists
  void load_state_dict(const StateDict& state) override;

 private:
  SGDOptions options_;
  std::vector<Tensor> momentum_;  // undefined until the first step, which sets it to the gradient (as torch)
};

}  // namespace erc::optim
