// WavLMConfig: frame arithmetic, consistency checks and the Hugging Face config.json reader.
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

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
  // Sizes within what any model could hold, and the conv stack's receptive field within 2^40 samples, so that the
  // frame arithmetic (min_samples, n_frames) cannot overflow.
  constexpr int64_t kMaxSize = int64_t(1) << 24;
  const std::pair<const char*, int64_t> sizes[] = {{"hidden_size", hidden_size},
                                                   {"num_hidden_layers", num_hidden_layers},
                                                   {"num_attention_heads", num_attention_heads},
                                                   {"intermediate_size", intermediate_size},
                                                   {"num_conv_pos_embeddings", num_conv_pos_embeddings},
                                                   {"num_buckets", buckets.num_buckets},
                                                   {"max_bucket_distance", buckets.max_distance}};
  for (const auto& [name, value] : sizes)
    ERC_CHECK(value <= kMaxSize, "WavLM config: ", name, " ", value, " is beyond any model (at most 2^24)");
  double receptive_field = 1;
  for (size_t i = conv_kernel.size(); i-- > 0;) {
    ERC_CHECK(conv_dim[i] <= kMaxSize && conv_kernel[i] <= kMaxSize && conv_stride[i] <= kMaxSize,
              "WavLM config: conv layer ", i, " is beyond any model (dim, kernel and stride at most 2^24)");
    receptive_field = (receptive_field - 1) * double(conv_stride[i]) + double(conv_kernel[i]);
  }
  ERC_CHECK(receptive_field <= 0x1p40, "WavLM config: one frame would need ", receptive_field,
            " samples (conv_kernel and conv_stride), beyond any recording");
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
  // nlohmann converts a float to an integer field by a cast, undefined beyond int64 (found by fuzz_wavlm_config:
  // 1.3e93) and silent truncation below it: integer fields must be JSON integers that fit.
  const auto is_int64 = [](const nlohmann::json& v) {
    return v.is_number_integer() && !(v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX));
  };
  const auto integer = [&](const char* key, int64_t fallback) {
    if (!j.contains(key)) return fallback;
    const nlohmann::json& v = j[key];
    ERC_CHECK(is_int64(v), source, ": ", key, " must be an integer, got ", v.dump());
    return v.get<int64_t>();
  };
  const auto integers = [&](const char* key, const std::vector<int64_t>& fallback) {
    if (!j.contains(key)) return fallback;
    const nlohmann::json& v = j[key];
    ERC_CHECK(v.is_array(), source, ": ", key, " must be a list of integers, got ", v.dump());
    std::vector<int64_t> out;
    for (const nlohmann::json& e : v) {
      ERC_CHECK(is_int64(e), source, ": ", key, " must be a list of integers, got ", v.dump());
      out.push_back(e.get<int64_t>());
    }
    return out;
  };
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
    c.hidden_size = integer("hidden_size", c.hidden_size);
    c.num_hidden_layers = integer("num_hidden_layers", c.num_hidden_layers);
    c.num_attention_heads = integer("num_attention_heads", c.num_attention_heads);
    c.intermediate_size = integer("intermediate_size", c.intermediate_size);
    c.conv_dim = integers("conv_dim", c.conv_dim);
    c.conv_kernel = integers("conv_kernel", c.conv_kernel);
    c.conv_stride = integers("conv_stride", c.conv_stride);
    c.conv_bias = j.value("conv_bias", c.conv_bias);
    c.num_conv_pos_embeddings = integer("num_conv_pos_embeddings", c.num_conv_pos_embeddings);
    c.num_conv_pos_embedding_groups = integer("num_conv_pos_embedding_groups", c.num_conv_pos_embedding_groups);
    c.buckets.num_buckets = integer("num_buckets", c.buckets.num_buckets);
    c.buckets.max_distance = integer("max_bucket_distance", c.buckets.max_distance);
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
