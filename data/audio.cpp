#include "data/audio.h"

#include <sndfile.h>
#include <soxr.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "data/audio_ffmpeg.h"

namespace erc::data {

namespace {

constexpr int kMinSampleRate = 1000, kMaxSampleRate = 768000;

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};
using Sndfile = std::unique_ptr<SNDFILE, SndfileCloser>;

// A header may state any rate; a damaged one (found by fuzzing: 16,821,316 Hz) would make the resampler's output
// empty, which soxr does not survive.
void check_sample_rate(const std::string& path, int64_t rate) {
  ERC_CHECK(rate >= kMinSampleRate && rate <= kMaxSampleRate, path, ": a sample rate of ", rate, " Hz, outside the ",
            kMinSampleRate, "-", kMaxSampleRate, " Hz that recordings use (a damaged header?)");
}

// libsndfile's handle, or null when it does not read the file, with its reason in `refusal`: FFmpeg's turn then.
Sndfile open_for_reading(const std::string& path, SF_INFO& info, std::string& refusal) {
  std::error_code ec;
  ERC_CHECK(std::filesystem::exists(path, ec), path, ": no such audio file");
  ERC_CHECK(std::filesystem::is_regular_file(path, ec), path, ": not a regular file");
  info = SF_INFO{};
  Sndfile file(sf_open(path.c_str(), SFM_READ, &info));
  if (!file) {
    refusal = sf_strerror(nullptr);
    return nullptr;
  }
  check_sample_rate(path, info.samplerate);
  return file;
}

DecodedAudio decode_with_ffmpeg_checked(const std::string& path, const std::string& refusal) {
  DecodedAudio audio = decode_with_ffmpeg(path, refusal);
  check_sample_rate(path, audio.sample_rate);
  return audio;
}

uint32_t le32(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

// libsndfile quietly shortens a RIFF WAV whose data chunk runs past the end of the file (it only logs it), so
// its frame count already matches what is there. A cut-off file must not pass as a shorter utterance: walk the
// chunks and compare the data chunk's declared size with the bytes the file holds. Sizes 0 and 0xFFFFFFFF mean
// "unknown" (streaming writers) and are left to libsndfile.
void check_wav_data_chunk(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const auto file_size = int64_t(std::filesystem::file_size(path));
  unsigned char header[12];
  if (!in.read(reinterpret_cast<char*>(header), 12) || std::string(reinterpret_cast<char*>(header), 4) != "RIFF")
    return;
  int64_t pos = 12;
  unsigned char chunk[8];
  while (pos + 8 <= file_size && in.seekg(pos) && in.read(reinterpret_cast<char*>(chunk), 8)) {
    const int64_t size = le32(chunk + 4);
    if (std::string(reinterpret_cast<char*>(chunk), 4) == "data") {
      const int64_t held = file_size - (pos + 8);
      ERC_CHECK(size == 0 || size == 0xFFFFFFFF || size <= held, path, ": truncated: the header declares ", size,
                " bytes of audio data, the file holds ", held);
      return;
    }
    pos += 8 + size + (size & 1);  // chunks are padded to an even length
  }
}

// x [n] f32 at in_rate -> [round(n * out_rate / in_rate)] at out_rate.
std::vector<float> resample(const std::vector<float>& x, int64_t in_rate, int64_t out_rate, const std::string& path) {
  const size_t out_len = size_t(std::llround(double(x.size()) * double(out_rate) / double(in_rate)));
  ERC_CHECK(out_len > 0, path, ": ", x.size(), " samples at ", in_rate, " Hz are less than one at ", out_rate, " Hz");
  std::vector<float> y(out_len);
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  size_t done = 0;
  const soxr_error_t err = soxr_oneshot(double(in_rate), double(out_rate), 1, x.data(), x.size(), nullptr, y.data(),
                                        y.size(), &done, &io, &quality, nullptr);
  ERC_CHECK(err == nullptr, path, ": resampling from ", in_rate, " Hz to ", out_rate, " Hz failed (soxr: ",
            err ? err : "", ")");
  y.resize(done);
  return y;
}

}  // namespace

AudioInfo audio_info(const std::string& path) {
  SF_INFO info;
  std::string refusal;
  AudioInfo a;
  if (Sndfile f = open_for_reading(path, info, refusal)) {
    a.sample_rate = info.samplerate;
    a.channels = info.channels;
    a.frames = info.frames;
  } else {  // a container's declared length is not to be trusted (that is how a cut file shows): decode it
    const DecodedAudio audio = decode_with_ffmpeg_checked(path, refusal);
    a.sample_rate = audio.sample_rate;
    a.channels = audio.channels;
    a.frames = audio.frames();
  }
  a.seconds = a.sample_rate > 0 ? double(a.frames) / double(a.sample_rate) : 0.0;
  return a;
}

Tensor load_audio(const std::string& path, int64_t target_rate) {
  ERC_CHECK(target_rate > 0, "load_audio: expected a positive target rate, got ", target_rate);
  SF_INFO info;
  std::string refusal;
  DecodedAudio audio;
  if (Sndfile f = open_for_reading(path, info, refusal)) {
    if ((info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_WAV) check_wav_data_chunk(path);
    ERC_CHECK(info.frames > 0, path, ": empty (0 frames)");
    audio.sample_rate = info.samplerate;
    audio.channels = info.channels;
    audio.interleaved.resize(size_t(info.frames * info.channels));
    const sf_count_t got = sf_readf_float(f.get(), audio.interleaved.data(), info.frames);
    ERC_CHECK(got == info.frames, path, ": truncated: the header says ", info.frames, " frames, only ", got,
              " could be read");
  } else {
    audio = decode_with_ffmpeg_checked(path, refusal);
    ERC_CHECK(audio.frames() > 0, path, ": empty (0 frames)");
  }

  // Average in double so that many channels do not lose the low bits of a quiet one.
  const int64_t frames = audio.frames(), channels = audio.channels;
  std::vector<float> mono(static_cast<size_t>(frames));
  for (int64_t t = 0; t < frames; ++t) {
    double sum = 0;
    for (int64_t c = 0; c < channels; ++c) {
      const float v = audio.interleaved[size_t(t * channels + c)];
      ERC_CHECK(std::isfinite(v), path, ": non-finite sample (", v, ") at frame ", t, ", channel ", c);
      sum += v;
    }
    mono[size_t(t)] = float(sum / double(channels));
  }
  if (audio.sample_rate != target_rate) mono = resample(mono, audio.sample_rate, target_rate, path);
  return Tensor::from_vector(mono, {int64_t(mono.size())});
}

void write_wav(const std::string& path, const Tensor& samples, int64_t sample_rate) {
  ERC_CHECK(samples.dim() == 1 && samples.dtype() == DType::f32 && samples.device() == Device::cpu,
            "write_wav: expected samples [n] f32 on the CPU, got ", shape_str(samples.shape()), " ",
            dtype_name(samples.dtype()));
  ERC_CHECK(sample_rate > 0, "write_wav: expected a positive sample rate, got ", sample_rate);
  const std::vector<float> x = samples.detach().to_vector<float>();
  // Scaled by 32768, as load_audio (libsndfile's reader) divides, so that a waveform read from a 16-bit file is
  // written back sample for sample; libsndfile's own float writer scales by 32767 instead.
  std::vector<short> pcm(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    ERC_CHECK(std::isfinite(x[i]) && std::fabs(x[i]) <= 1.0f, path, ": write_wav: expected samples in [-1, 1], got ",
              x[i], " at index ", i);
    pcm[i] = short(std::clamp(std::lrint(double(x[i]) * 32768.0), -32768L, 32767L));
  }

  const std::string tmp = path + ".tmp";
  SF_INFO info{};
  info.samplerate = int(sample_rate);
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* raw = sf_open(tmp.c_str(), SFM_WRITE, &info);
  ERC_CHECK(raw != nullptr, tmp, ": cannot write (libsndfile: ", sf_strerror(nullptr), ")");
  Sndfile f(raw);
  const sf_count_t written = sf_writef_short(f.get(), pcm.data(), sf_count_t(pcm.size()));
  const std::string error = sf_strerror(f.get());
  const int closed = sf_close(f.release());
  const bool ok = written == sf_count_t(x.size()) && closed == 0;
  if (!ok) std::remove(tmp.c_str());
  ERC_CHECK(ok, tmp, ": wrote ", written, " of ", x.size(), " samples (libsndfile: ", error, ")");
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  ERC_CHECK(!ec, tmp, ": cannot rename to ", path, ": ", ec.message());
}

}  // namespace erc::data
