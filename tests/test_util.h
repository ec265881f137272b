// What every test file shares: random inputs, closeness with a report, temporary files, expected errors. Gradient
// checks are in grad_util.h and the PyTorch fixtures in golden_util.h, for the tests that need those layers.
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "tensor/random.h"
#include "tensor/tensor.h"

namespace erc::test {

// Uniform in [low, high), f64 unless asked, optionally a leaf that requires grad.
inline Tensor random_tensor(const Shape& shape, uint64_t seed, double low = -1.0, double high = 1.0,
                            DType dtype = DType::f64, bool requires_grad = false) {
  Generator gen(seed);
  Tensor t = rand(shape, gen, dtype, low, high);
  if (requires_grad) t.set_requires_grad(true);
  return t;
}

// The same shape, dtype and bytes, wherever each lives (compared on the host).
inline bool same_bits(const Tensor& a, const Tensor& b) {
  const Tensor ha = a.detach().to(Device::cpu).contiguous(), hb = b.detach().to(Device::cpu).contiguous();
  return ha.shape() == hb.shape() && ha.dtype() == hb.dtype() &&
         std::memcmp(ha.raw_data(), hb.raw_data(), size_t(ha.numel()) * dtype_size(ha.dtype())) == 0;
}

inline Tensor leaf(const Shape& shape, uint64_t seed, double low = -1.0, double high = 1.0) {
  return random_tensor(shape, seed, low, high, DType::f64, /*requires_grad=*/true);
}

// |actual - expected| <= atol + rtol * |expected| elementwise, shapes equal; the message names the worst element.
inline ::testing::AssertionResult allclose(const Tensor& actual, const Tensor& expected, double atol, double rtol) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shape " << shape_str(actual.shape()) << " vs expected "
                                         << shape_str(expected.shape());
  std::vector<double> a = actual.detach().to(Device::cpu).to(DType::f64).to_vector<double>();
  std::vector<double> e = expected.detach().to(Device::cpu).to(DType::f64).to_vector<double>();
  int64_t bad = 0, worst = -1;
  double worst_excess = 0, max_abs = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double err = std::fabs(a[i] - e[i]);
    if (std::isnan(a[i]) != std::isnan(e[i])) err = INFINITY;
    if (!std::isnan(err)) max_abs = std::max(max_abs, err);
    double excess = err - (atol + rtol * std::fabs(e[i]));
    if (excess > 0 || std::isnan(excess)) {
      ++bad;
      if (worst < 0 || excess > worst_excess) worst = int64_t(i), worst_excess = excess;
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess() << "max |diff| " << max_abs;
  return ::testing::AssertionFailure() << bad << " of " << a.size() << " elements differ (atol " << atol << ", rtol "
                                       << rtol << "); worst at flat index " << worst << ": " << a[worst]
                                       << " vs expected " << e[worst] << "; max |diff| " << max_abs;
}

// |actual - expected|_2 / |expected|_2 below `bound`: the measure for a deep stack of f32 ops against an f64
// reference, where single elements near zero carry no meaning of their own.
inline ::testing::AssertionResult relative_error_below(const Tensor& actual, const Tensor& expected, double bound) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shape " << shape_str(actual.shape()) << " vs expected "
                                         << shape_str(expected.shape());
  std::vector<double> a = actual.detach().to(Device::cpu).to(DType::f64).to_vector<double>();
  std::vector<double> e = expected.detach().to(Device::cpu).to(DType::f64).to_vector<double>();
  double diff = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) diff += (a[i] - e[i]) * (a[i] - e[i]), norm += e[i] * e[i];
  const double rel = std::sqrt(diff) / std::sqrt(norm);
  if (rel < bound) return ::testing::AssertionSuccess() << "relative error " << rel;
  return ::testing::AssertionFailure() << "relative error " << rel << " (bound " << bound << ")";
}

// The whole contents of a file ("" when it cannot be read).
inline std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A fresh path in the test temp folder, unique to this process (CTest runs tests in parallel processes), removed
// with its ".partial" sibling when the program exits: the files a test shares outlive the test itself.
inline std::string temp_path(const std::string& name) {
  struct Created {
    std::vector<std::string> paths;
    ~Created() {
      std::error_code ignored;
      for (const std::string& p : paths) std::filesystem::remove(p, ignored), std::filesystem::remove(p + ".partial", ignored);
    }
  };
  static Created created;
  const std::string path = ::testing::TempDir() + std::to_string(getpid()) + "_" + name;
  std::filesystem::remove(path);
  std::filesystem::remove(path + ".partial");
  created.paths.push_back(path);
  return path;
}

// A fresh, empty folder in the test temp folder, unique to this process, removed with all it holds when the program
// exits. With create = false it is only cleared (for code that must make the folder itself).
inline std::filesystem::path fresh_dir(const std::string& name, bool create = true) {
  struct Created {
    std::vector<std::filesystem::path> dirs;
    ~Created() {
      std::error_code ignored;
      for (const auto& d : dirs) std::filesystem::remove_all(d, ignored);
    }
  };
  static Created created;
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / (std::to_string(getpid()) + "_" + name);
  std::filesystem::remove_all(dir);
  if (create) std::filesystem::create_directories(dir);
  created.dirs.push_back(dir);
  return dir;
}

// The message of the erc::Error that `f` throws, or a note that it threw none.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error thrown)";
}

inline ::testing::AssertionResult mentions(const std::string& message, const std::string& part) {
  if (message.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << part << "' not in: " << message;
}

// `f` throws an erc::Error whose message holds every one of `parts`.
template <typename F>
::testing::AssertionResult error_mentions(F&& f, const std::vector<std::string>& parts) {
  const std::string message = error_of(std::forward<F>(f));
  for (const std::string& part : parts)
    if (message.find(part) == std::string::npos)
      return ::testing::AssertionFailure() << "'" << part << "' not in: " << message;
  return ::testing::AssertionSuccess();
}

// A program run through the shell (`command` with its arguments): its exit status and what it printed on stdout and
// stderr together.
struct ProgramOutcome {
  int status = 0;
  std::string output;
};

inline ProgramOutcome run_program(const std::string& command) {
  ProgramOutcome o;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) o.output.append(buf, n);
  o.status = WEXITSTATUS(pclose(pipe));
  return o;
}

}  // namespace erc::test
