// What every test file shares: random inputs, closeness with a report, gradcheck as a gtest assertion, fixtures.
#pragma once
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "autograd/gradcheck.h"
#include "tensor/random.h"
#include "tensor/safetensors.h"
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

inline ::testing::AssertionResult gradcheck_ok(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                                               const std::vector<Tensor>& inputs, GradcheckOptions options = {}) {
  GradcheckResult r = gradcheck(f, inputs, options);
  if (r.ok && r.checked > 0)
    return ::testing::AssertionSuccess() << r.checked << " elements, max |diff| " << r.max_abs_error;
  if (r.checked == 0) return ::testing::AssertionFailure() << "gradcheck compared no element (no input requires grad)";
  return ::testing::AssertionFailure() << r.report;
}

// A fixture written by tools/fixtures/*.py, loaded once per process.
inline const SafeTensors& fixture(const std::string& name) {
  static std::map<std::string, SafeTensors> cache;
  auto it = cache.find(name);
  if (it == cache.end())
    it = cache.emplace(name, load_safetensors(std::string(ERC_FIXTURE_DIR) + "/" + name + ".safetensors")).first;
  return it->second;
}

// Runs `op` on the inputs of fixture case `name` (converted to `dtype`; floating inputs require grad), and checks
// the output and, when the fixture has them, every input's gradient under the case's grad_out.
// `input_names` are the `<arg>` of `<name>.in.<arg>`, in the order `op` takes them.
inline void expect_golden_case(const SafeTensors& fx, const std::string& name, const std::vector<std::string>& input_names,
                               const std::function<Tensor(const std::vector<Tensor>&)>& op, DType dtype, double atol,
                               double rtol);

// One fixture file's cases, each checked twice: in f64 against PyTorch's f64 (agreement to rounding) and in f32
// against the same f64 reference (f32 rounding; a case with long sums passes a wider bound and says why).
struct GoldenFixture {
  std::string file;  // tests/fixtures/<file>.safetensors
  void check(const std::string& name, const std::vector<std::string>& args,
             const std::function<Tensor(const std::vector<Tensor>&)>& op, double f32_atol = 1e-6,
             double f32_rtol = 1e-5) const {
    expect_golden_case(fixture(file), name, args, op, DType::f64, 1e-12, 1e-10);
    expect_golden_case(fixture(file), name, args, op, DType::f32, f32_atol, f32_rtol);
  }
  // The case's non-tensor parameters (the file's metadata, JSON).
  nlohmann::json params(const std::string& name) const {
    return nlohmann::json::parse(fixture(file).metadata.at(name));
  }
};

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

}  // namespace erc::test

#include "autograd/backward.h"

inline void erc::test::expect_golden_case(const SafeTensors& fx, const std::string& name,
                                          const std::vector<std::string>& input_names,
                                          const std::function<Tensor(const std::vector<Tensor>&)>& op, DType dtype,
                                          double atol, double rtol) {
  SCOPED_TRACE("fixture case '" + name + "' in " + dtype_name(dtype));
  std::vector<Tensor> inputs;
  for (const std::string& arg : input_names) {
    Tensor t = fx.at(name + ".in." + arg);
    if (is_floating(t.dtype())) {
      t = t.to(dtype).clone();
      t.set_requires_grad(fx.has(name + ".grad." + arg));
    }
    inputs.push_back(t);
  }
  Tensor out = op(inputs);
  EXPECT_TRUE(allclose(out, fx.at(name + ".out"), atol, rtol)) << "output";
  if (!fx.has(name + ".grad_out") || !out.requires_grad()) return;
  backward(out, fx.at(name + ".grad_out").to(dtype));
  for (size_t i = 0; i < input_names.size(); ++i) {
    const std::string key = name + ".grad." + input_names[i];
    if (!fx.has(key)) continue;
    ASSERT_TRUE(inputs[i].grad().defined()) << "no gradient reached input '" << input_names[i] << "'";
    EXPECT_TRUE(allclose(inputs[i].grad(), fx.at(key), atol, rtol)) << "gradient of '" << input_names[i] << "'";
  }
}
