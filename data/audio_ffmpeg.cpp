#include "data/audio_ffmpeg.h"

#include <memory>
#include <mutex>

#include "tensor/check.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
}

namespace erc::data {
namespace {

std::string ffmpeg_error(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof text);
  return text;
}

struct FormatCloser {
  void operator()(AVFormatContext* f) const { avformat_close_input(&f); }
};
struct CodecCloser {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct PacketFree {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameFree {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};

// Sample `i` of channel `c` of a decoded frame, as float, for every sample format FFmpeg's audio decoders give.
float sample_at(const AVFrame& frame, AVSampleFormat format, int64_t channels, int64_t i, int64_t c) {
  const bool planar = av_sample_fmt_is_planar(format);
  const uint8_t* base = frame.extended_data[planar ? c : 0];
  const int64_t at = planar ? i : i * channels + c;
  switch (av_get_packed_sample_fmt(format)) {
    case AV_SAMPLE_FMT_U8: return float((int(base[at]) - 128) / 128.0);
    case AV_SAMPLE_FMT_S16: return float(reinterpret_cast<const int16_t*>(base)[at] / 32768.0);
    case AV_SAMPLE_FMT_S32: return float(reinterpret_cast<const int32_t*>(base)[at] / 2147483648.0);
    case AV_SAMPLE_FMT_S64: return float(double(reinterpret_cast<const int64_t*>(base)[at]) / 9223372036854775808.0);
    case AV_SAMPLE_FMT_FLT: return reinterpret_cast<const float*>(base)[at];
    case AV_SAMPLE_FMT_DBL: return float(reinterpret_cast<const double*>(base)[at]);
    default: ERC_CHECK(false, "FFmpeg gave an unknown sample format (", int(format), ")"); __builtin_unreachable();
  }
}

}  // namespace

DecodedAudio decode_with_ffmpeg(const std::string& path, const std::string& libsndfile_refusal) {
  static std::once_flag quiet;
  std::call_once(quiet, [] { av_log_set_level(AV_LOG_QUIET); });  // errors reach the user through ours, once

  AVFormatContext* raw_format = nullptr;
  int status = avformat_open_input(&raw_format, path.c_str(), nullptr, nullptr);
  ERC_CHECK(status >= 0, path, ": cannot read as audio (libsndfile: ", libsndfile_refusal,
            "; FFmpeg: ", ffmpeg_error(status), ")");
  const std::unique_ptr<AVFormatContext, FormatCloser> format(raw_format);
  status = avformat_find_stream_info(format.get(), nullptr);
  ERC_CHECK(status >= 0, path, ": cannot read as audio (FFmpeg: ", ffmpeg_error(status), ")");
  const AVCodec* codec = nullptr;
  const int stream = av_find_best_stream(format.get(), AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
  ERC_CHECK(stream != AVERROR_STREAM_NOT_FOUND, path, ": no audio stream (", format->iformat->name, " with ",
            format->nb_streams, " stream(s), none of them sound)");
  if (stream < 0 || codec == nullptr) {  // an audio stream FFmpeg has no decoder for: name its codec
    std::string name = "unknown";
    for (unsigned i = 0; i < format->nb_streams; ++i)
      if (format->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) {
        name = avcodec_get_name(format->streams[i]->codecpar->codec_id);
        break;
      }
    ERC_CHECK(false, path, ": no decoder for its audio (", name, ")");
  }
  const AVCodecParameters* parameters = format->streams[stream]->codecpar;

  const std::unique_ptr<AVCodecContext, CodecCloser> decoder(avcodec_alloc_context3(codec));
  ERC_CHECK(decoder != nullptr, path, ": FFmpeg: out of memory");
  status = avcodec_parameters_to_context(decoder.get(), parameters);
  if (status >= 0) status = avcodec_open2(decoder.get(), codec, nullptr);
  ERC_CHECK(status >= 0, path, ": FFmpeg cannot open its ", codec->name, " decoder: ", ffmpeg_error(status));

  DecodedAudio out;
  out.sample_rate = decoder->sample_rate;
  out.channels = decoder->ch_layout.nb_channels;
  ERC_CHECK(out.channels >= 1 && out.channels <= 64, path, ": ", out.channels, " channels (a damaged header?)");
  const std::unique_ptr<AVPacket, PacketFree> packet(av_packet_alloc());
  const std::unique_ptr<AVFrame, FrameFree> frame(av_frame_alloc());
  ERC_CHECK(packet != nullptr && frame != nullptr, path, ": FFmpeg: out of memory");

  auto take_frames = [&] {
    while ((status = avcodec_receive_frame(decoder.get(), frame.get())) >= 0) {
      ERC_CHECK(frame->ch_layout.nb_channels == out.channels && frame->sample_rate == out.sample_rate, path,
                ": the audio changes from ", out.channels, " channels at ", out.sample_rate, " Hz to ",
                frame->ch_layout.nb_channels, " at ", frame->sample_rate, " Hz midway");
      const auto sample_format = AVSampleFormat(frame->format);
      for (int64_t i = 0; i < frame->nb_samples; ++i)
        for (int64_t c = 0; c < out.channels; ++c)
          out.interleaved.push_back(sample_at(*frame, sample_format, out.channels, i, c));
      av_frame_unref(frame.get());
    }
    ERC_CHECK(status == AVERROR(EAGAIN) || status == AVERROR_EOF, path,
              ": damaged audio (FFmpeg: ", ffmpeg_error(status), ")");
  };
  while ((status = av_read_frame(format.get(), packet.get())) >= 0) {
    if (packet->stream_index == stream) {
      const int sent = avcodec_send_packet(decoder.get(), packet.get());
      av_packet_unref(packet.get());
      ERC_CHECK(sent >= 0, path, ": damaged audio (FFmpeg: ", ffmpeg_error(sent), ")");
      take_frames();
    } else {
      av_packet_unref(packet.get());
    }
  }
  ERC_CHECK(status == AVERROR_EOF, path, ": truncated or damaged (FFmpeg: ", ffmpeg_error(status), ")");
  avcodec_send_packet(decoder.get(), nullptr);  // drain what the decoder holds back
  take_frames();

  // A container that declares more audio than could be read was cut off (a decoder's priming and padding move the
  // count by a few milliseconds, not by a fifth of a second).
  const AVStream& s = *format->streams[stream];
  if (s.duration > 0 && s.duration != AV_NOPTS_VALUE && out.sample_rate > 0) {
    const double declared = double(s.duration) * av_q2d(s.time_base);
    const double decoded = double(out.frames()) / double(out.sample_rate);
    ERC_CHECK(decoded >= declared - 0.2, path, ": truncated: the container declares ", declared, " s of audio, ",
              decoded, " s could be decoded");
  }
  return out;
}

}  // namespace erc::data
