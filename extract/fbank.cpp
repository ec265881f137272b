// Kaldi's log-mel filterbank on the CPU: one frame at a time, in double, with a radix-2 real FFT of its own.
#include "extract/fbank.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <numbers>
#include <utility>
#include <vector>

namespace erc::extract {

namespace {

using Complex = std::complex<double>;

// torchaudio's floor under the log is float32's epsilon whatever the precision it computes in.
constexpr double kLogFloor = std::numeric_limits<float>::epsilon();
// Beyond any analysis window; keeps the power-of-two arithmetic far from overflow.
constexpr int64_t kMaxFrameLength = int64_t(1) << 20;

double mel_scale(double hz) { return 1127.0 * std::log(1.0 + hz / 700.0); }

int64_t next_power_of_two(int64_t n) {
  int64_t p = 1;
  while (p < n) p *= 2;
  return p;
}

void check_config(const FbankConfig& c) {
  ERC_CHECK(c.sample_rate > 0, "fbank: sample_rate must be positive, got ", c.sample_rate);
  ERC_CHECK(c.n_mels >= 1, "fbank: n_mels must be at least 1, got ", c.n_mels);
  ERC_CHECK(c.frame_length >= 2 && c.frame_length <= kMaxFrameLength, "fbank: frame_length must be in 2..",
            kMaxFrameLength, " samples, got ", c.frame_length);
  ERC_CHECK(c.frame_shift >= 1, "fbank: frame_shift must be at least 1 sample, got ", c.frame_shift);
  ERC_CHECK(c.preemphasis >= 0 && c.preemphasis <= 1, "fbank: preemphasis must be in [0, 1], got ", c.preemphasis);
  ERC_CHECK(c.low_freq >= 0 && c.low_freq < 0.5 * double(c.sample_rate), "fbank: low_freq must be in [0, ",
            0.5 * double(c.sample_rate), ") Hz (Nyquist), got ", c.low_freq);
}

// A real FFT of n points (a power of two) as a complex FFT of n/2: the even samples go in the real parts, the odd
// in the imaginary ones, and the two half-length spectra are separated afterwards (the "two for one" trick).
// Only the bins below Nyquist are produced: Kaldi's mel filters give the Nyquist bin no weight.
class RealFft {
 public:
  explicit RealFft(int64_t n) : n_(n), half_(n / 2), bit_reversed_(half_), twiddle_(half_) {
    for (int64_t i = 1; i < half_; ++i) bit_reversed_[i] = (bit_reversed_[i >> 1] >> 1) | ((i & 1) ? half_ >> 1 : 0);
    // Each twiddle from its own angle rather than by repeated multiplication, which would accumulate error.
    for (int64_t k = 0; k < half_; ++k) twiddle_[k] = std::polar(1.0, -2.0 * std::numbers::pi * double(k) / double(n));
  }
  int64_t size() const { return n_; }

  // x [n] -> power [n/2]: |X_k|^2 for k in [0, n/2). z [n/2] is scratch.
  void power_spectrum(const double* x, double* power, std::vector<Complex>& z) const {
    for (int64_t m = 0; m < half_; ++m) z[bit_reversed_[m]] = Complex(x[2 * m], x[2 * m + 1]);
    // Iterative radix-2 butterflies. A stage of span `len` needs e^{-2 pi i j / len} = twiddle_[j n / len].
    for (int64_t len = 2; len <= half_; len *= 2) {
      const int64_t step = n_ / len;
      for (int64_t start = 0; start < half_; start += len) {
        for (int64_t j = 0; j < len / 2; ++j) {
          const Complex u = z[start + j];
          const Complex v = z[start + j + len / 2] * twiddle_[j * step];
          z[start + j] = u + v;
          z[start + j + len / 2] = u - v;
        }
      }
    }
    // With Z = FFT(even + i odd): FFT(even)_k = (Z_k + conj Z_{-k}) / 2, FFT(odd)_k = (Z_k - conj Z_{-k}) / 2i,
    // and X_k = FFT(even)_k + e^{-2 pi i k / n} FFT(odd)_k.
    for (int64_t k = 0; k < half_; ++k) {
      const Complex zk = z[k];
      const Complex zc = std::conj(z[(half_ - k) % half_]);
      const Complex even = 0.5 * (zk + zc);
      const Complex odd = Complex(0, -0.5) * (zk - zc);
      power[k] = std::norm(even + twiddle_[k] * odd);
    }
  }

 private:
  int64_t n_, half_;
  std::vector<int64_t> bit_reversed_;
  std::vector<Complex> twiddle_;
};

// One triangular filter: weights for the FFT bins [first, first + weights.size()).
struct MelBand {
  int64_t first = 0;
  std::vector<double> weights;
};

// Kaldi's filters: n_mels triangles evenly spaced on the mel scale between low_freq and Nyquist, each rising from
// its left neighbour's centre to its own and falling to its right neighbour's, over the n_fft / 2 bins below Nyquist.
std::vector<MelBand> mel_bands(const FbankConfig& c, int64_t n_fft) {
  const double nyquist = 0.5 * double(c.sample_rate);
  const double bin_width = double(c.sample_rate) / double(n_fft);
  const double mel_low = mel_scale(c.low_freq);
  const double mel_delta = (mel_scale(nyquist) - mel_low) / double(c.n_mels + 1);
  std::vector<MelBand> bands;
  for (int64_t b = 0; b < c.n_mels; ++b) {
    const double left = mel_low + double(b) * mel_delta;
    const double center = mel_low + (double(b) + 1.0) * mel_delta;
    const double right = mel_low + (double(b) + 2.0) * mel_delta;
    MelBand band;
    for (int64_t k = 0; k < n_fft / 2; ++k) {
      const double mel = mel_scale(bin_width * double(k));
      const double weight = std::min((mel - left) / (center - left), (right - mel) / (right - center));
      if (weight <= 0) continue;
      if (band.weights.empty()) band.first = k;
      // The mel scale is monotonic, so the bins of positive weight are contiguous.
      band.weights.resize(k - band.first + 1);
      band.weights.back() = weight;
    }
    // Kaldi refuses such a band too: it would read the log floor forever.
    ERC_CHECK(!band.weights.empty(), "fbank: mel band ", b, " of ", c.n_mels, " holds no FFT bin (", n_fft,
              "-point FFT at ", c.sample_rate, " Hz): n_mels is too large for frame_length ", c.frame_length);
    bands.push_back(std::move(band));
  }
  return bands;
}

// Kaldi's Povey window: a Hann window (symmetric, zero at both ends) raised to 0.85.
std::vector<double> povey_window(int64_t length) {
  std::vector<double> w(length);
  for (int64_t j = 0; j < length; ++j)
    w[j] = std::pow(0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * double(j) / double(length - 1)), 0.85);
  return w;
}

}  // namespace

int64_t fbank_frames(int64_t n_samples, const FbankConfig& config) {
  check_config(config);
  ERC_CHECK(n_samples >= 0, "fbank: n_samples must not be negative, got ", n_samples);
  if (n_samples < config.frame_length) return 0;
  return 1 + (n_samples - config.frame_length) / config.frame_shift;
}

Tensor log_mel_fbank(const Tensor& waveform, const FbankConfig& config) {
  ERC_CHECK(waveform.dim() == 1 && waveform.dtype() == DType::f32 && waveform.device() == Device::cpu,
            "log_mel_fbank: expected a waveform [n_samples] f32 on the cpu, got ", shape_str(waveform.shape()), " ",
            dtype_name(waveform.dtype()), " on the ", device_name(waveform.device()));
  const int64_t n_samples = waveform.size(0);
  const int64_t T = fbank_frames(n_samples, config);
  ERC_CHECK(T > 0, "log_mel_fbank: ", n_samples, " samples are fewer than the ", config.frame_length, " of one frame (",
            1000.0 * double(config.frame_length) / double(config.sample_rate), " ms at ", config.sample_rate, " Hz)");
  const int64_t L = config.frame_length;
  const RealFft fft(next_power_of_two(L));
  const std::vector<double> window = povey_window(L);
  const std::vector<MelBand> bands = mel_bands(config, fft.size());
  const Tensor samples = waveform.detach().contiguous();
  const float* x = samples.data<float>();
  Tensor out = Tensor::empty({T, config.n_mels}, DType::f32);
  float* y = out.data<float>();

  // Frames are independent and each is computed by the same sequence of operations, so the result does not
  // depend on how the frames are shared among threads.
#pragma omp parallel
  {
    std::vector<double> frame(fft.size());
    std::vector<double> power(fft.size() / 2);
    std::vector<Complex> scratch(fft.size() / 2);
#pragma omp for schedule(static)
    for (int64_t t = 0; t < T; ++t) {
      const float* src = x + t * config.frame_shift;
      double mean = 0;
      for (int64_t j = 0; j < L; ++j) mean += double(src[j]);
      mean /= double(L);
      for (int64_t j = 0; j < L; ++j) frame[j] = double(src[j]) - mean;
      // Pre-emphasis from the end backwards, so each step still reads its unemphasised predecessor; the first
      // sample is its own predecessor, as in Kaldi (the Povey window then zeroes it).
      for (int64_t j = L - 1; j > 0; --j) frame[j] -= config.preemphasis * frame[j - 1];
      frame[0] -= config.preemphasis * frame[0];
      for (int64_t j = 0; j < L; ++j) frame[j] *= window[j];
      std::fill(frame.begin() + L, frame.end(), 0.0);
      fft.power_spectrum(frame.data(), power.data(), scratch);
      for (int64_t b = 0; b < config.n_mels; ++b) {
        const MelBand& band = bands[b];
        double energy = 0;
        for (size_t k = 0; k < band.weights.size(); ++k) energy += band.weights[k] * power[band.first + k];
        y[t * config.n_mels + b] = float(std::log(std::max(energy, kLogFloor)));
      }
    }
  }
  return out;
}

}  // namespace erc::extract
