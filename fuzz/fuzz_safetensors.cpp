// The safetensors reader: any bytes as a .safetensors file; every tensor it accepts is read whole.
#include "fuzz_input.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = erc::fuzz::scratch_dir() / "input.safetensors";
  erc::fuzz::write_bytes(path, data, size);
  return erc::fuzz::accept_or_refuse([&] {
    const erc::SafeTensors file = erc::load_safetensors(path);
    for (const auto& [name, tensor] : file.tensors) erc::fuzz::touch(tensor);
  });
}
