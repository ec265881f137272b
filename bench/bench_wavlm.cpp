// WavLM-Large forward up to layer 21 (what the ErcModel's features come from, docs/MODEL.md §1) on a 10 s clip,
// f32, CPU, no gradients. tools/bench/torch_wavlm.py times transformers' WavLMModel on the same clip and
// tools/bench/run_cpu_wavlm.sh puts the two side by side.
//
// Random weights (Generator seed 0): the speed does not depend on the values. The clip is tests/fixtures/speech.wav
// tiled to exactly 10 s (160,000 samples) and normalised as Wav2Vec2FeatureExtractor does. Every repetition runs
// WavLM::forward (the headline time), then the same computation module by module for the per-stage split, then a
// plain cblas_sgemm of the largest GEMM shape in the model, the box's attainable rate under the same load.
// Usage: bench_wavlm [--reps N (default 3)] [--threads K (default: OMP_NUM_THREADS / all cores)] [--clip WAV]
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "bench_util.h"
#include "data/audio.h"
#include "io/progress.h"
#include "nn/wavlm/wavlm.h"
#include "ops/attention.h"
#include "ops/binary.h"
#include "ops/unary.h"
#include "tensor/random.h"

using namespace erc;
using erc::bench::median;
using erc::bench::peak_rss_mib;

namespace {

constexpr int64_t kLayer = 21;
constexpr int64_t kSampleRate = 16000;
constexpr int64_t kSamples = 10 * kSampleRate;
constexpr int kSgemmPerRep = 5;

// bench/CMakeLists.txt passes no fixture folder (the tests get ERC_FIXTURE_DIR): this file's own path finds it.
std::string default_clip() {
  return (std::filesystem::path(__FILE__).parent_path().parent_path() / "tests" / "fixtures" / "speech.wav").string();
}

// Multiply-adds counted as 2 FLOP, GEMM-shaped work only: bias adds, layer norms, GELU, softmax and the gate's
// sigmoid are a few FLOP per element, under 1% of the total.
struct Flops {
  double encoder = 0;     // the 7 conv layers
  double projection = 0;  // feature projection + positional conv
  double attention = 0;   // over every block: q/k/v/out, the gate's linear, q k^T and p v
  double ffn = 0;         // over every block: intermediate and output dense
  double blocks() const { return attention + ffn; }
  double total() const { return encoder + projection + blocks(); }
};

Flops count_flops(const nn::WavLMConfig& c, int64_t n_samples, int64_t layers) {
  Flops f;
  int64_t L = n_samples, C_in = 1;
  for (size_t i = 0; i < c.conv_dim.size(); ++i) {
    L = (L - c.conv_kernel[i]) / c.conv_stride[i] + 1;
    f.encoder += 2.0 * double(c.conv_dim[i]) * double(C_in) * double(c.conv_kernel[i]) * double(L);
    C_in = c.conv_dim[i];
  }
  const double T = double(L), C = double(C_in), H = double(c.hidden_size), E = double(c.intermediate_size);
  const int64_t K = c.num_conv_pos_embeddings;
  const double pos_frames = double(L + 2 * (K / 2) - K + 1);  // padding K / 2: one extra frame when K is even
  f.projection = 2.0 * T * C * H + 2.0 * pos_frames * H * (H / double(c.num_conv_pos_embedding_groups)) * double(K);
  f.attention = double(layers) * (4 * 2.0 * T * H * H     // q, k, v, out_proj
                                  + 2.0 * T * H * 8       // gru_rel_pos_linear: Dh -> 8 per head
                                  + 2 * 2.0 * T * T * H);  // q k^T and p v over all heads
  f.ffn = double(layers) * 2 * 2.0 * T * H * E;
  return f;
}

// Milliseconds of one pass, stage by stage.
struct Stages {
  double encoder = 0, projection = 0, blocks = 0;
  double attention = 0, attention_op = 0, ffn = 0;  // parts of blocks; attention_op is part of attention
};

// WavLM::forward for one utterance, called module by module (WavLMLayer::forward and WavLMAttention::forward
// spelled out) with a lap of the clock after each piece. waveform [n_samples] -> [T, H].
Tensor staged_forward(const nn::WavLM& model, const Tensor& waveform, Stages& ms) {
  Stopwatch clock;
  auto lap = [&](double& total) {
    total += clock.ms();
    clock.restart();
  };
  const Tensor features = model.feature_extractor->forward(waveform);  // [T, C]
  lap(ms.encoder);
  Tensor h = model.projection->forward(model.projection_norm->forward(features));  // [T, H]
  h = ops::add(h, model.pos_conv->forward(h));
  lap(ms.projection);
  const ops::SeqOffsets offsets = ops::one_sequence(h.size(0));
  const Tensor& rel_embed = model.layers[0]->attention->rel_attn_embed;
  double other = 0;  // layer norms and residual adds
  for (const auto& layer : model.layers) {
    const nn::WavLMAttention& attention = *layer->attention;
    const Tensor a = layer->layer_norm->forward(h);
    lap(other);
    const Tensor q = attention.q_proj->forward(a), k = attention.k_proj->forward(a), v = attention.v_proj->forward(a);
    const Tensor gate = attention.gate(a);
    lap(ms.attention);
    const Tensor attended = ops::relative_position_attention(q, k, v, gate, rel_embed, offsets, attention.buckets);
    lap(ms.attention_op);
    const Tensor projected = attention.out_proj->forward(attended);
    lap(ms.attention);
    h = ops::add(h, projected);
    const Tensor b = layer->final_layer_norm->forward(h);
    lap(other);
    const Tensor y = layer->output_dense->forward(ops::gelu(layer->intermediate_dense->forward(b)));
    lap(ms.ffn);
    h = ops::add(h, y);
    lap(other);
  }
  ms.attention += ms.attention_op;
  ms.blocks = ms.attention + ms.ffn + other;
  return h;
}

// The clip repeated (or cut) to n samples.
Tensor tile(const Tensor& clip, int64_t n) {
  const std::vector<float> x = clip.to_vector<float>();
  std::vector<float> y(static_cast<size_t>(n));
  for (size_t i = 0; i < y.size(); ++i) y[i] = x[i % x.size()];
  return Tensor::from_vector(y, {n});
}

int usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s [--reps N] [--threads K] [--clip WAV]\n", argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 3, threads = 0;
  std::string clip_path = default_clip();
  for (int i = 1; i < argc; ++i) {
    if (i + 1 >= argc) return usage(argv[0]);
    if (!std::strcmp(argv[i], "--clip")) {
      clip_path = argv[++i];
      continue;
    }
    const long long value = std::atoll(argv[i + 1]);
    if (value < 1) return usage(argv[0]);
    if (!std::strcmp(argv[i], "--reps")) reps = int(value);
    else if (!std::strcmp(argv[i], "--threads")) threads = int(value);
    else return usage(argv[0]);
    ++i;
  }
  if (threads > 0) {
    omp_set_num_threads(threads);
    openblas_set_num_threads(threads);
  }
  NoGradGuard no_grad;

  const Tensor clip = data::load_audio(clip_path, kSampleRate);
  const Tensor waveform = nn::normalise_waveform(tile(clip, kSamples));
  const nn::WavLMConfig config;  // microsoft/wavlm-large
  Generator init(0);
  nn::WavLM model(config, kLayer, init);
  const int64_t T = config.n_frames(kSamples);
  const Flops flops = count_flops(config, kSamples, kLayer);

  std::printf("erc WavLM: WavLM-Large config, blocks 1..%lld of %lld (%lld parameters), random weights, f32, CPU, "
              "no grad\n",
              (long long)kLayer, (long long)config.num_hidden_layers, (long long)model.parameter_count());
  std::printf("clip: %s (%.2f s) tiled to %lld samples (%.1f s), normalised -> %lld frames\n", clip_path.c_str(),
              double(clip.size(0)) / kSampleRate, (long long)kSamples, double(kSamples) / kSampleRate, (long long)T);
  std::printf("FLOP (GEMM-shaped work): feature encoder %.2f G, projection + pos conv %.2f G, %lld blocks %.2f G "
              "(attention %.2f G + feed-forward %.2f G); total %.2f GFLOP\n",
              flops.encoder * 1e-9, flops.projection * 1e-9, (long long)kLayer, flops.blocks() * 1e-9,
              flops.attention * 1e-9, flops.ffn * 1e-9, flops.total() * 1e-9);
  std::printf("threads: OpenMP %d, OpenBLAS %d\n", omp_get_max_threads(), openblas_get_num_threads());

  // The largest GEMM in the model, the FFN's intermediate_dense: x [T, H] W^T with W [E, H], as ops::linear calls it.
  const int64_t H = config.hidden_size, E = config.intermediate_size;
  const Tensor gemm_x = randn({T, H}, init), gemm_w = randn({E, H}, init);
  std::vector<float> gemm_y(size_t(T * E));
  auto plain_sgemm = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(T), int(E), int(H), 1.0f, gemm_x.data<float>(), int(H),
                gemm_w.data<float>(), int(H), 0.0f, gemm_y.data(), int(E));
  };
  const double sgemm_flop = 2.0 * double(T) * double(H) * double(E);

  std::vector<double> total_ms, sgemm_ms;
  std::vector<Stages> stages;
  double staged_max_diff = 0;
  for (int rep = 0; rep <= reps; ++rep) {  // repetition 0 warms up
    const Stopwatch start;
    const Tensor out = model.forward({waveform})[0];  // [T, H]
    const double total = start.ms();
    Stages ms;
    const Tensor staged = staged_forward(model, waveform, ms);
    const std::vector<float> a = out.to_vector<float>(), b = staged.to_vector<float>();
    for (size_t i = 0; i < a.size(); ++i) staged_max_diff = std::max(staged_max_diff, double(std::fabs(a[i] - b[i])));
    std::vector<double> sgemm;
    for (int i = 0; i < kSgemmPerRep; ++i) {
      const Stopwatch gemm_time;
      plain_sgemm();
      sgemm.push_back(gemm_time.ms());
    }
    std::printf("  %s %d: forward %.1f ms  (staged: encoder %.1f + projection/pos conv %.1f + blocks %.1f ms)  "
                "sgemm %.1f ms\n",
                rep ? "rep" : "warm-up", rep, total, ms.encoder, ms.projection, ms.blocks, median(sgemm));
    std::fflush(stdout);
    if (rep == 0) continue;
    total_ms.push_back(total);
    stages.push_back(ms);
    sgemm_ms.insert(sgemm_ms.end(), sgemm.begin(), sgemm.end());
  }

  auto stage = [&](double Stages::*field) {
    std::vector<double> v;
    for (const Stages& s : stages) v.push_back(s.*field);
    return median(v);
  };
  const double total = median(total_ms), sgemm = median(sgemm_ms);
  const double encoder = stage(&Stages::encoder), projection = stage(&Stages::projection),
               blocks = stage(&Stages::blocks), attention = stage(&Stages::attention),
               attention_op = stage(&Stages::attention_op), ffn = stage(&Stages::ffn);
  const double rtf = total / (1e3 * double(kSamples) / kSampleRate);
  auto rate = [](double flop, double ms) { return flop / (ms * 1e-3) * 1e-9; };
  const double total_rate = rate(flops.total(), total), sgemm_rate = rate(sgemm_flop, sgemm);
  std::printf("median of %d after 1 warm-up:\n", reps);
  std::printf("  WavLM::forward          %10.1f ms   real-time factor %.3f   %.1f GFLOP/s\n", total, rtf, total_rate);
  std::printf("  stage by stage (staged pass; its output differs from forward's by at most %.3g):\n", staged_max_diff);
  std::printf("    feature encoder       %10.1f ms   %5.1f GFLOP/s\n", encoder, rate(flops.encoder, encoder));
  std::printf("    projection + pos conv %10.1f ms   %5.1f GFLOP/s\n", projection, rate(flops.projection, projection));
  std::printf("    %lld blocks             %10.1f ms   %5.1f GFLOP/s (%.1f ms per block)\n", (long long)kLayer, blocks,
              rate(flops.blocks(), blocks), blocks / double(kLayer));
  std::printf("      attention           %10.1f ms   %5.1f GFLOP/s, of which the attention op (scores, bias, softmax, "
              "p v) %.1f ms\n",
              attention, rate(flops.attention, attention), attention_op);
  std::printf("      feed-forward        %10.1f ms   %5.1f GFLOP/s\n", ffn, rate(flops.ffn, ffn));
  std::printf("      layer norms, adds   %10.1f ms\n", blocks - attention - ffn);
  std::printf("  plain cblas_sgemm [%lld, %lld] x [%lld, %lld]^T %.1f ms   %.1f GFLOP/s; forward at %.1f%% of it\n",
              (long long)T, (long long)H, (long long)E, (long long)H, sgemm, sgemm_rate,
              100.0 * total_rate / sgemm_rate);
  std::printf("  peak RSS                %10.1f MiB\n", peak_rss_mib());
  std::printf("RESULT erc samples=%lld frames=%lld layer=%lld threads=%d total_ms=%.1f rtf=%.3f encoder_ms=%.1f "
              "projection_ms=%.1f blocks_ms=%.1f attention_ms=%.1f ffn_ms=%.1f gflop=%.2f gflop_per_s=%.1f "
              "sgemm_gflop_per_s=%.1f sgemm_fraction=%.3f peak_rss_mib=%.0f\n",
              (long long)kSamples, (long long)T, (long long)kLayer, omp_get_max_threads(), total, rtf, encoder,
              projection, blocks, attention, ffn, flops.total() * 1e-9, total_rate, sgemm_rate,
              total_rate / sgemm_rate, peak_rss_mib());
  return 0;
}
