#include "io/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tensor/check.h"

namespace erc {

namespace {

std::string holder_of(int fd) {
  char text[32] = {};
  const ssize_t n = pread(fd, text, sizeof text - 1, 0);
  std::string pid(text, n > 0 ? size_t(n) : 0);
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid.empty() ? "another process" : "process " + pid;
}

}  // namespace

FileLock::FileLock(const std::string& lock_path, const std::string& what) : path_(lock_path) {
  // A holder removes the file as it lets go, so a lock won on a file that is no longer at `lock_path` (taken
  // between our open and its unlink) is no lock at all: try again on the new file.
  for (;;) {
    const int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    ERC_CHECK(fd >= 0, lock_path, ": cannot create the lock file for ", what, ": ", std::strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      const std::string holder = error == EWOULDBLOCK ? holder_of(fd) : std::string();
      close(fd);
      ERC_CHECK(error != EWOULDBLOCK, what, " is being written by ", holder, " (it holds ", lock_path,
                "); wait for it to finish or stop it");
      ERC_CHECK(false, lock_path, ": cannot lock ", what, ": ", std::strerror(error));
    }
    struct stat held = {};
    struct stat named = {};
    if (fstat(fd, &held) == 0 && stat(lock_path.c_str(), &named) == 0 && held.st_ino == named.st_ino &&
        held.st_dev == named.st_dev) {
      fd_ = fd;
      break;
    }
    close(fd);
  }
  // The pid only serves the message a refused second writer gets; the lock holds without it.
  const std::string pid = std::to_string(getpid()) + "\n";
  const bool noted = ftruncate(fd_, 0) == 0 && pwrite(fd_, pid.data(), pid.size(), 0) == ssize_t(pid.size());
  (void)noted;
}

FileLock::~FileLock() {
  unlink(path_.c_str());
  close(fd_);
}

}  // namespace erc
