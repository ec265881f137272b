// The second audio reader, behind load_audio and audio_info (data/audio.h): FFmpeg's libraries for what libsndfile
// cannot read, i.e. audio inside containers (MP4/M4A with AAC or ALAC, QuickTime, Matroska/WebM with Opus or
// Vorbis, MP3 in older libsndfiles, and video files' sound tracks).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace erc::data {

struct DecodedAudio {
  std::vector<float> interleaved;  // [frames * channels], as decoded (any sample format converted to float)
  int64_t sample_rate = 0, channels = 0;
  int64_t frames() const { return channels ? int64_t(interleaved.size()) / channels : 0; }
};

// The whole of the file's best audio stream (FFmpeg's choice when there are several; video streams are skipped).
// Errors name the file and say why, in FFmpeg's words where it has them: not a media file FFmpeg knows (with
// `libsndfile_refusal`, libsndfile's reason, beside FFmpeg's), no audio stream, no decoder for its codec, damaged
// data, truncated (less audio decoded than the container declares).
DecodedAudio decode_with_ffmpeg(const std::string& path, const std::string& libsndfile_refusal);

}  // namespace erc::data
