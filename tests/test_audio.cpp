// Audio I/O: WAV round trip, channel mixing and resampling, FLAC, containers through FFmpeg, and the errors for broken
// files.
#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numbers>

#include "data/audio.h"
#include "test_util.h"

using namespace erc;
using namespace erc::data;
using erc::test::temp_path;

namespace {

// Writes interleaved float frames with libsndfile directly, in any format, as another program would.
void write_with_sndfile(const std::string& path, const std::vector<float>& interleaved, int rate, int channels,
                        int format) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr) << sf_strerror(nullptr);
  const sf_count_t frames = sf_count_t(interleaved.size()) / channels;
  EXPECT_EQ(sf_writef_float(f, interleaved.data(), frames), frames);
  sf_close(f);
}

std::vector<float> sine(int64_t n, double hz, double rate, double amplitude) {
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    x[size_t(i)] = float(amplitude * std::sin(2 * std::numbers::pi * hz * double(i) / rate));
  return x;
}

}  // namespace

TEST(Audio, WavRoundTrip16k) {
  const std::string path = temp_path("erc_audio_roundtrip.wav");
  const Tensor x = test::random_tensor({4001}, 7, -0.9, 0.9, DType::f32);
  write_wav(path, x, 16000);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

  const AudioInfo info = audio_info(path);
  EXPECT_EQ(info.sample_rate, 16000);
  EXPECT_EQ(info.channels, 1);
  EXPECT_EQ(info.frames, 4001);
  EXPECT_DOUBLE_EQ(info.seconds, 4001.0 / 16000.0);

  const Tensor y = load_audio(path);
  ASSERT_EQ(y.shape(), Shape{4001});
  EXPECT_EQ(y.dtype(), DType::f32);
  // libsndfile writes round(x * 32767) and reads back q / 32768: the error is under half a step of rounding plus
  // |x| / 32768 of scale, so below 1.5 / 32768 for |x| <= 1.
  EXPECT_TRUE(test::allclose(y, x, 1.5 / 32768.0, 0.0));
}

TEST(Audio, StereoResampledToMono16k) {
  const std::string path = temp_path("erc_audio_stereo44k.wav");
  const int64_t n = 22050;  // 0.5 s at 44.1 kHz
  const std::vector<float> left = sine(n, 440, 44100, 0.5), right = sine(n, 440, 44100, 0.3);
  std::vector<float> interleaved;
  for (int64_t i = 0; i < n; ++i) {
    interleaved.push_back(left[size_t(i)]);
    interleaved.push_back(right[size_t(i)]);
  }
  write_with_sndfile(path, interleaved, 44100, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  EXPECT_EQ(audio_info(path).channels, 2);

  const Tensor y = load_audio(path, 16000);
  const int64_t expected_len = std::llround(double(n) * 16000.0 / 44100.0);
  ASSERT_EQ(y.dim(), 1);
  EXPECT_LE(std::abs(y.size(0) - expected_len), 1) << "got " << y.size(0) << " samples, expected " << expected_len;

  // Away from the edges (where the filter sees the signal start and stop) the mix is the mean sine, 0.4 sin,
  // in phase (soxr compensates its filter delay) and with the filter's ripple far below 1e-4 at 440 Hz.
  const int64_t edge = 800;
  const Tensor middle = y.narrow(0, edge, y.size(0) - 2 * edge);
  std::vector<float> expected = sine(y.size(0), 440, 16000, 0.4);
  expected = std::vector<float>(expected.begin() + edge, expected.end() - edge);
  EXPECT_TRUE(test::allclose(middle, Tensor::from_vector(expected, {int64_t(expected.size())}), 1e-4, 0.0));

  // And it is a 440 Hz tone: 2 * 440 zero crossings per second.
  const std::vector<float> m = middle.to_vector<float>();
  int64_t crossings = 0;
  for (size_t i = 1; i < m.size(); ++i) crossings += (m[i - 1] < 0) != (m[i] < 0);
  const double seconds = double(m.size()) / 16000.0;
  EXPECT_NEAR(double(crossings) / seconds, 880.0, 2.0 / seconds);
}

TEST(Audio, FlacLoads) {
  const std::string path = temp_path("erc_audio.flac");
  const std::vector<float> x = sine(3000, 250, 16000, 0.6);
  write_with_sndfile(path, x, 16000, 1, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  const Tensor y = load_audio(path);
  EXPECT_TRUE(test::allclose(y, Tensor::from_vector(x, {3000}), 1.5 / 32768.0, 0.0));
}

TEST(AudioErrors, MissingFile) {
  const std::string path = temp_path("erc_audio_no_such_file.wav");
  std::filesystem::remove(path);
  EXPECT_TRUE(test::error_mentions([&] { load_audio(path); }, {path, "no such audio file"}));
  EXPECT_TRUE(test::error_mentions([&] { audio_info(path); }, {path, "no such audio file"}));
}

TEST(AudioErrors, TextFileNamedWav) {
  const std::string path = temp_path("erc_audio_text.wav");
  std::ofstream(path) << "this is not audio, only text that happens to be named .wav\n";
  EXPECT_TRUE(
      test::error_mentions([&] { load_audio(path); }, {path, "cannot read as audio (libsndfile: ", "FFmpeg: "}));
}

TEST(AudioErrors, EmptyWav) {
  const std::string path = temp_path("erc_audio_empty.wav");
  write_wav(path, Tensor::empty({0}), 16000);
  EXPECT_EQ(audio_info(path).frames, 0);
  EXPECT_TRUE(test::error_mentions([&] { load_audio(path); }, {path, "empty (0 frames)"}));
}

// Found by fuzz/fuzz_wav: a header stating 16,821,316 Hz made the resampler's output empty, and soxr crashed on it.
TEST(AudioErrors, ASampleRateNoRecordingUsesIsRefused) {
  const std::string path = temp_path("erc_audio_rate.wav");
  write_wav(path, Tensor::from_vector(sine(200, 300, 16000, 0.5), {200}), 16000);
  std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
  const unsigned char rate[4] = {0x44, 0xac, 0x00, 0x01};  // 16,821,316 little-endian, the fmt chunk's sample rate
  file.seekp(24);
  file.write(reinterpret_cast<const char*>(rate), 4);
  file.close();
  EXPECT_TRUE(test::error_mentions([&] { load_audio(path); }, {path, "a sample rate of 16821316 Hz", "damaged"}));
  EXPECT_TRUE(test::error_mentions([&] { audio_info(path); }, {path, "16821316 Hz"}));
}

TEST(AudioErrors, TruncatedWav) {
  const std::string good = temp_path("erc_audio_good.wav"), cut = temp_path("erc_audio_cut.wav");
  write_wav(good, Tensor::from_vector(sine(2000, 300, 16000, 0.5), {2000}), 16000);
  const auto size = std::filesystem::file_size(good);
  std::filesystem::copy_file(good, cut, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::resize_file(cut, size - 1001);
  EXPECT_TRUE(
      test::error_mentions([&] { load_audio(cut); }, {cut, "truncated: the header declares 4000 bytes of audio data"}));
  std::filesystem::resize_file(cut, size - 4000);  // only the header left
  EXPECT_TRUE(test::error_mentions([&] { load_audio(cut); }, {cut, "truncated"}));
}

TEST(AudioErrors, TruncatedFlac) {
  const std::string good = temp_path("erc_audio_good.flac"), cut = temp_path("erc_audio_cut.flac");
  std::vector<float> x = sine(20000, 300, 16000, 0.5);
  write_with_sndfile(good, x, 16000, 1, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  std::filesystem::copy_file(good, cut, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::resize_file(cut, std::filesystem::file_size(good) / 2);
  EXPECT_TRUE(test::error_mentions([&] { load_audio(cut); }, {cut, "truncated"}));
}

TEST(AudioErrors, NonFiniteSample) {
  const std::string path = temp_path("erc_audio_nan.wav");
  std::vector<float> x = sine(100, 300, 16000, 0.5);
  x[37] = std::nanf("");
  write_with_sndfile(path, x, 16000, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  EXPECT_TRUE(test::error_mentions([&] { load_audio(path); }, {path, "non-finite sample (nan) at frame 37"}));
}

TEST(AudioErrors, WriteWavRejectsOutOfRange) {
  const std::string path = temp_path("erc_audio_loud.wav");
  EXPECT_TRUE(test::error_mentions(
      [&] {
        write_wav(path, Tensor::from_vector(std::vector<float>{0.f, 1.5f}, {2}), 16000);
      },
      {path, "expected samples in [-1, 1], got 1.5 at index 1"}));
  EXPECT_THROW(write_wav(path, Tensor::zeros({2, 2}), 16000), Error);
}

// ---- containers libsndfile cannot read, through FFmpeg (fixtures: tools/fixtures/audio_containers.sh)

namespace {

std::string container(const std::string& name) { return std::string(ERC_FIXTURE_DIR) + "/containers/" + name; }

// 10 log10(signal power / error power) of `got` against `want` over their common length.
double snr_db(const Tensor& got, const Tensor& want) {
  const int64_t n = std::min(got.numel(), want.numel());
  double signal = 0, error = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double w = want.data<float>()[i], e = got.data<float>()[i] - w;
    signal += w * w;
    error += e * e;
  }
  return 10 * std::log10(signal / std::max(error, 1e-300));
}

}  // namespace

TEST(Audio, LosslessAudioInAnyContainerReadsBitForBitAsItsWav) {
  const Tensor wav = load_audio(container("tone.wav"));
  ASSERT_EQ(wav.numel(), 8000);  // 0.5 s at 16 kHz
  for (const char* name : {"tone_pcm.mov", "tone_alac.m4a", "tone_stereo.mkv"}) {
    const Tensor y = load_audio(container(name));
    EXPECT_TRUE(test::allclose(y, wav, 0, 0)) << name;  // two equal channels average to the same float
    const AudioInfo info = audio_info(container(name));
    EXPECT_EQ(info.frames, 8000) << name;
    EXPECT_EQ(info.sample_rate, 16000) << name;
    EXPECT_EQ(info.channels, std::string(name) == "tone_stereo.mkv" ? 2 : 1) << name;
  }
}

// Lossy codecs: the sound, its length within a codec frame, and its error against the WAV within the bound of
// docs/TESTING.md (20 dB SNR; measured 25.3 dB for AAC at 64 kb/s in a video file, as MELD's clips, and 26.6 dB for
// Opus at 48 kHz in WebM, resampled to 16 kHz).
TEST(Audio, LossyAudioInAVideoOrAWebmFileIsItsSound) {
  const Tensor wav = load_audio(container("tone.wav"));
  const Tensor aac = load_audio(container("tone_aac_video.mp4"));
  EXPECT_NEAR(double(aac.numel()), 8000.0, 1024.0);
  EXPECT_GT(snr_db(aac, wav), 20.0);
  const Tensor opus = load_audio(container("tone_opus.webm"));
  EXPECT_NEAR(double(opus.numel()), 8000.0, 320.0);  // within 20 ms
  EXPECT_GT(snr_db(opus, wav), 20.0);
  std::printf("SNR against the WAV: AAC in MP4 %.1f dB, Opus in WebM %.1f dB\n", snr_db(aac, wav), snr_db(opus, wav));
}

// Found by fuzz/fuzz_wav (its seed finding_no_decoder_for_its_audio.wav): a WAV of 16-bit floats, which libsndfile
// refuses and FFmpeg opens with no decoder, made the reader index its streams with FFmpeg's error code.
TEST(AudioErrors, AStreamNoDecoderReadsIsAnErrorNamingItsCodec) {
  const std::string path = temp_path("erc_audio_float16.wav");
  write_wav(path, Tensor::from_vector(sine(200, 300, 16000, 0.5), {200}), 16000);
  std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
  file.seekp(20);
  file.put(3);  // the fmt chunk's format tag: IEEE float, beside its 16 bits per sample
  file.close();
  EXPECT_TRUE(test::error_mentions([&] { load_audio(path); }, {path, "no decoder for its audio (none)"}));
}

TEST(AudioErrors, AContainerWithoutSoundOrCutShortIsAnErrorSayingSo) {
  const std::string video = container("video_only.mp4");
  EXPECT_TRUE(test::error_mentions([&] { load_audio(video); }, {video, "no audio stream"}));
  EXPECT_TRUE(test::error_mentions([&] { audio_info(video); }, {video, "no audio stream"}));
  const std::string cut = container("tone_alac_truncated.m4a");
  EXPECT_TRUE(test::error_mentions([&] { load_audio(cut); }, {cut, "truncated"}));
  EXPECT_TRUE(test::error_mentions([&] { audio_info(cut); }, {cut, "truncated"}));
}
