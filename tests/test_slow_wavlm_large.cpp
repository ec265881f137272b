// WavLM-Large's architecture against transformers, stage by stage up to layer 21 (tools/fixtures/wavlm.py). Its
// 315M weights are not stored: both sides make them from one formula (docs/WAVLM_FIXTURES.md), so a 0.36 s clip
// checks every block of the real size in float32 (relative error < 1e-4). Labelled slow: it builds a 1.2 GB model.
#include <cmath>

#include "autograd/grad_mode.h"
#include "golden_util.h"
#include "nn/wavlm/weights.h"
#include "test_util.h"

using namespace erc;

namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  uint64_t z = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t fnv1a64(const std::string& name) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : name) h = (h ^ c) * 0x100000001B3ull;
  return h;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The fixture's synthetic weight `name` of `shape`: float32(base + scale u), u in [-1, 1) from the element index.
Tensor synthetic_weight(const std::string& name, const Shape& shape) {
  double base = 0, scale = 0;
  bool matched = false;
  for (auto [suffix, b, s] : std::vector<std::tuple<std::string, double, double>>{
           {"layer_norm.weight", 1, 0.1}, {"gru_rel_pos_const", 1, 0.1}, {"weight_g", 1, 0.5}, {".bias", 0, 0.1},
           {"rel_attn_embed.weight", 0, 1}, {"masked_spec_embed", 0, 1}})
    if (!matched && ends_with(name, suffix)) base = b, scale = s, matched = true;
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  if (!matched) scale = std::sqrt(3.0 / double(n / shape[0]));
  const uint64_t key = fnv1a64(name);
  std::vector<float> values(size_t(n), 0.0f);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const double u = double(splitmix64(key + uint64_t(i)) >> 11) * 0x1p-53 * 2 - 1;
    volatile double product = scale * u;  // rounded on its own, as numpy does: no fused multiply-add
    values[size_t(i)] = float(base + product);
  }
  return Tensor::from_vector(values, shape);
}

TEST(SlowWavLMLarge, StagesUpToLayer21) {
  const SafeTensors& fx = test::fixture("wavlm_large_stages");
  const nn::WavLMConfig config = nn::load_wavlm_config(std::string(ERC_FIXTURE_DIR) + "/wavlm_large.json");
  Generator init(0);
  nn::WavLM model(config, 21, init);
  std::map<std::string, Tensor> weights;
  for (const auto& [name, p] : model.named_parameters()) weights[name] = synthetic_weight(name, p.shape());
  for (const auto& [key, head] : fx.tensors) {
    if (key.rfind("large.weights.", 0) != 0) continue;
    const std::string name = key.substr(14, key.size() - 14 - 5);  // "large.weights.<name>.head"
    const auto it = weights.find(name);
    const Tensor full = it != weights.end() ? it->second : synthetic_weight(name, head.shape());
    std::vector<float> first = full.to_vector<float>();
    first.resize(8);
    EXPECT_EQ(first, head.to_vector<float>()) << "synthetic weight generator disagrees on " << name;
  }
  nn::load_wavlm_weights(model, weights, "synthetic WavLM-Large");
  model.eval();

  NoGradGuard no_grad;
  EXPECT_TRUE(test::allclose(nn::normalise_waveform(fx.at("large.input")), fx.at("large.normalised"), 1e-6, 1e-6));
  nn::WavLMTrace trace;
  const auto out = model.forward({fx.at("large.normalised")}, &trace);
  int compared = 0;
  for (const auto& [name, got] : trace) {
    const std::string key = "large." + name;
    if (name == "projection.norm") {  // the one stage the fixture leaves out, to keep it small
      EXPECT_FALSE(fx.has(key));
      continue;
    }
    ASSERT_TRUE(fx.has(key)) << "the fixture has no stage " << name;
    EXPECT_TRUE(test::relative_error_below(got, fx.at(key), 1e-4)) << name;
    ++compared;
  }
  EXPECT_EQ(trace.size(), 26u);
  EXPECT_EQ(compared, 25);
  EXPECT_TRUE(test::relative_error_below(out[0], fx.at("large.hidden.21"), 1e-4)) << "output";
}

// docs/MODEL.md §1: the microsoft/wavlm-large state dict holds 488 tensors, 315,453,120 values; all 24 blocks built
// leave out only masked_spec_embed [1024] and the encoder's final layer norm (2 x [1024]).
TEST(SlowWavLMLarge, ParameterCount) {
  Generator init(0);
  nn::WavLM model(nn::WavLMConfig(), 24, init);
  EXPECT_EQ(model.named_parameters().size() + 3, 488u);
  EXPECT_EQ(model.parameter_count() + 3 * 1024, 315453120);
}

}  // namespace
