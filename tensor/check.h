// ERC_CHECK: the one way erc reports misuse. On in every build type: a wrong shape must never reach a kernel.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace erc {

// Thrown by ERC_CHECK; what() says what was expected, what was found, and where.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {
[[noreturn]] void fail(const char* cond, const char* file, int line, const std::string& msg);

inline void append(std::ostringstream&) {}
template <typename T, typename... Rest>
void append(std::ostringstream& os, const T& v, const Rest&... rest) {
  os << v;
  append(os, rest...);
}
template <typename... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  append(os, args...);
  return os.str();
}
}  // namespace detail

// "[2, 3]": how every message prints a shape.
std::string shape_str(const std::vector<int64_t>& shape);

}  // namespace erc

// ERC_CHECK(cond, parts...): the parts are streamed into the message, e.g.
//   ERC_CHECK(a.dim() == 2, "matmul: expected a 2-d tensor, got ", shape_str(a.shape()));
#define ERC_CHECK(cond, ...)                                                              \
  do {                                                                                    \
    if (!(cond)) ::erc::detail::fail(#cond, __FILE__, __LINE__, ::erc::detail::cat(__VA_ARGS__)); \
  } while (0)
