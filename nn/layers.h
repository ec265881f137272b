// The basic layers, initialised as PyTorch's modules of the same name.
#pragma once
#include <memory>

#include "nn/module.h"
#include "tensor/random.h"

namespace erc::nn {

// y = x W^T + b. weight [out, in], bias [out]; init U(+-1/sqrt(in)) for both, as torch.nn.Linear.
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias, Generator& init);
  Tensor forward(const Tensor& x) const;  // x [..., in] -> [..., out]
  Tensor weight, bias;                    // bias undefined when built without one
};

// As torch.nn.Conv1d without padding or groups: weight [C_out, C_in, K], bias [C_out] or none; init
// U(+-1/sqrt(C_in K)) for both.
class Conv1d : public Module {
 public:
  Conv1d(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride, bool bias, Generator& init);
  Tensor forward(const Tensor& x) const;  // x [B, C_in, L] -> [B, C_out, L_out]
  Tensor weight, bias;
  int64_t stride;
};

// Over the last dim, population variance, eps 1e-5; weight 1, bias 0.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(int64_t dim, double eps = 1e-5);
  Tensor forward(const Tensor& x) const;
  Tensor weight, bias;
  double eps;
};

// Inverted dropout, active in training only. All Dropouts of a model draw from the model's one generator, whose
// state a checkpoint saves, so a resumed run draws the same masks.
class Dropout : public Module {
 public:
  Dropout(double p, std::shared_ptr<Generator> gen) : p(p), gen_(std::move(gen)) {}
  Tensor forward(const Tensor& x) const;
  double p;

 private:
  std::shared_ptr<Generator> gen_;
};

}  // namespace erc::nn
