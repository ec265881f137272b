// The ERC encoder of docs/MODEL.md §2: input_proj, three macaron BiMamba layers, utterance mean pooling and
// a linear classifier. Parameter names are those a PyTorch module tree of the same structure gives.
#pragma once
#include "nn/mamba.h"

namespace erc::nn {

// FF(x) = Dropout(linear2(Dropout(SiLU(linear1(LN(x)))))), d -> 2d -> d. Names: norm, linear1, linear2.
class FeedForward : public Module {
 public:
  FeedForward(int64_t d_model, double dropout, std::shared_ptr<Generator> dropout_gen, Generator& init);
  Tensor forward(const Tensor& x) const;  // x [T, D] -> [T, D]
  std::shared_ptr<LayerNorm> norm;
  std::shared_ptr<Linear> linear1, linear2;
  std::shared_ptr<Dropout> dropout;
};

// External bidirectional Mamba: y_f = forward_mamba(a), y_b = flip(backward_mamba(flip(a))) with each packed
// sequence flipped within its own length, out = output_proj(concat(y_f, y_b)).
class BiMamba : public Module {
 public:
  BiMamba(const MambaConfig& config, Generator& init);
  Tensor forward(const Tensor& a, const ops::SeqOffsets& seq_offsets) const;  // [T, D] -> [T, D]
  std::shared_ptr<Mamba> forward_mamba, backward_mamba;
  std::shared_ptr<Linear> output_proj;  // [D, 2D] + bias
};

// x += 0.5 ff1(x); x += Dropout(bimamba(norm_mamba(x))); x += 0.5 ff2(x); x = norm_out(x).
class BiMambaLayer : public Module {
 public:
  BiMambaLayer(const MambaConfig& config, double dropout, std::shared_ptr<Generator> dropout_gen, Generator& init);
  // recompute: keep only the inputs of ff1, the BiMamba block and ff2 for backward, and rerun each there.
  Tensor forward(const Tensor& x, const ops::SeqOffsets& seq_offsets, bool recompute = false) const;
  std::shared_ptr<FeedForward> ff1, ff2;
  std::shared_ptr<LayerNorm> norm_mamba, norm_out;
  std::shared_ptr<BiMamba> bimamba;
  std::shared_ptr<Dropout> dropout;

 private:
  std::shared_ptr<Generator> dropout_gen_;  // rewound by the reruns of recompute
};

struct ErcModelConfig {
  int64_t feature_dim = 1024;  // F: WavLM-Large hidden size
  int64_t n_layers = 3;
  int64_t n_classes = 6;       // the paper's (ang exc fru hap neu sad); a run sets its own classes' count
  double dropout = 0.1;
  MambaConfig mamba;           // d_model 256 and the official Mamba defaults
  // Keep only the inputs of each layer's blocks (ff1, the BiMamba block, ff2) for backward and rerun each block
  // there (autograd/checkpoint.h): the same values and gradients in under half the activation memory, for one more
  // forward of the layers.
  bool recompute_layers = false;
};

class ErcModel : public Module {
 public:
  // `seed` draws the initial weights; dropout masks come from a second stream of the same seed.
  ErcModel(const ErcModelConfig& config, uint64_t seed);
  // features [T, F] (a packed batch), seq_offsets (S + 1), utt_offsets (U + 1, each utterance inside one
  // sequence) -> logits [U, C].
  Tensor forward(const Tensor& features, const ops::SeqOffsets& seq_offsets, const ops::SeqOffsets& utt_offsets) const;

  ErcModelConfig config;
  std::shared_ptr<Linear> input_proj;
  std::vector<std::shared_ptr<BiMambaLayer>> layers;
  std::shared_ptr<Linear> classifier;
  std::shared_ptr<Generator> dropout_gen;  // its state goes into checkpoints
};

}  // namespace erc::nn
