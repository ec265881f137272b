// Loading WavLM weights as users have them: a Hugging Face model folder (config.json beside model.safetensors or
// pytorch_model.bin, as microsoft/wavlm-large ships) or a single weights file. pytorch_model.bin is read directly
// (io/torch_checkpoint.h): no conversion step, no Python.
#pragma once
#include <memory>
#include <string>

#include "nn/wavlm/wavlm.h"

namespace erc::nn {

struct WavLMFiles {
  std::string weights;  // .safetensors, or a torch.save zip (.bin / .pt)
  std::string config;   // config.json; empty when there is none (then WavLM-Large's own config is used)
};

// A folder: its config.json and model.safetensors, else pytorch_model.bin. A file: itself, and a config.json in
// the same folder if there is one. Errors name the path and what was looked for.
WavLMFiles locate_wavlm(const std::string& folder_or_file);

// Copies `checkpoint` into `model`. Names are the Hugging Face checkpoint's; also accepted: a "wavlm." prefix
// (task models such as WavLMForCTC), the positional conv's parametrizations names (original0 = weight_g,
// original1 = weight_v), and tensors that the model does not run (blocks above its layer, the encoder's final
// layer norm, masked_spec_embed, task heads). A missing or mis-shaped tensor, or an unknown name, is an error
// listing them all and naming `source`.
void load_wavlm_weights(WavLM& model, const std::map<std::string, Tensor>& checkpoint, const std::string& source);

// A short text naming the architecture and a fingerprint of every parameter value (FNV-1a over the f32 bytes, in
// named_parameters order), e.g. "WavLM hidden 1024, 24 blocks, weights fnv1a64:9c1f...": what a feature cache
// records as its extractor, so that features of other weights are never mixed into it.
std::string describe_wavlm(const WavLM& model);

// locate_wavlm + config + weights: a model that runs up to `layer`, in f32.
std::unique_ptr<WavLM> load_wavlm(const std::string& folder_or_file, int64_t layer);

}  // namespace erc::nn
