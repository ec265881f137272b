// The IEMOCAP indexer's EmoEvaluation parser: the input becomes Session1/dialog/EmoEvaluation/Ses01F_impro01.txt
// of a corpus folder, indexed as erc_extract does (the WAVs it names are missing, which the index reports).
#include <filesystem>

#include "data/iemocap.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::filesystem::path root = [] {
    const auto r = erc::fuzz::scratch_dir() / "IEMOCAP_full_release";
    std::filesystem::create_directories(r / "Session1" / "dialog" / "EmoEvaluation");
    return r;
  }();
  erc::fuzz::write_bytes(root / "Session1" / "dialog" / "EmoEvaluation" / "Ses01F_impro01.txt", data, size);
  return erc::fuzz::accept_or_refuse([&] { erc::data::index_iemocap(root, {1}); });
}
