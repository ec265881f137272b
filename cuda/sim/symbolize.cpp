#include "cuda/sim/symbolize.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>

namespace erc::sim {

namespace {

// The program's load address: every .cu file is in the program itself (static libraries).
uintptr_t program_base() {
  static const uintptr_t base = [] {
    Dl_info info{};
    dladdr(reinterpret_cast<void*>(&code_site), &info);
    return reinterpret_cast<uintptr_t>(info.dli_fbase);
  }();
  return base;
}

// The repository's root as this file's own path gives it, to shorten the paths addr2line prints.
std::string source_root() {
  const std::string self = __FILE__;
  const std::string tail = "cuda/sim/symbolize.cpp";
  return self.size() > tail.size() ? self.substr(0, self.size() - tail.size()) : std::string();
}

}  // namespace

uint32_t code_site(uintptr_t return_address) { return uint32_t(return_address - 1 - program_base()); }

std::string source_line(uint32_t site) {
  static std::mutex mutex;
  static std::map<uint32_t, std::string> known;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = known.find(site); it != known.end()) return it->second;
  char command[128];
  std::snprintf(command, sizeof command, "addr2line -e /proc/%d/exe 0x%x 2>/dev/null", int(getpid()), site);
  std::string line;
  if (FILE* pipe = popen(command, "r")) {
    char text[4096];
    if (std::fgets(text, sizeof text, pipe)) line = text;
    pclose(pipe);
  }
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
  const size_t discriminator = line.find(" (discriminator");
  if (discriminator != std::string::npos) line.resize(discriminator);
  // The build reaches sources through links (build/include/<target>/ops -> ops): name the file itself.
  const size_t colon = line.rfind(':');
  if (colon != std::string::npos && colon > 0) {
    if (char* real = realpath(line.substr(0, colon).c_str(), nullptr)) {
      line = real + line.substr(colon);
      std::free(real);
    }
  }
  const std::string root = source_root();
  if (!root.empty() && line.compare(0, root.size(), root) == 0) line = line.substr(root.size());
  if (line.empty() || line[0] == '?') {
    char text[64];
    std::snprintf(text, sizeof text, "code offset 0x%x (no line information)", site);
    line = text;
  }
  return known[site] = line;
}

}  // namespace erc::sim
