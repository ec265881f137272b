// WavLM against transformers' WavLMModel, stage by stage (tools/fixtures/wavlm.py): a tiny randomly initialised
// model on a real speech clip, in float64 (agreement to rounding) and float32 (relative error < 1e-4, the bound
// erc sets for WavLM); both checkpoint namings; the utterances of a batch packed; config and loading errors.
#include <omp.h>

#include <filesystem>
#include <fstream>

#include "autograd/grad_mode.h"
#include "data/audio.h"
#include "golden_util.h"
#include "nn/wavlm/weights.h"
#include "test_util.h"

using namespace erc;
using erc::test::error_of;
using erc::test::mentions;
namespace fs = std::filesystem;

namespace {

const std::string kDir = ERC_FIXTURE_DIR;

std::unique_ptr<nn::WavLM> tiny_model(const std::string& weights_file, DType dtype) {
  const nn::WavLMConfig config = nn::load_wavlm_config(kDir + "/wavlm_tiny.json");
  Generator init(1);
  auto model = std::make_unique<nn::WavLM>(config, config.num_hidden_layers, init);
  nn::load_wavlm_weights(*model, load_safetensors(kDir + "/" + weights_file).tensors, weights_file);
  model->to(dtype);
  model->eval();
  return model;
}

const SafeTensors& stages() { return test::fixture("wavlm_tiny_stages"); }

// Every stage of `case_name` within `bound` (relative error), from the fixture's normalised input.
void expect_stages(const nn::WavLM& model, const std::string& case_name, DType dtype, double bound) {
  SCOPED_TRACE(case_name + " in " + dtype_name(dtype));
  NoGradGuard no_grad;
  const Tensor input = stages().at(case_name + ".normalised").to(dtype);
  nn::WavLMTrace trace;
  const std::vector<Tensor> out = model.forward({input}, &trace);
  for (const auto& [name, got] : trace) {
    const std::string key = case_name + "." + name;
    ASSERT_TRUE(stages().has(key)) << key;
    EXPECT_TRUE(test::relative_error_below(got, stages().at(key), bound)) << name;
  }
  EXPECT_EQ(trace.size(), 4 + 1 + size_t(model.layer)) << "features, projection.norm, projection, pos_conv, hidden.*";
  EXPECT_TRUE(test::relative_error_below(out[0], stages().at(case_name + ".hidden.3"), bound)) << "output";
  if (!stages().has(case_name + ".conv.0")) return;
  nn::WavLMTrace conv_trace;
  model.feature_extractor->forward(input, &conv_trace);
  ASSERT_EQ(conv_trace.size(), 7u);
  for (const auto& [name, got] : conv_trace)
    EXPECT_TRUE(test::relative_error_below(got, stages().at(case_name + "." + name), bound)) << name;
}

TEST(GoldenWavLM, TinyStagesFloat64) {
  auto model = tiny_model("wavlm_tiny.safetensors", DType::f64);
  for (const char* c : {"clip", "short", "odd"}) expect_stages(*model, c, DType::f64, 1e-12);
}

TEST(GoldenWavLM, TinyStagesFloat32) {
  auto model = tiny_model("wavlm_tiny.safetensors", DType::f32);
  for (const char* c : {"clip", "short", "odd"}) expect_stages(*model, c, DType::f32, 1e-4);
}

TEST(GoldenWavLM, ParametrizationsNamesLoadTheSameWeights) {
  auto a = tiny_model("wavlm_tiny.safetensors", DType::f32);
  auto b = tiny_model("wavlm_tiny_parametrizations.safetensors", DType::f32);
  const auto pa = a->named_parameters(), pb = b->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i)
    EXPECT_EQ(pa[i].second.to_vector<float>(), pb[i].second.to_vector<float>()) << pa[i].first;
}

TEST(GoldenWavLM, NormalisationAndFrameCounts) {
  for (const char* c : {"clip", "short", "odd"}) {
    const Tensor input = stages().at(std::string(c) + ".input");
    EXPECT_TRUE(test::allclose(nn::normalise_waveform(input), stages().at(std::string(c) + ".normalised"), 1e-6, 1e-6))
        << c;
    const auto params = nlohmann::json::parse(stages().metadata.at(c));
    EXPECT_EQ(nn::WavLMConfig().n_frames(params.at("n_samples")), int64_t(params.at("n_frames"))) << c;
  }
  // The speech clip as data/audio loads it is the fixture's input, sample for sample.
  EXPECT_EQ(data::load_audio(kDir + "/speech.wav").to_vector<float>(), stages().at("clip.input").to_vector<float>());
  // docs/MODEL.md §1's frame counts for WavLM-Large.
  const nn::WavLMConfig large;
  for (auto [samples, frames] : std::vector<std::pair<int64_t, int64_t>>{{400, 1}, {16000, 49}, {32000, 99},
                                                                         {160000, 499}, {399, 0}})
    EXPECT_EQ(large.n_frames(samples), frames) << samples << " samples";
  EXPECT_EQ(large.min_samples(), 400);
}

// Three utterances in one call: each output is what that utterance gives alone (the transformers reference).
TEST(GoldenWavLM, PackedUtterancesMatchOneByOne) {
  auto model = tiny_model("wavlm_tiny.safetensors", DType::f32);
  NoGradGuard no_grad;
  std::vector<Tensor> inputs;
  for (const char* c : {"odd", "short", "clip"}) inputs.push_back(stages().at(std::string(c) + ".normalised").to(DType::f32));
  const std::vector<Tensor> out = model->forward(inputs);
  ASSERT_EQ(out.size(), 3u);
  const char* names[] = {"odd", "short", "clip"};
  for (size_t u = 0; u < 3; ++u)
    EXPECT_TRUE(test::relative_error_below(out[u], stages().at(std::string(names[u]) + ".hidden.3"), 1e-4)) << names[u];
}

// Every stage of the packed batch gives the same bits on 1, 2 and 3 threads: the waveform convolution's GEMMs span
// many tiles (ops/blas.h), the attention and the grouped convolutions run as parallel tasks.
TEST(GoldenWavLM, SameBitsWhateverTheThreadCount) {
  auto model = tiny_model("wavlm_tiny.safetensors", DType::f32);
  NoGradGuard no_grad;
  std::vector<Tensor> inputs;
  for (const char* c : {"odd", "short", "clip"}) inputs.push_back(stages().at(std::string(c) + ".normalised").to(DType::f32));
  const int max_threads = omp_get_max_threads();
  auto run = [&](int threads) {
    omp_set_num_threads(threads);
    nn::WavLMTrace trace;
    const std::vector<Tensor> out = model->forward(inputs, &trace);
    std::vector<std::pair<std::string, std::vector<float>>> values;
    for (size_t u = 0; u < out.size(); ++u) values.push_back({"output " + std::to_string(u), out[u].to_vector<float>()});
    for (const auto& [name, t] : trace) values.push_back({name, t.contiguous().to_vector<float>()});
    return values;
  };
  const auto one = run(1);
  for (int threads : {2, 3}) {
    const auto many = run(threads);
    ASSERT_EQ(many.size(), one.size());
    for (size_t i = 0; i < one.size(); ++i)
      EXPECT_TRUE(many[i] == one[i]) << one[i].first << " differs on " << threads << " threads";
  }
  omp_set_num_threads(max_threads);
}

// Per test and process: CTest runs tests in parallel processes.
// A Hugging Face model folder: config.json + model.safetensors or pytorch_model.bin; the model runs only its
// first two blocks.
TEST(WavLMLoading, FolderAndLowerLayer) {
  const fs::path dir = test::fresh_dir("folder");
  fs::copy_file(kDir + "/wavlm_tiny.json", dir / "config.json");
  fs::copy_file(kDir + "/wavlm_tiny.safetensors", dir / "model.safetensors");
  auto model = nn::load_wavlm(dir.string(), 2);
  EXPECT_EQ(model->layers.size(), 2u);
  NoGradGuard no_grad;
  const auto out = model->forward({stages().at("odd.normalised").to(DType::f32)});
  EXPECT_TRUE(test::relative_error_below(out[0], stages().at("odd.hidden.2"), 1e-4));
  // pytorch_model.bin (torch.save's zip, as microsoft/wavlm-large ships it) is read as it is.
  fs::remove(dir / "model.safetensors");
  fs::copy_file(kDir + "/wavlm_tiny.bin", dir / "pytorch_model.bin");
  EXPECT_EQ(nn::locate_wavlm(dir.string()).weights, (dir / "pytorch_model.bin").string());
  const auto from_bin = nn::load_wavlm(dir.string(), 2)->forward({stages().at("odd.normalised").to(DType::f32)});
  EXPECT_EQ(from_bin[0].to_vector<float>(), out[0].to_vector<float>());
  fs::remove(dir / "pytorch_model.bin");
  EXPECT_TRUE(mentions(error_of([&] { nn::load_wavlm(dir.string(), 2); }), "no model.safetensors or pytorch_model.bin"));
  EXPECT_TRUE(mentions(error_of([&] { nn::load_wavlm((dir / "absent").string(), 2); }), "no such file"));
  fs::remove_all(dir);
}

TEST(WavLMLoading, RefusesWrongWeightsAndConfigs) {
  const nn::WavLMConfig config = nn::load_wavlm_config(kDir + "/wavlm_tiny.json");
  Generator init(1);
  nn::WavLM model(config, 3, init);
  auto weights = load_safetensors(kDir + "/wavlm_tiny.safetensors").tensors;
  auto missing = weights;
  missing.erase("encoder.layers.1.attention.q_proj.weight");
  EXPECT_TRUE(mentions(error_of([&] { nn::load_wavlm_weights(model, missing, "x.safetensors"); }),
                       "encoder.layers.1.attention.q_proj.weight"));
  auto unknown = weights;
  unknown["encoder.layers.0.self_attn.k_proj.weight"] = Tensor::zeros({32, 32});
  EXPECT_TRUE(mentions(error_of([&] { nn::load_wavlm_weights(model, unknown, "x.safetensors"); }), "self_attn"));
  auto wrong_shape = weights;
  wrong_shape["feature_projection.projection.weight"] = Tensor::zeros({32, 25});
  EXPECT_TRUE(mentions(error_of([&] { nn::load_wavlm_weights(model, wrong_shape, "x.safetensors"); }),
                       "feature_projection.projection.weight"));
  // Tensors of what a lower layer does not run, a task head and a "wavlm." prefix are accepted.
  nn::WavLM lower(config, 1, init);
  std::map<std::string, Tensor> prefixed;
  for (const auto& [name, t] : weights) prefixed["wavlm." + name] = t;
  prefixed["lm_head.weight"] = Tensor::zeros({5, 32});
  EXPECT_NO_THROW(nn::load_wavlm_weights(lower, prefixed, "x.safetensors"));

  EXPECT_TRUE(mentions(error_of([] { nn::parse_wavlm_config(R"({"feat_extract_norm": "group"})", "c.json"); }),
                       "pre-LN"));
  EXPECT_TRUE(mentions(error_of([] { nn::parse_wavlm_config(R"({"hidden_act": "relu"})", "c.json"); }), "relu"));
  EXPECT_TRUE(mentions(error_of([] { nn::parse_wavlm_config(R"({"hidden_size": 100})", "c.json"); }), "c.json"));
  EXPECT_TRUE(mentions(error_of([] { nn::parse_wavlm_config("{", "c.json"); }), "not valid JSON"));
  EXPECT_TRUE(mentions(error_of([] { nn::parse_wavlm_config(R"({"model_type": "hubert"})", "c.json"); }), "hubert"));
  EXPECT_TRUE(mentions(error_of([&] { nn::WavLM(config, 4, init); }), "layer must be in 1..3"));
  NoGradGuard no_grad;
  EXPECT_TRUE(mentions(error_of([&] { model.forward({Tensor::zeros({399})}); }), "at least 400 samples"));
}

// Found by fuzz/fuzz_wavlm_config: a float in an integer field was cast (undefined behaviour at 1.3e93), and huge
// sizes overflowed the frame arithmetic.
TEST(WavLMLoading, RefusesNumbersThatAreNotIntegersOrBeyondAnyModel) {
  const auto refused = [](const std::string& json) {
    return error_of([&] { nn::parse_wavlm_config(json, "c.json"); });
  };
  EXPECT_TRUE(mentions(refused(R"({"conv_dim": [512, 512, 512, 512, 1.3e93, 512, 512]})"),
                       "conv_dim must be a list of integers"));
  EXPECT_TRUE(mentions(refused(R"({"hidden_size": 1024.5})"), "hidden_size must be an integer, got 1024.5"));
  EXPECT_TRUE(mentions(refused(R"({"num_hidden_layers": 18446744073709551615})"), "must be an integer"));
  EXPECT_TRUE(
      mentions(refused(R"({"intermediate_size": 1099511627776})"), "intermediate_size 1099511627776 is beyond"));
  EXPECT_TRUE(mentions(refused(R"({"conv_stride": [1048576, 1048576, 1048576, 1048576, 1048576, 1048576, 1048576]})"),
                       "beyond any recording"));
  EXPECT_NO_THROW(nn::parse_wavlm_config(R"({"hidden_size": 1024, "conv_stride": [5, 2, 2, 2, 2, 2, 2]})", "c.json"));
}

}  // namespace
