// WavLM (Chen et al. 2022) as Hugging Face transformers' WavLMModel computes it, docs/MODEL.md §1: the conv
// feature encoder, the feature projection, the weight-normed positional conv and pre-LN transformer blocks with
// gated relative-position attention. Parameter names are the Hugging Face checkpoint's, so microsoft/wavlm-large
// loads as it is (nn/wavlm/weights.h). Frozen here: it only ever runs forward, up to the requested layer.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nn/layers.h"
#include "ops/attention.h"

namespace erc::nn {

// The fields of a Hugging Face WavLMConfig that the computation depends on; defaults are microsoft/wavlm-large's.
struct WavLMConfig {
  int64_t hidden_size = 1024;  // F
  int64_t num_hidden_layers = 24;
  int64_t num_attention_heads = 16;
  int64_t intermediate_size = 4096;
  std::vector<int64_t> conv_dim = std::vector<int64_t>(7, 512);
  std::vector<int64_t> conv_kernel = {10, 3, 3, 3, 3, 2, 2};
  std::vector<int64_t> conv_stride = {5, 2, 2, 2, 2, 2, 2};
  bool conv_bias = false;
  int64_t num_conv_pos_embeddings = 128;            // the positional conv's kernel
  int64_t num_conv_pos_embedding_groups = 16;
  ops::RelativeBuckets buckets{320, 800};
  double layer_norm_eps = 1e-5;

  int64_t head_dim() const { return hidden_size / num_attention_heads; }
  // Frames from n_samples of audio: (n - K) / stride + 1 through each conv layer; 0 when too short for one.
  int64_t n_frames(int64_t n_samples) const;
  int64_t min_samples() const;  // the fewest samples that give one frame (400 for WavLM-Large)
  // Throws erc::Error naming the first inconsistent field.
  void validate() const;
};

// Parses a Hugging Face config.json. Only the pre-LN, layer-normed variant (feat_extract_norm "layer",
// do_stable_layer_norm true: WavLM-Large) is built; other variants and activations are refused by name.
// `source` names the file in errors.
WavLMConfig parse_wavlm_config(const std::string& json_text, const std::string& source);
WavLMConfig load_wavlm_config(const std::string& path);

// Stage outputs by name, for the stage-by-stage comparison with transformers (tests) and for inspection.
using WavLMTrace = std::map<std::string, Tensor>;

// feature_extractor: conv_layers.{i} = Conv1d (no padding) -> LayerNorm over channels (eps 1e-5 whatever the
// config says, as in transformers) -> GELU.
class WavLMFeatureEncoder : public Module {
 public:
  WavLMFeatureEncoder(const WavLMConfig& config, Generator& init);
  // waveform [n_samples] -> [T, C_out]; `trace` gets "conv.{i}" = layer i's output [C_out, L_out].
  Tensor forward(const Tensor& waveform, WavLMTrace* trace = nullptr) const;
  struct ConvLayer : Module {
    ConvLayer(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride, bool bias, Generator& init);
    std::shared_ptr<Conv1d> conv;
    std::shared_ptr<LayerNorm> layer_norm;
  };
  std::vector<std::shared_ptr<ConvLayer>> conv_layers;
};

// encoder.pos_conv_embed.conv: Conv1d(F, F, K, padding K / 2, groups G) with weight norm over the kernel axis,
// W[o, i, k] = weight_g[k] weight_v[o, i, k] / |weight_v[:, :, k]|; an even K yields one frame too many, dropped.
class WavLMPositionalConv : public Module {
 public:
  WavLMPositionalConv(const WavLMConfig& config, Generator& init);
  Tensor forward(const Tensor& x) const;  // x [T, F] (one utterance) -> GELU(conv(x)) [T, F]
  Tensor weight() const;                  // the effective W [F, F / G, K], a view of taps-first memory
  Tensor weight_g, weight_v, bias;        // [1, 1, K], [F, F / G, K], [F]
  int64_t groups;
};

class WavLMAttention : public Module {
 public:
  WavLMAttention(const WavLMConfig& config, bool has_relative_embedding, Generator& init);
  // a [T, F] layer-normed input of packed utterances; rel_embed [buckets, H] (layer 0's, shared by all).
  Tensor forward(const Tensor& a, const Tensor& rel_embed, const ops::SeqOffsets& seq_offsets) const;
  // The gate of docs/MODEL.md §1 per frame and head: [T, H].
  Tensor gate(const Tensor& a) const;
  std::shared_ptr<Linear> k_proj, v_proj, q_proj, out_proj;
  Tensor gru_rel_pos_const;                    // [1, H, 1, 1]
  std::shared_ptr<Linear> gru_rel_pos_linear;  // [8, Dh] + bias
  Tensor rel_attn_embed;                       // [buckets, H]; layer 0 only ("rel_attn_embed.weight")
  ops::RelativeBuckets buckets;
  int64_t heads;
};

// encoder.layers.{l}: h += attention(layer_norm(h)); h += output_dense(GELU(intermediate_dense(final_layer_norm(h)))).
class WavLMLayer : public Module {
 public:
  WavLMLayer(const WavLMConfig& config, bool has_relative_embedding, Generator& init);
  Tensor forward(const Tensor& h, const Tensor& rel_embed, const ops::SeqOffsets& seq_offsets) const;
  std::shared_ptr<WavLMAttention> attention;
  std::shared_ptr<LayerNorm> layer_norm, final_layer_norm;
  std::shared_ptr<Linear> intermediate_dense, output_dense;  // "feed_forward.intermediate_dense", "...output_dense"
};

class WavLM : public Module {
 public:
  // Builds the blocks up to `layer` (1..num_hidden_layers), randomly initialised from `init` as PyTorch's module
  // defaults would be (weights load over them). The output is hidden_states[layer] as transformers 5 defines it:
  // block `layer`'s output, never passed through the encoder's final layer_norm (which is not built).
  WavLM(const WavLMConfig& config, int64_t layer, Generator& init);

  // One waveform per utterance, each [n_samples] f32 of at least config.min_samples() (normalise first, see
  // normalise_waveform) -> each utterance's hidden_states[layer] [T_u, F]. The utterances share every
  // frame-wise GEMM (packed along time); convolutions and attention stay within each utterance.
  // `trace` gets the packed stages: "features", "projection.norm", "projection", "pos_conv", "hidden.{k}".
  std::vector<Tensor> forward(const std::vector<Tensor>& waveforms, WavLMTrace* trace = nullptr) const;

  // Stores the weights of the frame-wise GEMMs (the feature projection; each block's q/k/v/out, gate and
  // feed-forward projections) in `dtype`, in place. bf16 halves their memory and runs them on tensor cores with f32
  // sums (ops::linear); the convolutions, norms, biases and every activation stay f32.
  void store_gemm_weights(DType dtype);

  WavLMConfig config;
  int64_t layer;
  std::shared_ptr<WavLMFeatureEncoder> feature_extractor;
  std::shared_ptr<LayerNorm> projection_norm;  // "feature_projection.layer_norm"
  std::shared_ptr<Linear> projection;          // "feature_projection.projection"
  std::shared_ptr<WavLMPositionalConv> pos_conv;
  std::vector<std::shared_ptr<WavLMLayer>> layers;
};

// (x - mean) / sqrt(var + 1e-7) over the whole utterance, population variance, in float64: what Hugging Face's
// Wav2Vec2FeatureExtractor(do_normalize=True) feeds WavLM-Large. waveform [n] f32 -> [n] f32.
Tensor normalise_waveform(const Tensor& waveform);

}  // namespace erc::nn
