// The Hugging Face config.json reader for WavLM: any text, parsed and validated, then the frame arithmetic it
// configures.
#include <string>

#include "fuzz_input.h"
#include "nn/wavlm/wavlm.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  return erc::fuzz::accept_or_refuse([&] {
    const erc::nn::WavLMConfig config = erc::nn::parse_wavlm_config(text, "config.json");
    config.validate();
    config.n_frames(16000);
    config.min_samples();
  });
}
