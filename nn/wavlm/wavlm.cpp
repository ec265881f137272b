#include "nn/wavlm/wavlm.h"

#include <cmath>

#include "ops/binary.h"
#include "ops/conv1d.h"
#include "ops/join.h"
#include "ops/layer_norm.h"
#include "ops/matmul.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "ops/unary.h"

namespace erc::nn {

WavLMFeatureEncoder::ConvLayer::ConvLayer(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride,
                                          bool bias, Generator& init) {
  conv = register_module("conv", std::make_shared<Conv1d>(in_channels, out_channels, kernel, stride, bias, init));
  layer_norm = register_module("layer_norm", std::make_shared<LayerNorm>(out_channels, 1e-5));
}

WavLMFeatureEncoder::WavLMFeatureEncoder(const WavLMConfig& config, Generator& init) {
  int64_t in_channels = 1;
  for (size_t i = 0; i < config.conv_dim.size(); ++i) {
    conv_layers.push_back(register_module(
        "conv_layers." + std::to_string(i),
        std::make_shared<ConvLayer>(in_channels, config.conv_dim[i], config.conv_kernel[i], config.conv_stride[i],
                                    config.conv_bias, init)));
    in_channels = config.conv_dim[i];
  }
}

Tensor WavLMFeatureEncoder::forward(const Tensor& waveform, WavLMTrace* trace) const {
  ERC_CHECK(waveform.dim() == 1, "WavLM feature encoder: expected a waveform [n_samples], got ",
            shape_str(waveform.shape()));
  // Frames-major throughout, [1, L, C]: conv1d reads and writes that layout without im2col or transposes (its fast
  // path), and the LayerNorm over channels and the GELU then run over contiguous rows.
  Tensor frames = ops::reshape(waveform, {1, waveform.size(0), 1});
  for (size_t i = 0; i < conv_layers.size(); ++i) {
    const ConvLayer& layer = *conv_layers[i];
    Tensor y = ops::transpose(layer.conv->forward(ops::transpose(frames, 1, 2)), 1, 2);  // [1, L_out, C_out]
    // Each input is let go as soon as its output is made: at most two of a layer's [L, C] tensors are held at once
    // (62.5 MiB each at the first layer of a 10 s clip). The norm and the GELU are one pass on the device.
    frames = Tensor();
    frames = ops::layer_norm_gelu(y, layer.layer_norm->weight, layer.layer_norm->bias, layer.layer_norm->eps);
    y = Tensor();
    if (trace) {
      const int64_t L = frames.size(1), C = frames.size(2);
      (*trace)["conv." + std::to_string(i)] = frames.detach().view({L, C}).transpose(0, 1);
    }
  }
  return ops::reshape(frames, {frames.size(1), frames.size(2)});
}

WavLMPositionalConv::WavLMPositionalConv(const WavLMConfig& config, Generator& init)
    : groups(config.num_conv_pos_embedding_groups) {
  const int64_t F = config.hidden_size, K = config.num_conv_pos_embeddings;
  const double bound = 1.0 / std::sqrt(double(F / groups * K));
  // Registered in the order of the checkpoint's names: bias, weight_g, weight_v.
  bias = register_parameter("bias", rand({F}, init, DType::f32, -bound, bound));
  Tensor v = rand({F, F / groups, K}, init, DType::f32, -bound, bound);
  // torch's weight_norm starts with g = |v| per kernel position, so that W = v.
  Tensor g = ops::sqrt(ops::sum(ops::mul(v, v), {0, 1}, /*keepdim=*/true));
  weight_g = register_parameter("weight_g", g);
  weight_v = register_parameter("weight_v", v);
}

Tensor WavLMPositionalConv::weight() const {
  const int64_t K = weight_v.size(2);
  // |v[:, :, k]|: the squares summed over input channels, then over output channels (ops::sum over both at once
  // walks the 33 MB tap by tap, 4x slower).
  const Tensor norm = ops::sqrt(ops::sum(ops::sum(ops::mul(weight_v, weight_v), {1}), {0}));  // [K]
  const Tensor scale = ops::reshape(ops::div(ops::reshape(weight_g, {K}), norm), {1, K, 1});
  // Computed with the taps before the channels, [F, K, F / G], and returned as that memory's [F, F / G, K] view:
  // the order conv1d's frames-major fast path reads, so that it does not copy the weight again.
  return ops::permute(ops::mul(ops::permute(weight_v, {0, 2, 1}), scale), {0, 2, 1});
}

Tensor WavLMPositionalConv::forward(const Tensor& x) const {
  const int64_t T = x.size(0), F = x.size(1), K = weight_v.size(2);
  // x as [1, F, T] over its own memory: frames-major, as conv1d's fast path reads it; y [1, F, L_out] is too.
  const Tensor y = ops::conv1d(ops::transpose(ops::reshape(x, {1, T, F}), 1, 2), weight(), bias, 1, K / 2, groups);
  const Tensor frames = ops::reshape(ops::transpose(y, 1, 2), {-1, F});  // [L_out, F]
  return ops::gelu(ops::slice(frames, 0, 0, T));  // an even K gives T + 1 frames; the last is dropped
}

WavLMAttention::WavLMAttention(const WavLMConfig& config, bool has_relative_embedding, Generator& init)
    : buckets(config.buckets), heads(config.num_attention_heads) {
  const int64_t F = config.hidden_size;
  // The order of transformers' module, so that named_parameters() lists what its state_dict() lists.
  k_proj = register_module("k_proj", std::make_shared<Linear>(F, F, true, init));
  v_proj = register_module("v_proj", std::make_shared<Linear>(F, F, true, init));
  q_proj = register_module("q_proj", std::make_shared<Linear>(F, F, true, init));
  out_proj = register_module("out_proj", std::make_shared<Linear>(F, F, true, init));
  gru_rel_pos_const = register_parameter("gru_rel_pos_const", Tensor::ones({1, heads, 1, 1}));
  gru_rel_pos_linear = register_module("gru_rel_pos_linear", std::make_shared<Linear>(config.head_dim(), 8, true, init));
  if (has_relative_embedding)
    rel_attn_embed = register_parameter("rel_attn_embed.weight", randn({buckets.num_buckets, heads}, init));
}

Tensor WavLMAttention::gate(const Tensor& a) const {
  const int64_t T = a.size(0);
  // r = gru_rel_pos_linear(a's head slice) [T, heads, 8]; the two halves summed: [T, heads, 2]
  Tensor r = ops::sum(ops::reshape(gru_rel_pos_linear->forward(ops::reshape(a, {T, heads, -1})), {T, heads, 2, 4}),
                      {3});
  Tensor s = ops::sigmoid(r);
  Tensor u = ops::reshape(ops::slice(s, 2, 0, 1), {T, heads}), w = ops::reshape(ops::slice(s, 2, 1, 1), {T, heads});
  Tensor c = ops::reshape(gru_rel_pos_const, {1, heads});
  return ops::add_scalar(ops::mul(u, ops::add_scalar(ops::mul(w, c), -1.0)), 2.0);  // u (w c - 1) + 2
}

Tensor WavLMAttention::forward(const Tensor& a, const Tensor& rel_embed, const ops::SeqOffsets& seq_offsets) const {
  Tensor attended = ops::relative_position_attention(q_proj->forward(a), k_proj->forward(a), v_proj->forward(a),
                                                     gate(a), rel_embed, seq_offsets, buckets);
  return out_proj->forward(attended);
}

WavLMLayer::WavLMLayer(const WavLMConfig& config, bool has_relative_embedding, Generator& init) {
  const int64_t F = config.hidden_size;
  attention = register_module("attention", std::make_shared<WavLMAttention>(config, has_relative_embedding, init));
  layer_norm = register_module("layer_norm", std::make_shared<LayerNorm>(F, config.layer_norm_eps));
  intermediate_dense = register_module("feed_forward.intermediate_dense",
                                       std::make_shared<Linear>(F, config.intermediate_size, true, init));
  output_dense =
      register_module("feed_forward.output_dense", std::make_shared<Linear>(config.intermediate_size, F, true, init));
  final_layer_norm = register_module("final_layer_norm", std::make_shared<LayerNorm>(F, config.layer_norm_eps));
}

Tensor WavLMLayer::forward(const Tensor& h, const Tensor& rel_embed, const ops::SeqOffsets& seq_offsets) const {
  Tensor x = ops::add(h, attention->forward(layer_norm->forward(h), rel_embed, seq_offsets));
  return ops::add(x, output_dense->forward(ops::gelu(intermediate_dense->forward(final_layer_norm->forward(x)))));
}

WavLM::WavLM(const WavLMConfig& config_, int64_t layer_, Generator& init) : config(config_), layer(layer_) {
  config.validate();
  ERC_CHECK(layer >= 1 && layer <= config.num_hidden_layers, "WavLM: layer must be in 1..", config.num_hidden_layers,
            " (hidden_states[layer] is the output of block `layer`), got ", layer);
  const int64_t F = config.hidden_size, C_out = config.conv_dim.back();
  feature_extractor = register_module("feature_extractor", std::make_shared<WavLMFeatureEncoder>(config, init));
  projection_norm =
      register_module("feature_projection.layer_norm", std::make_shared<LayerNorm>(C_out, config.layer_norm_eps));
  projection = register_module("feature_projection.projection", std::make_shared<Linear>(C_out, F, true, init));
  pos_conv = register_module("encoder.pos_conv_embed.conv", std::make_shared<WavLMPositionalConv>(config, init));
  for (int64_t l = 0; l < layer; ++l)
    layers.push_back(register_module("encoder.layers." + std::to_string(l),
                                     std::make_shared<WavLMLayer>(config, /*has_relative_embedding=*/l == 0, init)));
}

std::vector<Tensor> WavLM::forward(const std::vector<Tensor>& waveforms, WavLMTrace* trace) const {
  ERC_CHECK(!waveforms.empty(), "WavLM: no waveform given");
  ops::SeqOffsets offsets = {0};
  std::vector<Tensor> features;
  for (size_t u = 0; u < waveforms.size(); ++u) {
    const Tensor& w = waveforms[u];
    ERC_CHECK(w.dim() == 1 && w.size(0) >= config.min_samples(), "WavLM: waveform ", u,
              " must be [n_samples] with at least ", config.min_samples(), " samples (one frame), got ",
              shape_str(w.shape()));
    features.push_back(feature_extractor->forward(w));
    offsets.push_back(offsets.back() + features.back().size(0));
  }
  auto record = [&](const std::string& name, const Tensor& t) {
    if (trace) (*trace)[name] = t.detach();
  };
  Tensor packed = ops::cat(features, 0);  // [T, C_out]
  record("features", packed);
  Tensor normed = projection_norm->forward(packed);
  record("projection.norm", normed);
  Tensor h = projection->forward(normed);  // [T, F]
  record("projection", h);
  std::vector<Tensor> positions;
  for (size_t u = 0; u + 1 < offsets.size(); ++u)
    positions.push_back(pos_conv->forward(ops::slice(h, 0, offsets[u], offsets[u + 1] - offsets[u])));
  Tensor position = ops::cat(positions, 0);
  record("pos_conv", position);
  h = ops::add(h, position);
  record("hidden.0", h);
  const Tensor& rel_embed = layers[0]->attention->rel_attn_embed;
  for (size_t l = 0; l < layers.size(); ++l) {
    h = layers[l]->forward(h, rel_embed, offsets);
    record("hidden." + std::to_string(l + 1), h);
  }
  std::vector<Tensor> out;
  for (size_t u = 0; u + 1 < offsets.size(); ++u)
    out.push_back(ops::contiguous(ops::slice(h, 0, offsets[u], offsets[u + 1] - offsets[u])));
  return out;
}

void WavLM::store_gemm_weights(DType dtype) {
  std::vector<const Linear*> gemms = {projection.get()};
  for (const auto& l : layers) {
    const WavLMAttention& a = *l->attention;
    for (const Linear* g : {a.q_proj.get(), a.k_proj.get(), a.v_proj.get(), a.out_proj.get(),
                            a.gru_rel_pos_linear.get(), l->intermediate_dense.get(), l->output_dense.get()})
      gemms.push_back(g);
  }
  for (const Linear* g : gemms) Module::to(g->weight, dtype);
}

Tensor normalise_waveform(const Tensor& waveform) {
  ERC_CHECK(waveform.dim() == 1 && waveform.size(0) > 0, "normalise_waveform: expected a non-empty [n_samples], got ",
            shape_str(waveform.shape()));
  const std::vector<double> x = waveform.detach().to(DType::f64).to_vector<double>();
  double mean = 0;
  for (double v : x) mean += v;
  mean /= double(x.size());
  double var = 0;
  for (double v : x) var += (v - mean) * (v - mean);
  var /= double(x.size());
  const double inv = 1.0 / std::sqrt(var + 1e-7);
  std::vector<float> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = float((x[i] - mean) * inv);
  return Tensor::from_vector(y, {int64_t(y.size())});
}

}  // namespace erc::nn
