// One writer per output: a run directory or a feature cache is claimed by an exclusive flock(2) on a lock file
// beside it, so a second process that would write it too is refused rather than interleaved. The kernel drops the
// lock when its holder exits, however it exits (kill -9 included): a lock file left behind by a crash never blocks
// the next run.
#pragma once
#include <string>

namespace erc {

class FileLock {
 public:
  // Takes the lock on `lock_path` (created if missing) for `what` (used in messages, e.g. "the run directory
  // out/"), or throws naming the process that holds it.
  FileLock(const std::string& lock_path, const std::string& what);
  ~FileLock();  // releases the lock and removes the lock file
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace erc
