// Mamba block (Gu & Dao 2023) with the official module's defaults and parameter names (mamba_ssm.Mamba):
// d_model D, d_inner E = 2 D, d_state N = 16, d_conv K = 4, dt_rank R = ceil(D / 16). docs/MODEL.md §2.
#pragma once
#include "nn/layers.h"
#include "ops/packed.h"

namespace erc::nn {

struct MambaConfig {
  int64_t d_model = 256;
  int64_t d_state = 16;
  int64_t d_conv = 4;
  int64_t expand = 2;
  int64_t d_inner() const { return expand * d_model; }
  int64_t dt_rank() const { return (d_model + 15) / 16; }
};

// Mamba's depthwise causal conv: weight [E, 1, K], bias [E] (PyTorch Conv1d(E, E, K, groups=E) names and init).
class CausalConv1d : public Module {
 public:
  CausalConv1d(int64_t channels, int64_t kernel, Generator& init);
  Tensor forward(const Tensor& x, const ops::SeqOffsets& seq_offsets) const;  // x [T, E]
  Tensor weight, bias;
};

class Mamba : public Module {
 public:
  Mamba(const MambaConfig& config, Generator& init);
  // a [T, D] (a packed batch, see ops/packed.h) -> [T, D]
  Tensor forward(const Tensor& a, const ops::SeqOffsets& seq_offsets) const;

  MambaConfig config;
  std::shared_ptr<Linear> in_proj;       // [2E, D], no bias: x and z
  std::shared_ptr<CausalConv1d> conv1d;  // [E, 1, K] + bias
  std::shared_ptr<Linear> x_proj;        // [R + 2N, E], no bias: dt_low, B, C
  std::shared_ptr<Linear> dt_proj;       // [E, R] + bias (the bias is the scan's delta_bias)
  std::shared_ptr<Linear> out_proj;      // [D, E], no bias
  Tensor A_log;                          // [E, N], A = -exp(A_log)
  Tensor D;                              // [E], the skip
};

}  // namespace erc::nn
