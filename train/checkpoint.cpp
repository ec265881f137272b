#include "train/checkpoint.h"

#include <cstring>

#include "io/safetensors.h"

namespace erc::train {

namespace {

Tensor rng_state(const Generator& g) {
  int64_t seed, offset;
  uint64_t s = g.seed(), o = g.offset();
  std::memcpy(&seed, &s, 8);  // u64 kept bit for bit in an i64 tensor
  std::memcpy(&offset, &o, 8);
  return Tensor::from_vector<int64_t>({seed, offset}, {2});
}

void restore_rng(Generator& g, const SafeTensors& st, const std::string& name) {
  std::vector<int64_t> v = st.at(name).to_vector<int64_t>();
  ERC_CHECK(v.size() == 2, st.path, ": ", name, " must hold [seed, offset]");
  uint64_t s, o;
  std::memcpy(&s, &v[0], 8);
  std::memcpy(&o, &v[1], 8);
  g.set_state(s, o);
}

}  // namespace

void save_checkpoint(const std::string& path, const nn::Module& model, const optim::RAdamScheduleFree& optimizer,
                     const Generator& dropout_gen, const Generator& order_gen, const Progress& progress) {
  ERC_CHECK(!optimizer.training(), "save_checkpoint: the optimiser must be in eval mode (parameters = x)");
  std::map<std::string, Tensor> tensors;
  // On the host whatever the device, so that one format serves every device and PyTorch.
  for (auto& [name, t] : model.state_dict()) tensors["model." + name] = t.to(Device::cpu);
  for (auto& [name, t] : optimizer.state_dict()) tensors["optim." + name] = t.to(Device::cpu);
  tensors["rng.dropout"] = rng_state(dropout_gen);
  tensors["rng.order"] = rng_state(order_gen);
  tensors["progress.epoch"] = Tensor::scalar(double(progress.epoch), DType::f64);
  tensors["progress.best_epoch"] = Tensor::scalar(double(progress.best_epoch), DType::f64);
  tensors["progress.best_score"] = Tensor::scalar(progress.best_score, DType::f64);
  save_safetensors(path, tensors, {{"format", "pt"}, {"erc", "checkpoint"}});
}

Progress load_checkpoint(const std::string& path, nn::Module& model, optim::RAdamScheduleFree& optimizer,
                         Generator& dropout_gen, Generator& order_gen) {
  SafeTensors st = load_safetensors(path);
  nn::StateDict weights;
  optim::StateDict state;
  for (auto& [name, t] : st.tensors) {
    if (name.rfind("model.", 0) == 0) weights.emplace(name.substr(6), t);
    if (name.rfind("optim.", 0) == 0) state.emplace(name.substr(6), t);
  }
  ERC_CHECK(!weights.empty(), path, ": not an erc checkpoint (no model.* tensors)");
  model.load_state_dict(weights);
  optimizer.load_state_dict(state);
  ERC_CHECK(!optimizer.training(), path, ": the checkpoint was not written in eval mode");
  restore_rng(dropout_gen, st, "rng.dropout");
  restore_rng(order_gen, st, "rng.order");
  Progress p;
  p.epoch = int64_t(st.at("progress.epoch").item_as_double());
  p.best_epoch = int64_t(st.at("progress.best_epoch").item_as_double());
  p.best_score = st.at("progress.best_score").item_as_double();
  return p;
}

nn::StateDict load_model_weights(const std::string& path) {
  SafeTensors st = load_safetensors(path);
  nn::StateDict prefixed;
  for (auto& [name, t] : st.tensors)
    if (name.rfind("model.", 0) == 0) prefixed.emplace(name.substr(6), t);
  return prefixed.empty() ? st.tensors : prefixed;
}

}  // namespace erc::train
