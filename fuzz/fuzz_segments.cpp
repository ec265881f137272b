// The segments readers (erc_predict's --segments): the input read as an RTTM file and as a CSV, then checked
// against a 10 s recording.
#include "data/segments.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (const char* name : {"turns.rttm", "turns.csv"}) {
    const auto path = erc::fuzz::scratch_dir() / name;
    erc::fuzz::write_bytes(path, data, size);
    erc::fuzz::accept_or_refuse([&] {
      const erc::data::SegmentList list = erc::data::read_segments(path);
      erc::data::check_segments(list, "recording.wav", 160000, 16000, 400);
    });
  }
  return 0;
}
