// The PyTorch fixtures (tools/fixtures/*.py -> tests/fixtures/*.safetensors) and the golden comparison of an op's
// output and gradients with them.
#pragma once
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "autograd/backward.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace erc::test {

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
inline void expect_golden_case(const SafeTensors& fx, const std::string& name,
                               const std::vector<std::string>& input_names,
                               const std::function<Tensor(const std::vector<Tensor>&)>& op, DType dtype, double atol,
                               double rtol) {
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

}  // namespace erc::test
