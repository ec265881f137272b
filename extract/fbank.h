// Kaldi's log-mel filterbank ("fbank"), as torchaudio.compliance.kaldi.fbank computes it: the baseline input of
// speech-emotion toolkits (s3prl's), framed here at WavLM's 50 frames/s so that its frames line up with WavLM's.
//
// The waveform is taken as it comes, float samples (erc's [-1, 1], or normalised): what s3prl hands torchaudio.
// Kaldi's own tools read int16-scale samples; multiplying by 32768 first adds 2 ln 32768 (about 20.79) to every
// band that is above the log floor, and lifts some that were on it.
#pragma once
#include <cstdint>

#include "tensor/tensor.h"

namespace erc::extract {

struct FbankConfig {
  int64_t sample_rate = 16000;
  int64_t n_mels = 80;
  int64_t frame_length = 400;  // samples (25 ms)
  int64_t frame_shift = 320;   // samples (20 ms): WavLM's 50 frames/s and its frame count
  double preemphasis = 0.97;
  double low_freq = 20;  // Hz; the upper edge is Nyquist
};

// Frames from n_samples with Kaldi's snip_edges: 1 + (n - frame_length) / frame_shift, 0 when shorter than one
// frame. For the default config this is WavLM's frame count (nn::WavLMConfig::n_frames) for every n. Errors name
// a bad config field.
int64_t fbank_frames(int64_t n_samples, const FbankConfig& config = {});

// waveform [n_samples] f32 on the CPU -> [T, n_mels] f32 log mel energies, T = fbank_frames(n_samples). Per frame,
// in double: the DC offset removed, pre-emphasis, the Povey window (Hann^0.85), the power spectrum of the frame
// zero-padded to the next power of two, Kaldi's triangular mel filters from low_freq to Nyquist, and the log
// floored at float32's epsilon (torchaudio's floor: log 1.19e-7 = -15.94 for silence). No dither, no energy
// column. Records no gradient. Errors name the problem: a waveform that is not 1-D, f32 or on the CPU, a bad
// config field, fewer samples than one frame (both lengths given; the caller names the file).
Tensor log_mel_fbank(const Tensor& waveform, const FbankConfig& config = {});

}  // namespace erc::extract
