#include "optim/optimizer.h"

#include "autograd/backward.h"

namespace erc::optim {

Optimizer::Optimizer(std::vector<Tensor> params) : params_(std::move(params)) {
  for (size_t i = 0; i < params_.size(); ++i) {
    ERC_CHECK(params_[i].defined() && params_[i].is_leaf() && params_[i].requires_grad(), "optimizer: parameter ",
              i, " must be a leaf tensor that requires grad");
    ERC_CHECK(params_[i].is_contiguous(), "optimizer: parameter ", i, " must be contiguous");
  }
}

void Optimizer::zero_grad() { erc::zero_grad(params_); }

Tensor scalar_state(double value) { return Tensor::scalar(value, DType::f64); }

double read_scalar_state(const StateDict& state, const std::string& name) {
  auto it = state.find(name);
  ERC_CHECK(it != state.end(), "optimizer state: missing '", name, "'");
  return it->second.item_as_double();
}

Tensor read_tensor_state(const StateDict& state, const std::string& name, const Tensor& like) {
  auto it = state.find(name);
  ERC_CHECK(it != state.end(), "optimizer state: missing '", name, "'");
  ERC_CHECK(it->second.shape() == like.shape(), "optimizer state: '", name, "' has shape ",
            shape_str(it->second.shape()), ", its parameter ", shape_str(like.shape()));
  return it->second.to(like.dtype()).to(like.device()).clone();
}

}  // namespace erc::optim
