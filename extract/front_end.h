// The front ends that turn 16 kHz waveforms into the frames the model reads, chosen by name so that erc_extract
// (features for training) and erc_predict (features on the fly) build the same one:
//   wavlm  the hidden states of one layer of a frozen WavLM (docs/MODEL.md §1): pre-trained weights, or seeded
//          random ones (random:CONFIG.json) that only show the pipeline;
//   fbank  80 log-mel bands at WavLM's 50 frames/s (extract/fbank.h), the baseline input of speech-emotion
//          toolkits: carries pitch, rate and loudness without any weights.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "data/feature_cache.h"
#include "tensor/tensor.h"

namespace erc::extract {

class FrontEnd {
 public:
  virtual ~FrontEnd() = default;
  // Each waveform [n_samples] f32 at 16 kHz, at least min_samples() long -> its frames [n_frames, feature_dim].
  // Waveforms given together are one dialogue's (a front end may batch them); the result is the same alone.
  virtual std::vector<Tensor> features(const std::vector<Tensor>& waveforms) const = 0;
  virtual int64_t min_samples() const = 0;  // the fewest samples that give one frame
  // What a cache of these features records: the extractor (with a fingerprint of any weights), the layer (0
  // for fbank), the sample rate, frames per second and width. normalised and dtype are left to the caller.
  virtual data::CacheAttributes attributes() const = 0;
  virtual std::string summary() const = 0;  // one line for people: what runs, and whether it is a stand-in
};

struct FrontEndOptions {
  std::string frontend = "wavlm";  // wavlm | fbank
  std::string wavlm;               // wavlm: a Hugging Face folder or weights file, or random:CONFIG.json
  int64_t layer = 21;              // wavlm: the hidden_states index kept
  uint64_t seed = 0;               // wavlm random:CONFIG.json: the seed of the weights
  Device device = Device::cpu;     // wavlm: where it runs (its weights loaded there once); fbank runs on the CPU
  // wavlm on the device: the GEMMs in f32; tf32 (tensor cores, ~1e-3 relative); or bf16 (the frame-wise GEMMs'
  // weights stored in bf16, their inputs rounded to it, f32 sums: nn::WavLM::store_gemm_weights)
  std::string precision = "f32";
};

// Errors name a bad option (an unknown front end, --wavlm missing or given to fbank, a layer out of range, a
// precision other than f32, tf32 and bf16, or tf32 or bf16 on the CPU) or the weights that do not load.
std::unique_ptr<FrontEnd> make_front_end(const FrontEndOptions& options);

}  // namespace erc::extract
