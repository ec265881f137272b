#include "io/atomic_file.h"

#include <cstdio>

#include "tensor/check.h"

namespace erc {

AtomicFile::AtomicFile(const std::string& path) : path_(path), tmp_(path + ".tmp") {
  out_.open(tmp_, std::ios::binary | std::ios::trunc);
  ERC_CHECK(out_.good(), path_, ": cannot open ", tmp_, " for writing");
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  out_.close();
  std::remove(tmp_.c_str());  // a partial copy is of no use to anyone
}

void AtomicFile::commit() {
  out_.close();
  ERC_CHECK(!out_.fail(), path_, ": writing failed (disk full or over a file-size limit?); the previous file, if any, ",
            "is untouched");
  ERC_CHECK(std::rename(tmp_.c_str(), path_.c_str()) == 0, path_, ": cannot rename ", tmp_, " into place");
  committed_ = true;
}

void write_file_atomically(const std::string& path, const std::string& contents) {
  AtomicFile file(path);
  file.stream().write(contents.data(), int64_t(contents.size()));
  file.commit();
}

}  // namespace erc
