// The PyTorch checkpoint reader, from the outside in: any bytes as a pytorch_model.bin (zip directory, entry
// headers, CRC-32s, then the pickle and the storages).
#include "fuzz_input.h"
#include "io/torch_checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = erc::fuzz::scratch_dir() / "input.bin";
  erc::fuzz::write_bytes(path, data, size);
  return erc::fuzz::accept_or_refuse([&] {
    for (const auto& [name, tensor] : erc::load_torch_checkpoint(path)) erc::fuzz::touch(tensor);
  });
}
