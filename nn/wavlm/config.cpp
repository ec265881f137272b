// WavLMConfig: frame arithmetic, consistency checks and the Hugging Face config.json reader.
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "nn/wavlm/wavlm.h"

namespace erc::nn {

int64_t WavLMConfig::n_frames(int64_t n_samples) const {
  int64_t length = n_samples;
  for (size_t i = 0; i < conv_kernel.size(); ++i) {
    if (length < conv_kernel[i]) return 0;
    length = (length - conv_kernel[i]) / conv_stride[i] + 1;
  }
  return length;
}

int64_t WavLMConfig::min_samples() const {
  // Walk back from one output frame: a layer needs (frames - 1) stride + K inputs.
  int64_t length = 1;
  for (size_t i = conv_kernel.size(); i-- > 0;) length = (length - 1) * conv_stride[i] + conv_kernel[i];
  return length;
}

void WavLMConfig::validate() const {
  ERC_CHECK(!conv_dim.empty() && conv_kernel.size() == conv_dim.size() && conv_stride.size() == conv_dim.size(),
            "WavLM config: conv_dim, conv_kernel and conv_stride must have one length, got ", conv_dim.size(), ", ",
            conv_kernel.size(), ", ", conv_stride.size());
  for (size_t i = 0; i < conv_dim.size(); ++i)
    ERC_CHECK(conv_dim[i] > 0 && conv_kernel[i] > 0 && conv_stride[i] > 0, "WavLM config: conv layer ", i,
              " needs positive dim, kernel and stride, got ", conv_dim[i], ", ", conv_kernel[i], ", ", conv_stride[i]);
  ERC_CHECK(hidden_size > 0 && num_attention_heads > 0 && hidden_size % num_attention_heads == 0,
            "WavLM config: hidden_size ", hidden_size, " must be a multiple of num_attention_heads ",
            num_attention_heads);
  ERC_CHECK(num_hidden_layers > 0 && intermediate_size > 0, "WavLM config: num_hidden_layers and intermediate_size ",
            "must be positive, got ", num_hidden_layers, " and ", intermediate_size);
  ERC_CHECK(num_conv_pos_embeddings > 0 && num_conv_pos_embedding_groups > 0 &&
                hidden_size % num_conv_pos_embedding_groups == 0,
            "WavLM config: hidden_size ", hidden_size, " must be a multiple of num_conv_pos_embedding_groups ",
            num_conv_pos_embedding_groups);
  ERC_CHECK(buckets.num_buckets >= 4 && buckets.num_buckets % 2 == 0 && buckets.max_distance > buckets.num_buckets / 4,
            "WavLM config: num_buckets must be even and >= 4 and max_bucket_distance above a quarter of it, got ",
            buckets.num_buckets, " and ", buckets.max_distance);
  ERC_CHECK(layer_norm_eps > 0, "WavLM config: layer_norm_eps must be positive, got ", layer_norm_eps);
}

WavLMConfig parse_wavlm_config(const std::string& json_text, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": not valid JSON (" + e.what() + ")");
  }
  ERC_CHECK(j.is_object(), source, ": expected a JSON object (a Hugging Face config.json)");
  WavLMConfig c;
  try {
    if (j.contains("model_type"))
      ERC_CHECK(j["model_type"] == "wavlm", source, ": model_type is ", j["model_type"].dump(), ", not \"wavlm\"");
    // What erc does not build is refused by name rather than computed differently.
    const std::string norm = j.value("feat_extract_norm", "layer");
    ERC_CHECK(norm == "layer" && j.value("do_stable_layer_norm", true), source,
              ": only the pre-LN variant with layer-normed conv features is built (feat_extract_norm \"layer\", ",
              "do_stable_layer_norm true: WavLM-Large); this config has feat_extract_norm \"", norm,
              "\", do_stable_layer_norm ", j.value("do_stable_layer_norm", true) ? "true" : "false");
    for (const char* key : {"hidden_act", "feat_extract_activation"})
      ERC_CHECK(j.value(key, std::string("gelu")) == "gelu", source, ": ", key, " must be \"gelu\", got \"",
                j.value(key, std::string()), "\"");
    c.hidden_size = j.value("hidden_size", c.hidden_size);
    c.num_hidden_layers = j.value("num_hidden_layers", c.num_hidden_layers);
    c.num_attention_heads = j.value("num_attention_heads", c.num_attention_heads);
    c.intermediate_size = j.value("intermediate_size", c.intermediate_size);
    c.conv_dim = j.value("conv_dim", c.conv_dim);
    c.conv_kernel = j.value("conv_kernel", c.conv_kernel);
    c.conv_stride = j.value("conv_stride", c.conv_stride);
    c.conv_bias = j.value("conv_bias", c.conv_bias);
    c.num_conv_pos_embeddings = j.value("num_conv_pos_embeddings", c.num_conv_pos_embeddings);
    c.num_conv_pos_embedding_groups = j.value("num_conv_pos_embedding_groups", c.num_conv_pos_embedding_groups);
    c.buckets.num_buckets = j.value("num_buckets", c.buckets.num_buckets);
    c.buckets.max_distance = j.value("max_bucket_distance", c.buckets.max_distance);
    c.layer_norm_eps = j.value("layer_norm_eps", c.layer_norm_eps);
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": a field has the wrong type (" + e.what() + ")");
  }
  try {
    c.validate();
  } catch (const Error& e) {
    throw Error(source + ": " + e.what());
  }
  return c;
}

WavLMConfig load_wavlm_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  ERC_CHECK(in.good(), path, ": cannot open the WavLM config");
  std::stringstream text;
  text << in.rdbuf();
  return parse_wavlm_config(text.str(), path);
}

}  // namespace erc::nn
