// Optimizer: updates a list of parameters from their .grad. Subclasses hold per-parameter state.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace erc::optim {

using StateDict = std::map<std::string, Tensor>;

class Optimizer {
 public:
  explicit Optimizer(std::vector<Tensor> params);
  virtual ~Optimizer() = default;

  // One update from the current .grad of each parameter; parameters without a gradient are left alone.
  // Runs without recording a graph.
  virtual void step() = 0;
  // Resets every parameter's .grad to undefined (see autograd/backward.h: backward() only adds).
  void zero_grad();

  // Everything step() depends on, as tensors (scalars as 0-d f64), under names "<what>.<parameter index>"; what
  // a checkpoint stores so that a resumed run continues bit for bit.
  virtual StateDict state_dict() const = 0;
  // Restores a state_dict(); errors name any missing or mis-shaped entry.
  virtual void load_state_dict(const StateDict& state) = 0;

  const std::vector<Tensor>& params() const { return params_; }

 protected:
  std::vector<Tensor> params_;
};

// Helpers for subclasses' state dicts.
Tensor scalar_state(double value);
double read_scalar_state(const StateDict& state, const std::string& name);
Tensor read_tensor_state(const StateDict& state, const std::string& name, const Tensor& like);

}  // namespace erc::optim
