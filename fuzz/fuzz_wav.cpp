// The audio reader (libsndfile, or FFmpeg for what libsndfile refuses; then mixing to mono and resampling to
// 16 kHz): any bytes as a .wav file (FFmpeg goes by the bytes, not the name).
#include "data/audio.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = erc::fuzz::scratch_dir() / "input.wav";
  erc::fuzz::write_bytes(path, data, size);
  return erc::fuzz::accept_or_refuse([&] {
    erc::data::audio_info(path);
    erc::data::load_audio(path);
  });
}
