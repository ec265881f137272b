// WavLM on the CUDA device against the CPU path, stage by stage (the feature encoder's seven convolutions, the
// projection, the positional convolution, every block): the tiny golden model on a packed batch of a real clip, an
// odd length and a 1-frame utterance, in float32 (relative error < 1e-4, erc's bound for WavLM) and float64 (the
// two faces differ only in the order of additions); the demo's configuration (tools/demo_wavlm.json: heads of 32
// dimensions, buckets 320 / 800) on random weights. In a SIM build on the simulator, under its checks.
#include <cstdio>
#include <cstdlib>
#include <map>

#include "autograd/grad_mode.h"
#include "cuda_test_util.h"
#include "io/safetensors.h"
#include "nn/wavlm/weights.h"

using namespace erc;

namespace {

std::string fixture_dir() { return test::source_dir() + "/tests/fixtures"; }

std::unique_ptr<nn::WavLM> tiny_model(DType dtype) {
  const nn::WavLMConfig config = nn::load_wavlm_config(fixture_dir() + "/wavlm_tiny.json");
  Generator init(1);
  auto model = std::make_unique<nn::WavLM>(config, config.num_hidden_layers, init);
  nn::load_wavlm_weights(*model, load_safetensors(fixture_dir() + "/wavlm_tiny.safetensors").tensors,
                         "wavlm_tiny.safetensors");
  model->to(dtype);
  model->eval();
  return model;
}

std::vector<Tensor> golden_inputs(DType dtype) {
  const SafeTensors stages = load_safetensors(fixture_dir() + "/wavlm_tiny_stages.safetensors");
  std::vector<Tensor> inputs;
  for (const char* c : {"clip", "short", "odd"}) inputs.push_back(stages.at(std::string(c) + ".normalised").to(dtype));
  return inputs;
}

std::vector<Tensor> to_device(const std::vector<Tensor>& waveforms) {
  std::vector<Tensor> out;
  for (const Tensor& w : waveforms) out.push_back(w.to(Device::cuda));
  return out;
}

// Every stage and output of `model` on the device within `bound` of the same model on the CPU.
void expect_device_matches_cpu(nn::WavLM& model, const std::vector<Tensor>& waveforms, double bound) {
  NoGradGuard no_grad;
  nn::WavLMTrace cpu_trace, cuda_trace, cpu_conv, cuda_conv;
  const std::vector<Tensor> cpu_out = model.forward(waveforms, &cpu_trace);
  model.feature_extractor->forward(waveforms[0], &cpu_conv);
  model.to(Device::cuda);
  const std::vector<Tensor> device_inputs = to_device(waveforms);
  const std::vector<Tensor> cuda_out = model.forward(device_inputs, &cuda_trace);
  model.feature_extractor->forward(device_inputs[0], &cuda_conv);
  model.to(Device::cpu);
  auto expect_close = [&](const std::string& name, const Tensor& got, const Tensor& expected) {
    EXPECT_EQ(got.device(), Device::cuda) << name;
    const ::testing::AssertionResult close = test::relative_error_below(got, expected, bound);
    EXPECT_TRUE(close) << name;
    if (std::getenv("ERC_PRINT_ERRORS")) std::printf("ERRORS wavlm %s %s\n", name.c_str(), close.message());
  };
  ASSERT_EQ(cuda_trace.size(), cpu_trace.size());
  for (const auto& [name, expected] : cpu_trace) expect_close(name, cuda_trace.at(name), expected);
  ASSERT_EQ(cuda_conv.size(), 7u);
  for (const auto& [name, expected] : cpu_conv) expect_close(name, cuda_conv.at(name), expected);
  ASSERT_EQ(cuda_out.size(), cpu_out.size());
  for (size_t u = 0; u < cpu_out.size(); ++u) expect_close("utterance " + std::to_string(u), cuda_out[u], cpu_out[u]);
}

class CudaWavLM : public test::CudaTest {};

TEST_F(CudaWavLM, EveryStageMatchesTheCpuInFloat32) {
  auto model = tiny_model(DType::f32);
  expect_device_matches_cpu(*model, golden_inputs(DType::f32), 1e-4);
}

TEST_F(CudaWavLM, EveryStageMatchesTheCpuInFloat64) {
  auto model = tiny_model(DType::f64);
  expect_device_matches_cpu(*model, golden_inputs(DType::f64), 1e-12);
}

// The demo's configuration: heads of 32 dimensions, a positional convolution of 8 groups; a 1-frame utterance packed
// between two longer ones.
TEST_F(CudaWavLM, DemoConfigurationMatchesTheCpu) {
  const nn::WavLMConfig config = nn::load_wavlm_config(test::source_dir() + "/tools/demo_wavlm.json");
  Generator init(3);
  nn::WavLM model(config, 2, init);
  model.eval();
  std::vector<Tensor> waveforms;
  for (int64_t n : {int64_t(16000), config.min_samples(), int64_t(6721)})
    waveforms.push_back(nn::normalise_waveform(test::random_tensor({n}, 40 + uint64_t(n), -1, 1, DType::f32)));
  expect_device_matches_cpu(model, waveforms, 1e-4);
}

}  // namespace
