#include "nn/erc_model.h"

#include <functional>

#include "autograd/checkpoint.h"
#include "ops/binary.h"
#include "ops/matmul.h"
#include "ops/packed.h"
#include "ops/segment_mean.h"
#include "ops/shape.h"
#include "ops/unary.h"

namespace erc::nn {

FeedForward::FeedForward(int64_t d_model, double p, std::shared_ptr<Generator> dropout_gen, Generator& init) {
  norm = register_module("norm", std::make_shared<LayerNorm>(d_model));
  linear1 = register_module("linear1", std::make_shared<Linear>(d_model, 2 * d_model, true, init));
  linear2 = register_module("linear2", std::make_shared<Linear>(2 * d_model, d_model, true, init));
  dropout = register_module("dropout", std::make_shared<Dropout>(p, std::move(dropout_gen)));
}

Tensor FeedForward::forward(const Tensor& x) const {
  Tensor h = dropout->forward(ops::silu(linear1->forward(norm->forward(x))));
  return dropout->forward(linear2->forward(h));
}

BiMamba::BiMamba(const MambaConfig& config, Generator& init) {
  forward_mamba = register_module("forward_mamba", std::make_shared<Mamba>(config, init));
  backward_mamba = register_module("backward_mamba", std::make_shared<Mamba>(config, init));
  output_proj = register_module("output_proj", std::make_shared<Linear>(2 * config.d_model, config.d_model, true, init));
}

Tensor BiMamba::forward(const Tensor& a, const ops::SeqOffsets& seq_offsets) const {
  Tensor y_f = forward_mamba->forward(a, seq_offsets);
  Tensor y_b = ops::flip_sequences(backward_mamba->forward(ops::flip_sequences(a, seq_offsets), seq_offsets), seq_offsets);
  // output_proj(cat(y_f, y_b)) as the sum of two GEMMs on its weight's column halves: no [T, 2D] concatenation in
  // forward, and no strided copies of its gradient's halves in backward.
  const int64_t D = y_f.size(1);
  return ops::add(ops::linear(y_f, ops::slice(output_proj->weight, 1, 0, D), output_proj->bias),
                  ops::linear(y_b, ops::slice(output_proj->weight, 1, D, D)));
}

BiMambaLayer::BiMambaLayer(const MambaConfig& config, double p, std::shared_ptr<Generator> dropout_gen, Generator& init)
    : dropout_gen_(dropout_gen) {
  ff1 = register_module("ff1", std::make_shared<FeedForward>(config.d_model, p, dropout_gen, init));
  norm_mamba = register_module("norm_mamba", std::make_shared<LayerNorm>(config.d_model));
  bimamba = register_module("bimamba", std::make_shared<BiMamba>(config, init));
  dropout = register_module("dropout", std::make_shared<Dropout>(p, dropout_gen));
  ff2 = register_module("ff2", std::make_shared<FeedForward>(config.d_model, p, dropout_gen, init));
  norm_out = register_module("norm_out", std::make_shared<LayerNorm>(config.d_model));
}

namespace {

// block(x) through autograd's checkpoint. The rerun in backward must draw the dropout masks of the first run: it
// rewinds the stream to where the block began, and afterwards puts it back where it was (the first run leaves it
// after the block's draws).
Tensor recomputed(const std::shared_ptr<Generator>& gen, std::function<Tensor(const Tensor&)> block, const Tensor& x) {
  const uint64_t seed = gen->seed(), start = gen->offset();
  return checkpoint(
      [gen, block = std::move(block), seed, start](const Tensor& in) {
        const uint64_t now = gen->offset();
        gen->set_state(seed, start);
        Tensor out = block(in);
        if (now != start) gen->set_state(seed, now);
        return out;
      },
      x);
}

}  // namespace

Tensor BiMambaLayer::forward(const Tensor& x_in, const ops::SeqOffsets& seq_offsets, bool recompute) const {
  auto ff1_block = [this](const Tensor& in) { return ff1->forward(in); };
  auto mamba_block = [this, seq_offsets](const Tensor& in) {  // a copy: the rerun comes after this call returns
    return dropout->forward(bimamba->forward(norm_mamba->forward(in), seq_offsets));
  };
  auto ff2_block = [this](const Tensor& in) { return ff2->forward(in); };
  auto run = [&](const std::function<Tensor(const Tensor&)>& block, const Tensor& in) {
    return recompute ? recomputed(dropout_gen_, block, in) : block(in);
  };
  Tensor x = ops::add(x_in, ops::mul_scalar(run(ff1_block, x_in), 0.5));
  x = ops::add(x, run(mamba_block, x));
  x = ops::add(x, ops::mul_scalar(run(ff2_block, x), 0.5));
  return norm_out->forward(x);
}

ErcModel::ErcModel(const ErcModelConfig& config_, uint64_t seed) : config(config_) {
  Generator init(seed);
  // The dropout stream: another key, so that changing the dropout rate never changes the initial weights.
  dropout_gen = std::make_shared<Generator>(seed ^ 0x9E3779B97F4A7C15ull);
  const int64_t d_model = config.mamba.d_model;
  input_proj = register_module("input_proj", std::make_shared<Linear>(config.feature_dim, d_model, true, init));
  for (int64_t i = 0; i < config.n_layers; ++i)
    layers.push_back(register_module("layers." + std::to_string(i),
                                     std::make_shared<BiMambaLayer>(config.mamba, config.dropout, dropout_gen, init)));
  classifier = register_module("classifier", std::make_shared<Linear>(d_model, config.n_classes, true, init));
}

Tensor ErcModel::forward(const Tensor& features, const ops::SeqOffsets& seq_offsets,
                         const ops::SeqOffsets& utt_offsets) const {
  ERC_CHECK(features.dim() == 2 && features.size(1) == config.feature_dim, "ErcModel: expected features [T, ",
            config.feature_dim, "], got ", shape_str(features.shape()));
  ops::check_seq_offsets(seq_offsets, features.size(0), "ErcModel (seq_offsets)");
  ops::check_seq_offsets(utt_offsets, features.size(0), "ErcModel (utt_offsets)");
  Tensor x = input_proj->forward(features);
  for (const auto& layer : layers) x = layer->forward(x, seq_offsets, config.recompute_layers);
  return classifier->forward(ops::segment_mean(x, utt_offsets));  // [U, C]
}

}  // namespace erc::nn
