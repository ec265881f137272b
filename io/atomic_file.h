// Writing a whole file so that a crash or a full disk never leaves a half-written one: the contents go to
// `path.tmp`, and only a complete file is renamed over `path` (the previous file stays untouched until then).
#pragma once
#include <string>

namespace erc {

void write_file_atomically(const std::string& path, const std::string& contents);

}  // namespace erc
