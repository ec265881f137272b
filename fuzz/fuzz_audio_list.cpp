// The audio list reader (erc_extract's list: corpora): the input as the CSV, beside one short WAV that its rows
// may name (a.wav); other names are missing files, which it must refuse by line. Each item it accepts is then read,
// so that a span (start,end columns) is cut from the file.
#include "data/audio.h"
#include "data/audio_list.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool wav_written = [] {
    erc::data::write_wav(erc::fuzz::scratch_dir() / "a.wav", erc::Tensor::zeros({1600}), 16000);
    return true;
  }();
  (void)wav_written;
  const auto path = erc::fuzz::scratch_dir() / "list.csv";
  erc::fuzz::write_bytes(path, data, size);
  return erc::fuzz::accept_or_refuse([&] {
    erc::data::AudioItemReader reader;
    for (const erc::data::AudioItem& item : erc::data::read_audio_list(path)) reader.read(item);
  });
}
