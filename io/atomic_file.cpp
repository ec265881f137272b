#include "io/atomic_file.h"

#include <cstdio>
#include <fstream>

#include "tensor/check.h"

namespace erc {

void write_file_atomically(const std::string& path, const std::string& contents) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    ERC_CHECK(out.good(), path, ": cannot open ", tmp, " for writing");
    out.write(contents.data(), int64_t(contents.size()));
    out.flush();
    ERC_CHECK(out.good(), path, ": write failed (disk full?); the previous file, if any, is untouched");
  }
  ERC_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, path, ": cannot rename ", tmp, " into place");
}

}  // namespace erc
