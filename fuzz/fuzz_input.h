// What every fuzz target shares. erc's parsers read files, so an input is written to a file of this process's own;
// and a parser may accept an input or refuse it with an erc::Error, nothing else: a crash, a sanitizer report, a
// hang, memory beyond libFuzzer's limit or any other exception escaping is a finding (docs/TESTING.md).
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "tensor/check.h"
#include "tensor/tensor.h"

namespace erc::fuzz {

// A folder in TMPDIR for this process's inputs, made once and removed when the process exits.
inline const std::filesystem::path& scratch_dir() {
  struct Scratch {
    std::filesystem::path dir;
    Scratch() {
      const char* tmp = std::getenv("TMPDIR");
      dir = std::filesystem::path(tmp && *tmp ? tmp : "/tmp") / ("erc_fuzz_" + std::to_string(getpid()));
      std::filesystem::create_directories(dir);
    }
    ~Scratch() {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  };
  static const Scratch scratch;
  return scratch.dir;
}

// Writes `size` bytes to `path` (replacing what the previous input left there).
inline void write_bytes(const std::filesystem::path& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();  // the harness's own failure, not the parser's
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
}

// Reads every byte of `t`, so that a tensor whose storage is shorter than its shape is a finding.
inline void touch(const Tensor& t) {
  const Tensor c = t.contiguous();
  const auto* bytes = static_cast<const volatile uint8_t*>(c.raw_data());
  uint8_t sum = 0;
  for (int64_t i = 0; i < c.numel() * int64_t(dtype_size(c.dtype())); ++i) sum = uint8_t(sum + bytes[i]);
  (void)sum;
}

// Runs `parse`: returning or throwing erc::Error are both fine.
template <typename F>
int accept_or_refuse(F&& parse) {
  try {
    parse();
  } catch (const Error&) {
  }
  return 0;
}

}  // namespace erc::fuzz
