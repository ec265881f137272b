// extract/fbank against torchaudio.compliance.kaldi.fbank (tools/fixtures/fbank.py), its frame count against
// WavLM's, its errors, and its independence from the thread count.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "extract/fbank.h"
#include "golden_util.h"
#include "nn/wavlm/wavlm.h"
#include "test_util.h"

using namespace erc;
using extract::fbank_frames;
using extract::FbankConfig;
using extract::log_mel_fbank;

static const char* const kCases[] = {"noise_400",   "noise_401", "noise_719", "noise_720",
                                     "noise_16000", "chirp_mix", "speech",    "speech_excerpt_normalised",
                                     "near_silent", "silence"};

// Against torchaudio's float64: measured at most 4.8e-7 (this machine), the rounding to float32 of log energies up
// to 16 (half an ulp there is 4.8e-7); before that rounding the double computation agrees to 5e-12.
constexpr double kAtol = 5e-6;

static const SafeTensors& golden() { return test::fixture("fbank"); }

static double max_abs_diff(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = a.to(DType::f64).to_vector<double>(), y = b.to(DType::f64).to_vector<double>();
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(x[i] - y[i]));
  return worst;
}

TEST(Fbank, TheFixtureUsesTheDefaultConfig) {
  const FbankConfig c;
  for (const char* name : kCases) {
    const nlohmann::json p = nlohmann::json::parse(golden().metadata.at(name));
    EXPECT_EQ(p["num_mel_bins"].get<int64_t>(), c.n_mels) << name;
    EXPECT_EQ(p["sample_frequency"].get<double>(), double(c.sample_rate)) << name;
    EXPECT_EQ(p["frame_length"].get<double>() * double(c.sample_rate) / 1000, double(c.frame_length)) << name;
    EXPECT_EQ(p["frame_shift"].get<double>() * double(c.sample_rate) / 1000, double(c.frame_shift)) << name;
    EXPECT_EQ(p["preemphasis_coefficient"].get<double>(), c.preemphasis) << name;
    EXPECT_EQ(p["low_freq"].get<double>(), c.low_freq) << name;
    EXPECT_EQ(p["high_freq"].get<double>(), 0.0) << name;  // Nyquist
  }
}

TEST(Fbank, MatchesTorchaudio) {
  double worst = 0;
  for (const char* name : kCases) {
    SCOPED_TRACE(std::string("fixture case ") + name);
    const Tensor waveform = golden().at(std::string(name) + ".in.waveform");
    const Tensor expected = golden().at(std::string(name) + ".out");
    const Tensor out = log_mel_fbank(waveform);
    ASSERT_EQ(out.dtype(), DType::f32);
    ASSERT_EQ(out.shape(), (Shape{fbank_frames(waveform.size(0)), 80}));
    EXPECT_TRUE(test::allclose(out, expected, kAtol, 0));
    worst = std::max(worst, max_abs_diff(out, expected));
  }
  std::printf("max |erc - torchaudio| over every case: %.3g (bound %.3g)\n", worst, kAtol);
}

TEST(Fbank, SilenceIsTheLogFloor) {
  const Tensor out = log_mel_fbank(Tensor::zeros({1000}));
  for (float v : out.to_vector<float>()) EXPECT_EQ(v, float(std::log(double(std::numeric_limits<float>::epsilon()))));
}

// The header's claim about Kaldi's int16-scale convention: scaling by 32768 shifts every band by 2 ln 32768.
TEST(Fbank, ScalingTheWaveformShiftsEveryBandAboveTheFloor) {
  const Tensor waveform = golden().at("chirp_mix.in.waveform");
  const Tensor scaled = Tensor::from_vector(
      [&] {
        std::vector<float> x = waveform.to_vector<float>();
        for (float& v : x) v *= 32768.0f;  // a power of two: exact
        return x;
      }(),
      waveform.shape());
  const std::vector<float> a = log_mel_fbank(waveform).to_vector<float>(), b = log_mel_fbank(scaled).to_vector<float>();
  const double floor = std::log(double(std::numeric_limits<float>::epsilon()));
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_GT(a[i], floor + 1) << i;
    EXPECT_NEAR(b[i] - a[i], 2 * std::log(32768.0), 2e-5) << i;  // both rounded to float32 near 16 and 37
  }
}

TEST(Fbank, FramesAreWavLMs) {
  const nn::WavLMConfig wavlm;  // WavLM-Large's conv stack: receptive field 400, stride 320
  for (int64_t n = 0; n <= 50000; ++n) ASSERT_EQ(fbank_frames(n), wavlm.n_frames(n)) << n << " samples";
  for (int64_t n : {int64_t(16000) * 3600, int64_t(16000) * 3600 * 24 + 719})
    EXPECT_EQ(fbank_frames(n), wavlm.n_frames(n)) << n << " samples";
  EXPECT_EQ(fbank_frames(399), 0);
  EXPECT_EQ(fbank_frames(400), 1);
  EXPECT_EQ(fbank_frames(719), 1);
  EXPECT_EQ(fbank_frames(720), 2);
  EXPECT_EQ(fbank_frames(16000), 49);
  EXPECT_EQ(fbank_frames(1000, {.frame_length = 200, .frame_shift = 100}), 9);
}

TEST(Fbank, BadInputsAreRefusedByName) {
  using test::error_mentions;
  EXPECT_TRUE(error_mentions([] { log_mel_fbank(Tensor::zeros({2, 400})); }, {"[n_samples]", "[2, 400]"}));
  EXPECT_TRUE(error_mentions([] { log_mel_fbank(Tensor::zeros({400}, DType::f64)); }, {"f32", "f64"}));
  EXPECT_TRUE(error_mentions([] { log_mel_fbank(Tensor::zeros({399})); }, {"399 samples", "400", "25 ms"}));
  EXPECT_TRUE(error_mentions([] { log_mel_fbank(Tensor::zeros({0})); }, {"0 samples", "400"}));
  EXPECT_TRUE(error_mentions([] { fbank_frames(-1); }, {"n_samples", "-1"}));
  const Tensor w = Tensor::zeros({1600});
  const std::pair<FbankConfig, std::vector<std::string>> bad[] = {
      {{.n_mels = 0}, {"n_mels", "0"}},
      {{.frame_length = 1}, {"frame_length", "1"}},
      {{.frame_shift = 0}, {"frame_shift", "0"}},
      {{.sample_rate = 0}, {"sample_rate", "0"}},
      {{.preemphasis = 1.5}, {"preemphasis", "1.5"}},
      {{.low_freq = 8000}, {"low_freq", "8000"}},
      {{.low_freq = -1}, {"low_freq", "-1"}},
      {{.n_mels = 300}, {"mel band", "holds no FFT bin", "n_mels"}},
  };
  for (const auto& [config, parts] : bad) EXPECT_TRUE(error_mentions([&] { log_mel_fbank(w, config); }, parts));
}

TEST(Fbank, TheThreadCountDoesNotChangeABit) {
  const Tensor waveform = golden().at("chirp_mix.in.waveform");
  const int before = omp_get_max_threads();
  omp_set_num_threads(1);
  const std::vector<float> one = log_mel_fbank(waveform).to_vector<float>();
  omp_set_num_threads(2);
  const std::vector<float> two = log_mel_fbank(waveform).to_vector<float>();
  omp_set_num_threads(3);  // 164 frames in uneven shares
  const std::vector<float> three = log_mel_fbank(waveform).to_vector<float>();
  omp_set_num_threads(before);
  const size_t bytes = one.size() * sizeof(float);
  ASSERT_EQ(two.size(), one.size());
  ASSERT_EQ(three.size(), one.size());
  EXPECT_EQ(std::memcmp(one.data(), two.data(), bytes), 0) << "1 thread vs 2";
  EXPECT_EQ(std::memcmp(one.data(), three.data(), bytes), 0) << "1 thread vs 3";
}
