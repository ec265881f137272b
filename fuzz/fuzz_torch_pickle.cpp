// The PyTorch checkpoint reader's pickle interpreter: the input becomes archive/data.pkl of a well-formed zip (its
// CRC-32 right) beside storages 0..15 of 128 bytes each, so that every mutation reaches the interpreter: opcodes,
// memo, stack, persistent ids, tensor rebuilds, and containers that hold themselves (which must not leak).
#include "fuzz_input.h"
#include "io/torch_checkpoint.h"
#include "zip_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string pickle(reinterpret_cast<const char*>(data), size);
  static const std::vector<erc::test::ZipEntry> storages = [] {
    std::vector<erc::test::ZipEntry> entries;
    for (int key = 0; key < 16; ++key)
      entries.push_back({"archive/data/" + std::to_string(key), std::string(128, char(key))});
    entries.push_back({"archive/version", "3\n"});
    return entries;
  }();
  std::vector<erc::test::ZipEntry> entries = {{"archive/data.pkl", pickle}};
  entries.insert(entries.end(), storages.begin(), storages.end());
  const std::string archive = erc::test::zip(entries);
  const auto path = erc::fuzz::scratch_dir() / "input.pt";
  erc::fuzz::write_bytes(path, reinterpret_cast<const uint8_t*>(archive.data()), archive.size());
  return erc::fuzz::accept_or_refuse([&] {
    for (const auto& [name, tensor] : erc::load_torch_checkpoint(path)) erc::fuzz::touch(tensor);
  });
}
