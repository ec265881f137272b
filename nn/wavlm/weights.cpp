#include "nn/wavlm/weights.h"

#include <cstdio>
#include <filesystem>
#include <regex>

#include "io/safetensors.h"
#include "io/torch_checkpoint.h"

namespace erc::nn {

namespace fs = std::filesystem;

WavLMFiles locate_wavlm(const std::string& folder_or_file) {
  const fs::path path(folder_or_file);
  ERC_CHECK(fs::exists(path), "--wavlm ", folder_or_file, ": no such file or folder");
  WavLMFiles files;
  if (fs::is_directory(path)) {
    for (const char* name : {"model.safetensors", "pytorch_model.bin"})
      if (fs::is_regular_file(path / name)) {
        files.weights = (path / name).string();
        break;
      }
    ERC_CHECK(!files.weights.empty(), folder_or_file,
              ": no model.safetensors or pytorch_model.bin in this folder (a Hugging Face model folder holds one)");
  } else {
    files.weights = path.string();
  }
  const fs::path config = (fs::is_directory(path) ? path : path.parent_path()) / "config.json";
  if (fs::is_regular_file(config)) files.config = config.string();
  return files;
}

namespace {

std::string canonical_name(std::string name) {
  if (name.rfind("wavlm.", 0) == 0) name = name.substr(6);
  static const std::string prefix = "encoder.pos_conv_embed.conv.parametrizations.weight.original";
  if (name == prefix + "0") return "encoder.pos_conv_embed.conv.weight_g";
  if (name == prefix + "1") return "encoder.pos_conv_embed.conv.weight_v";
  return name;
}

// Tensors of a checkpoint that a model running up to `layer` leaves alone.
bool not_run(const std::string& name, const WavLM& model) {
  static const std::regex block(R"(encoder\.layers\.(\d+)\..*)");
  std::smatch m;
  if (std::regex_match(name, m, block)) {
    const int64_t l = std::stoll(m[1]);
    return l >= model.layer && l < model.config.num_hidden_layers;
  }
  if (name.rfind("encoder.layer_norm.", 0) == 0) return true;
  static const std::regex heads(R"((masked_spec_embed|lm_head|projector|classifier|quantizer|project_q|project_hid|adapter|tdnn|feature_extractor\.frozen|layer_weights|objective)(\..*)?)");
  return std::regex_match(name, heads);
}

}  // namespace

void load_wavlm_weights(WavLM& model, const std::map<std::string, Tensor>& checkpoint, const std::string& source) {
  StateDict wanted;
  for (const auto& [name, _] : model.named_parameters()) wanted[name];
  StateDict state;
  std::string unknown;
  int64_t n_unknown = 0;
  for (const auto& [raw, tensor] : checkpoint) {
    const std::string name = canonical_name(raw);
    if (wanted.count(name))
      state[name] = tensor;
    else if (!not_run(name, model) && n_unknown++ < 8)
      unknown += "\n  " + raw + " " + shape_str(tensor.shape());
  }
  ERC_CHECK(n_unknown == 0, source, ": ", n_unknown, " tensor(s) that a Hugging Face WavLM does not have (not a ",
            "WavLMModel checkpoint? unilm's original WavLM-Large.pt names need transformers' conversion script):",
            unknown);
  try {
    model.load_state_dict(state);
  } catch (const Error& e) {
    throw Error(source + ": " + e.what());
  }
}

std::string describe_wavlm(const WavLM& model) {
  uint64_t hash = 0xCBF29CE484222325ull;
  for (const auto& [name, p] : model.named_parameters()) {
    for (unsigned char c : name) hash = (hash ^ c) * 0x100000001B3ull;
    const Tensor values = p.detach().to(DType::f32).contiguous();
    const auto* bytes = static_cast<const unsigned char*>(values.raw_data());
    for (size_t i = 0, n = size_t(values.numel()) * 4; i < n; ++i) hash = (hash ^ bytes[i]) * 0x100000001B3ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return "WavLM hidden " + std::to_string(model.config.hidden_size) + ", " +
         std::to_string(model.config.num_hidden_layers) + " blocks, weights fnv1a64:" + hex;
}

std::unique_ptr<WavLM> load_wavlm(const std::string& folder_or_file, int64_t layer) {
  const WavLMFiles files = locate_wavlm(folder_or_file);
  const WavLMConfig config = files.config.empty() ? WavLMConfig() : load_wavlm_config(files.config);
  ERC_CHECK(layer >= 1 && layer <= config.num_hidden_layers, "--layer ", layer, " is outside 1..",
            config.num_hidden_layers, " for ", files.config.empty() ? "WavLM-Large" : files.config);
  // The random initial values are overwritten by the checkpoint: no need for a particular seed.
  Generator init(0);
  auto model = std::make_unique<WavLM>(config, layer, init);
  const bool safetensors = fs::path(files.weights).extension() == ".safetensors";
  load_wavlm_weights(*model, safetensors ? load_safetensors(files.weights).tensors : load_torch_checkpoint(files.weights),
                     files.weights);
  model->eval();
  return model;
}

}  // namespace erc::nn
