// Audio files in and out: any format libsndfile reads (WAV, FLAC, OGG, ...) and, where it refuses a file, any FFmpeg
// reads (audio in MP4/M4A, QuickTime, Matroska/WebM, a video's sound track: data/audio_ffmpeg.h), brought to the
// mono 16 kHz float32 waveform that the WavLM feature extractor takes (docs/MODEL.md §1); and 16-bit PCM WAV out for
// tests and the demo corpus. Every audio path of erc (extract, predict, the fuzz target) reads through here.
//
// Loading does no normalisation: the per-utterance zero-mean / unit-variance step belongs to the extractor,
// whose cache records whether it was on.
#pragma once
#include <cstdint>
#include <string>

#include "tensor/tensor.h"

namespace erc::data {

struct AudioInfo {
  int64_t sample_rate = 0;
  int64_t channels = 0;
  int64_t frames = 0;   // samples per channel, as the header says
  double seconds = 0;   // frames / sample_rate
};

// The header of an audio file (a container's audio is decoded to count it). Errors name the file: missing,
// unreadable, of a format neither libsndfile nor FFmpeg reads (both reasons given), no audio stream.
AudioInfo audio_info(const std::string& path);

// Returns [n_samples] f32 at target_rate: channels averaged, resampled with soxr (high quality) when the file's
// rate differs. Errors name the file and the problem: missing or unreadable, unsupported format (libsndfile's and
// FFmpeg's messages), no audio stream, empty (0 frames), truncated (fewer frames than the header or container
// says), damaged, a non-finite sample (its index).
Tensor load_audio(const std::string& path, int64_t target_rate = 16000);

// samples [n] f32, every value finite and within [-1, 1], scaled by 32768 and rounded (1.0 clips to 32767): a
// waveform load_audio read from a 16-bit file is written back sample for sample. Writes 16-bit PCM mono WAV to path + ".tmp", then
// renames it to path, so a reader never sees a half-written file.
void write_wav(const std::string& path, const Tensor& samples, int64_t sample_rate);

}  // namespace erc::data
