// Writing a whole file so that a crash or a full disk never leaves a half-written one: the contents go to
// `path.tmp`, and only a complete file is renamed over `path` (the previous file stays untouched until then).
#pragma once
#include <fstream>
#include <string>

namespace erc {

// For contents written piece by piece (a checkpoint's tensors): stream() writes `path.tmp`; commit() checks that
// every write reached the file and renames it into place. A write that failed (disk full, a file-size limit) is an
// error naming `path`; the temporary file is removed whenever no commit() succeeded.
class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ostream& stream() { return out_; }
  void commit();

 private:
  std::string path_, tmp_;
  std::ofstream out_;
  bool committed_ = false;
};

void write_file_atomically(const std::string& path, const std::string& contents);

}  // namespace erc
