// Module: named parameters and submodules with PyTorch's dotted names ("layers.0.ff1.norm.weight"), a
// train/eval flag, and state dicts that load from and save to safetensors files PyTorch reads.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace erc::nn {

using StateDict = std::map<std::string, Tensor>;

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Depth first, in registration order: the order PyTorch's named_parameters() gives for the same tree.
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  std::vector<Tensor> parameters() const;
  int64_t parameter_count() const;

  // Converts every parameter in place (as PyTorch's model.double()); handles to them stay valid.
  void to(DType dtype);
  // Converts one parameter in place, as to(DType) converts them all (e.g. WavLM's GEMM weights alone to bf16).
  static void to(const Tensor& parameter, DType dtype);
  // Moves every parameter to `device` in place (as PyTorch's model.to(device)); handles to them stay valid.
  void to(Device device);

  void train(bool on = true);  // recursively; dropout is active only in training
  void eval() { train(false); }
  bool training() const { return training_; }

  // Detached views of the parameters, by name.
  StateDict state_dict() const;
  // Copies values into the parameters. Any missing, unexpected or mis-shaped name is an error that lists them
  // all; nothing is changed unless every check passes. dtypes are converted (an f16 file loads into f32).
  void load_state_dict(const StateDict& state);

 protected:
  // Registers a leaf parameter (set to require grad) and returns it.
  Tensor register_parameter(const std::string& name, Tensor value);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    children_.emplace_back(name, module);
    return module;
  }

 private:
  void collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const;
  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace erc::nn
