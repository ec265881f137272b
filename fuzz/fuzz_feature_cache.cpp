// The HDF5 feature cache reader on small files: any bytes as a cache; every utterance it indexes is read (which
// verifies its Fletcher-32 checksum). HDF5's checksummed metadata turns most mutations into errors at open.
#include "data/feature_cache.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = erc::fuzz::scratch_dir() / "input.h5";
  erc::fuzz::write_bytes(path, data, size);
  return erc::fuzz::accept_or_refuse([&] {
    const erc::data::FeatureCacheReader cache(path);
    for (size_t i = 0; i < cache.utterances().size(); ++i) erc::fuzz::touch(cache.read(i));
  });
}
