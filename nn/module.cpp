#include "nn/module.h"

#include <set>

#include "autograd/grad_mode.h"

namespace erc::nn {

Tensor Module::register_parameter(const std::string& name, Tensor value) {
  value.set_requires_grad(true);
  params_.emplace_back(name, value);
  return value;
}

void Module::collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const {
  for (auto& [name, p] : params_) out.emplace_back(prefix + name, p);
  for (auto& [name, child] : children_) child->collect(prefix + name + ".", out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect("", out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, p] : named_parameters()) out.push_back(p);
  return out;
}

int64_t Module::parameter_count() const {
  int64_t n = 0;
  for (auto& [name, p] : named_parameters()) n += p.numel();
  return n;
}

// Swaps the storage under the parameter's shared TensorImpl for `value`'s (contiguous), so every handle (the list
// here, a layer's `weight` member, an optimiser) sees the converted or moved tensor.
static void replace_value(const Tensor& param, const Tensor& value) {
  TensorImpl& impl = param.impl();
  impl.storage = value.impl().storage;
  impl.strides = value.strides();
  impl.offset = 0;
  impl.dtype = value.dtype();
  impl.grad.reset();
}

void Module::to(DType dtype) {
  for (auto& [name, p] : named_parameters()) to(p, dtype);
}

void Module::to(const Tensor& parameter, DType dtype) {
  if (parameter.dtype() != dtype) replace_value(parameter, parameter.detach().to(dtype));
}

void Module::to(Device device) {
  for (auto& [name, p] : named_parameters())
    if (p.device() != device) replace_value(p, p.detach().to(device));
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

StateDict Module::state_dict() const {
  StateDict out;
  for (auto& [name, p] : named_parameters()) out.emplace(name, p.detach());
  return out;
}

void Module::load_state_dict(const StateDict& state) {
  std::string missing, mismatched, unexpected;
  std::set<std::string> known;
  for (auto& [name, p] : named_parameters()) {
    known.insert(name);
    auto it = state.find(name);
    if (it == state.end()) missing += "\n  missing: " + name + " " + shape_str(p.shape());
    else if (it->second.shape() != p.shape())
      mismatched += "\n  wrong shape: " + name + " is " + shape_str(it->second.shape()) + ", expected " +
                    shape_str(p.shape());
  }
  for (auto& [name, t] : state)
    if (!known.count(name)) unexpected += "\n  unexpected: " + name + " " + shape_str(t.shape());
  ERC_CHECK(missing.empty() && mismatched.empty() && unexpected.empty(),
            "load_state_dict: the weights do not match the model:", missing, mismatched, unexpected);
  NoGradGuard no_grad;
  for (auto& [name, p] : named_parameters()) p.detach().copy_(state.at(name));
}

}  // namespace erc::nn
