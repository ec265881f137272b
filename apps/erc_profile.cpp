// erc_profile: the kernel profiling runs. Each op of the training step at the paper's shapes, forward and forward +
// backward, timed on the device with CUDA events (on the CPU with the wall clock), the median after warm-up; its
// bytes and FLOPs as counted below; achieved GB/s and GFLOP/s against the ceilings measured in the same run (a large
// copy and a large GEMM); then one whole training step with its per-kernel breakdown and launch count; then WavLM's
// forward on one utterance and on one dialogue's batch.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>

#include "app_common.h"
#include "app_device.h"
#include "autograd/backward.h"
#include "autograd/grad_mode.h"
#include "io/atomic_file.h"
#include "nn/erc_model.h"
#include "nn/wavlm/wavlm.h"
#include "ops/causal_conv1d.h"
#include "ops/cross_entropy.h"
#include "ops/layer_norm.h"
#include "ops/matmul.h"
#include "ops/packed.h"
#include "ops/segment_mean.h"
#include "ops/selective_scan.h"
#include "ops/unary.h"
#include "optim/radam_schedule_free.h"
#include "tensor/random.h"

#ifdef ERC_WITH_CUDA
#include "cuda/device.h"
#include "cuda/memory.h"
#include "cuda/stream.h"
#include "cuda/timeline.h"
#endif

using namespace erc;

namespace {

struct Shapes {
  int64_t T, D, E, N, R, F, U, C = 6;  // frames, d_model, d_inner, d_state, dt_rank, features, utterances, classes
};

Shapes shapes_for(int64_t frames, int64_t d_model) {
  return {frames, d_model, 2 * d_model, 16, (d_model + 15) / 16, 1024, std::max<int64_t>(1, frames / 185)};
}

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The median time of `work` in ms after `warmup` runs: CUDA events around it on the device, the wall clock on the CPU.
double median_ms(Device device, int warmup, int repeats, const std::function<void()>& work) {
  for (int i = 0; i < warmup; ++i) work();
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
#ifdef ERC_WITH_CUDA
    if (device == Device::cuda) {
      cuda::Event start, end;
      start.record();
      work();
      end.record();
      times.push_back(elapsed_ms(start, end));
      continue;
    }
#endif
    static_cast<void>(device);  // without the CUDA backend every profile is the CPU's
    const double start = now_ms();
    work();
    times.push_back(now_ms() - start);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

struct Ceilings {
  double copy_gb_per_s = 0, gemm_gflop_per_s = 0;
};

// A copy of 2^28 floats (1 GiB; 2^22 in the simulator) and a square GEMM of 8192 (1024 on the CPU, 64 in the
// simulator), each the median of the runs.
Ceilings measure_ceilings(Device device, bool simulated, int warmup, int repeats) {
  const int64_t n = simulated ? (1 << 22) : device == Device::cuda ? (1 << 28) : (1 << 26);
  const Tensor src = Tensor::ones({n}, DType::f32, device);
  Tensor dst = Tensor::empty({n}, DType::f32, device);
  const double copy_ms = median_ms(device, warmup, repeats, [&] { dst.copy_(src); });
  const int64_t m = simulated ? 64 : device == Device::cuda ? 8192 : 1024;
  Generator gen(1);
  const Tensor a = rand({m, m}, gen).to(device), b = rand({m, m}, gen).to(device);
  const double gemm_ms = median_ms(device, warmup, repeats, [&] { ops::matmul(a, b); });
  return {2.0 * double(n) * 4 / copy_ms / 1e6, 2.0 * double(m) * m * m / gemm_ms / 1e6};
}

// One op of the step: its inputs made once, forward (no graph) and forward + backward from a fixed output gradient,
// and what it moves and computes per call as counted here (f32, 4 bytes per element).
struct OpCase {
  std::string name;
  double forward_bytes, forward_flops, backward_bytes, backward_flops;  // backward: the backward pass alone
  std::function<Tensor()> forward;
  std::vector<Tensor> leaves;
};

Tensor leaf(const Shape& shape, uint64_t seed, Device device, double low = -1, double high = 1) {
  Generator gen(seed);
  Tensor t = rand(shape, gen, DType::f32, low, high).to(device);
  t.set_requires_grad(true);
  return t;
}

std::vector<OpCase> op_cases(const Shapes& s, Device device) {
  const double T = double(s.T), D = double(s.D), E = double(s.E), N = double(s.N);
  const ops::SeqOffsets one{0, s.T};
  ops::SeqOffsets utterances;
  for (int64_t u = 0; u <= s.U; ++u) utterances.push_back(u * s.T / s.U);
  std::vector<OpCase> cases;
  {  // Mamba's in_proj, the largest GEMM: [T, D] x [D, 2E]
    Tensor x = leaf({s.T, s.D}, 1, device), w = leaf({2 * s.E, s.D}, 2, device, -0.05, 0.05);
    cases.push_back({"linear in_proj [T,D]x[D,2E]",
                     4 * (T * D + 2 * E * D + 2 * T * E),
                     2 * T * D * 2 * E,
                     4 * 2 * (T * D + 2 * E * D + 2 * T * E),
                     2 * 2 * T * D * 2 * E,
                     [=] { return ops::linear(x, w); },
                     {x, w}});
  }
  {
    Tensor x = leaf({s.T, s.D}, 3, device), w = leaf({s.D}, 4, device), b = leaf({s.D}, 5, device);
    cases.push_back({"layer_norm [T,D]",
                     4 * 2 * T * D,
                     8 * T * D,
                     4 * 3 * T * D,
                     12 * T * D,
                     [=] { return ops::layer_norm(x, w, b); },
                     {x, w, b}});
  }
  {
    Tensor x = leaf({s.T, s.E}, 6, device), w = leaf({s.E, 1, 4}, 7, device), b = leaf({s.E}, 8, device);
    cases.push_back({"causal_conv1d [T,E] K=4",
                     4 * 2 * T * E,
                     2 * 4 * T * E,
                     4 * 3 * T * E,
                     4 * 4 * T * E,
                     [=] { return ops::causal_conv1d(x, w, b, one); },
                     {x, w, b}});
  }
  {
    Tensor x = leaf({s.T, s.E}, 9, device);
    cases.push_back(
        {"silu [T,E]", 4 * 2 * T * E, 4 * T * E, 4 * 3 * T * E, 6 * T * E, [=] { return ops::silu(x); }, {x}});
  }
  {  // Forward reads u, delta, z and writes out per (t, e), reads B and C once per block of 64 channels, writes a state
     // per 32 frames. Backward runs the recurrence twice (the chunks' carries, then the chunks backwards), reads
     // u, delta, z, dout, writes du, ddelta, dz, and a dB and dC partial per block of channels.
    Tensor u = leaf({s.T, s.E}, 10, device), delta = leaf({s.T, s.E}, 11, device, -3, 0);
    Tensor A = leaf({s.E, s.N}, 12, device, -2, -0.5), B = leaf({s.T, s.N}, 13, device),
           C = leaf({s.T, s.N}, 14, device), Dskip = leaf({s.E}, 15, device), z = leaf({s.T, s.E}, 16, device),
           bias = leaf({s.E}, 17, device);
    const double states = std::ceil(T / 32) * E * N, blocks = std::ceil(E / 64);
    cases.push_back({"selective_scan [T,E,N]",
                     4 * (4 * T * E + 2 * T * N * blocks + states),
                     7 * T * E * N + 15 * T * E,
                     4 * (7 * T * E + 2 * T * N * 3 * blocks + 2 * states),
                     24 * T * E * N + 30 * T * E,
                     [=] { return ops::selective_scan(u, delta, A, B, C, Dskip, z, bias, one); },
                     {u, delta, A, B, C, Dskip, z, bias}});
  }
  {
    Tensor x = leaf({s.T, s.D}, 18, device);
    cases.push_back(
        {"flip_sequences [T,D]", 4 * 2 * T * D, 0, 4 * 2 * T * D, 0, [=] { return ops::flip_sequences(x, one); }, {x}});
  }
  {
    Tensor x = leaf({s.T, s.D}, 19, device);
    cases.push_back({"segment_mean [T,D]->[U,D]",
                     4 * (T * D + double(s.U) * D),
                     T * D,
                     4 * (T * D + double(s.U) * D),
                     T * D,
                     [=] { return ops::segment_mean(x, utterances); },
                     {x}});
  }
  {
    Tensor logits = leaf({s.U, s.C}, 20, device);
    std::vector<int64_t> labels;
    for (int64_t u = 0; u < s.U; ++u) labels.push_back(u % 4 == 3 ? -100 : u % s.C);
    const Tensor targets = Tensor::from_vector<int64_t>(labels, {s.U}).to(device);
    const double n = double(s.U * s.C);
    cases.push_back({"cross_entropy [U,C]",
                     4 * n,
                     5 * n,
                     4 * 2 * n,
                     3 * n,
                     [=] { return ops::cross_entropy(logits, targets); },
                     {logits}});
  }
  return cases;
}

struct Run {
  std::string device_name;
  bool simulated = false;
  int warmup, repeats;
};

nlohmann::json rates(double bytes, double flops, double ms, const Ceilings& c) {
  const double gb_per_s = bytes / ms / 1e6, gflop_per_s = flops / ms / 1e6;
  return {{"ms", ms},
          {"bytes", bytes},
          {"flops", flops},
          {"gb_per_s", gb_per_s},
          {"gflop_per_s", gflop_per_s},
          {"percent_of_copy", 100 * gb_per_s / c.copy_gb_per_s},
          {"percent_of_gemm", 100 * gflop_per_s / c.gemm_gflop_per_s}};
}

nlohmann::json profile_op(OpCase& op, Device device, const Run& run, const Ceilings& c) {
  const double forward_ms = median_ms(device, run.warmup, run.repeats, [&] {
    NoGradGuard no_grad;
    op.forward();
  });
  Tensor grad_out;
  {
    NoGradGuard no_grad;
    const Tensor out = op.forward();
    Generator gen(99);
    grad_out = out.dim() == 0 ? Tensor::scalar(1.0).to(device) : rand(out.shape(), gen).to(device);
  }
  const double both_ms = median_ms(device, run.warmup, run.repeats, [&] {
    zero_grad(op.leaves);
    backward(op.forward(), grad_out);
  });
  const double backward_ms = std::max(both_ms - forward_ms, 1e-6);
  std::printf("%-30s fwd %9.3f ms %8.1f GB/s %8.1f GFLOP/s | bwd %9.3f ms %8.1f GB/s %8.1f GFLOP/s\n", op.name.c_str(),
              forward_ms, op.forward_bytes / forward_ms / 1e6, op.forward_flops / forward_ms / 1e6, backward_ms,
              op.backward_bytes / backward_ms / 1e6, op.backward_flops / backward_ms / 1e6);
  return {{"op", op.name},
          {"forward", rates(op.forward_bytes, op.forward_flops, forward_ms, c)},
          {"backward", rates(op.backward_bytes, op.backward_flops, backward_ms, c)},
          {"forward_backward_ms", both_ms}};
}

// On the device: the peak memory in use since the last reset_peak, then `work` (one `per`) once more under the kernel
// timeline, printed and added to `out` kernel by kernel with its launches.
void report_kernels(Device device, const char* per, const std::function<void()>& work, nlohmann::json& out) {
#ifdef ERC_WITH_CUDA
  if (device != Device::cuda) return;
  const double peak_mib = double(cuda::device_allocator().stats().peak_in_use_bytes) / (1 << 20);
  std::vector<cuda::KernelTimeline::Kernel> kernels;
  int64_t launches = 0;
  {
    cuda::KernelTimeline timeline;
    work();
    kernels = timeline.kernels();
    launches = timeline.launches();
  }
  std::printf("launches per %s: %lld; peak device memory in use during the %ss: %.1f MiB\n", per,
              static_cast<long long>(launches), per, peak_mib);
  std::printf("%-44s %9s %10s %6s\n", "kernel", "launches", "ms", "%");
  double total = 0;
  for (const auto& k : kernels) total += k.ms;
  for (const auto& k : kernels) {
    std::printf("%-44s %9lld %10.3f %6.1f\n", k.name.substr(0, 44).c_str(), static_cast<long long>(k.launches), k.ms,
                100 * k.ms / total);
    out["kernels"].push_back({{"kernel", k.name}, {"launches", k.launches}, {"ms", k.ms}});
  }
  out["launches"] = launches;
  out["peak_device_mib"] = peak_mib;
#else
  static_cast<void>(device), static_cast<void>(per), static_cast<void>(work), static_cast<void>(out);
#endif
}

void reset_peak_memory(Device device) {
#ifdef ERC_WITH_CUDA
  if (device == Device::cuda) cuda::device_allocator().reset_peak();
#else
  static_cast<void>(device);
#endif
}

// One training step of the full model on one conversation: forward, loss, backward, RAdamScheduleFree update.
nlohmann::json profile_step(const Shapes& s, Device device, const Run& run, bool recompute_layers) {
  nn::ErcModelConfig config;
  config.feature_dim = s.F;
  config.mamba.d_model = s.D;
  config.recompute_layers = recompute_layers;
  nn::ErcModel model(config, 1);
  model.to(device);
  model.train();
  optim::RAdamScheduleFree optimizer(model.parameters());
  optimizer.train();
  Generator gen(2);
  const Tensor features = randn({s.T, s.F}, gen).to(device);
  ops::SeqOffsets utterances;
  std::vector<int64_t> labels;
  for (int64_t u = 0; u <= s.U; ++u) utterances.push_back(u * s.T / s.U);
  for (int64_t u = 0; u < s.U; ++u) labels.push_back(u % 4 == 3 ? -100 : u % s.C);
  const Tensor targets = Tensor::from_vector<int64_t>(labels, {s.U}).to(device);
  auto step = [&] {
    optimizer.zero_grad();
    backward(ops::cross_entropy(model.forward(features, {0, s.T}, utterances), targets));
    optimizer.step();
  };
  reset_peak_memory(device);
  const double ms = median_ms(device, run.warmup, run.repeats, step);
  nlohmann::json out = {{"frames", s.T},
                        {"recompute_layers", recompute_layers},
                        {"parameters", model.parameter_count()},
                        {"ms", ms},
                        {"frames_per_second", double(s.T) / ms * 1e3}};
  std::printf("\ntraining step, T %lld, %lld parameters: %.3f ms (%.0f frames/s)\n", static_cast<long long>(s.T),
              static_cast<long long>(model.parameter_count()), ms, double(s.T) / ms * 1e3);
  report_kernels(device, "step", step, out);
  return out;
}

// WavLM's forward (the front end erc_extract runs) up to `layer`, on one utterance and on one dialogue's batch: the
// time, the GEMM FLOPs as counted here (convolutions, projections, attention's two products per utterance) against
// the GEMM ceiling, the peak device memory and the kernels.
// With `bf16`, its frame-wise GEMMs in bf16 (erc_extract --precision bf16).
nlohmann::json profile_wavlm(const nn::WavLMConfig& config, int64_t layer, const std::vector<int64_t>& lengths,
                             const std::string& what, bool bf16, Device device, const Run& run, const Ceilings& c) {
  Generator init(5);
  nn::WavLM model(config, layer, init);
  model.eval();
  if (bf16) model.store_gemm_weights(DType::bf16);
  model.to(device);
  std::vector<Tensor> waveforms;
  double flops = 0, seconds = 0;
  const double F = double(config.hidden_size), I = double(config.intermediate_size);
  for (size_t u = 0; u < lengths.size(); ++u) {
    Generator gen(10 + u);
    waveforms.push_back(nn::normalise_waveform(randn({lengths[u]}, gen)).to(device));
    seconds += double(lengths[u]) / 16000;
    int64_t L = lengths[u], C_in = 1;
    for (size_t i = 0; i < config.conv_dim.size(); ++i) {
      L = (L - config.conv_kernel[i]) / config.conv_stride[i] + 1;
      flops += 2.0 * double(config.conv_dim[i] * C_in * config.conv_kernel[i] * L);
      C_in = config.conv_dim[i];
    }
    const double T = double(L);
    flops += 2 * T * double(C_in) * F;  // projection
    flops += 2 * T * F * F / double(config.num_conv_pos_embedding_groups) * double(config.num_conv_pos_embeddings);
    flops += double(layer) * (2 * T * F * F * 4 + 2 * 2 * T * F * I + 2 * 2 * T * T * F);  // the blocks
  }
  NoGradGuard no_grad;
  auto forward = [&] { model.forward(waveforms); };
  reset_peak_memory(device);
  const double ms = median_ms(device, run.warmup, run.repeats, forward);
  nlohmann::json out = {{"what", what},
                        {"utterances", lengths.size()},
                        {"audio_seconds", seconds},
                        {"layer", layer},
                        {"bf16_gemms", bf16},
                        {"ms", ms},
                        {"real_time_factor", ms / 1e3 / seconds},
                        {"rates", rates(0, flops, ms, c)}};
  std::printf("\nWavLM to layer %lld%s, %s (%.1f s of audio): %.3f ms, %.1f GFLOP/s (%.1f %% of the GEMM ceiling)\n",
              static_cast<long long>(layer), bf16 ? " (bf16 GEMMs)" : "", what.c_str(), seconds, ms, flops / ms / 1e6,
              100 * flops / ms / 1e6 / c.gemm_gflop_per_s);
  report_kernels(device, "forward", forward, out);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "erc_profile: the kernel profiling runs. Times each op of the BiMamba training step at the paper's shapes\n"
      "(T 14,776 frames, D 256, E 512, N 16), forward and backward, as the median of CUDA-event timings after\n"
      "warm-up (the wall clock with --device cpu); counts its bytes and FLOPs; prints GB/s, GFLOP/s and the\n"
      "percentage of this device's ceilings, measured in the same run (a large copy, a large GEMM); then one whole\n"
      "training step with its per-kernel breakdown and launch count; last WavLM-Large's forward to layer 21 (the "
      "front\n"
      "end) on a 10 s clip and on a dialogue's batch, with its kernels and peak memory. In a SIM build the kernels\n"
      "run once, at T 100 and D 32 unless given and a tiny WavLM, on erc's simulator: the times are the simulator's,\n"
      "not a GPU's."};
  std::string device = "auto", json_path;
  int64_t frames = 14776, d_model = 256;
  int warmup = -1, repeats = 0, threads = 0;
  bool tf32 = false, step_only = false, recompute_layers = false, no_wavlm = false, wavlm_bf16 = false;
  std::string wavlm_config;
  app.add_option("--device", device, "cpu | cuda | auto (the GPU when one answers, else the CPU)")
      ->capture_default_str();
  app.add_option("--frames", frames, "frames of the conversation (the paper: mean 14,776, longest 26,684)")
      ->capture_default_str();
  app.add_option("--d-model", d_model, "encoder width")->capture_default_str();
  app.add_option("--warmup", warmup, "untimed runs before timing (default: 3 on the GPU, 1 on the CPU)");
  app.add_option("--repeats", repeats, "timed runs, whose median is reported (default: 20 on the GPU, 3 on the CPU)");
  app.add_flag("--tf32", tf32, "GPU GEMMs in TF32 on tensor cores (the ceiling GEMM too)");
  app.add_flag("--step-only", step_only, "only the ceilings and the whole training step");
  app.add_flag("--recompute-layers", recompute_layers, "the step reruns each BiMamba layer in backward (erc_train's)");
  app.add_option("--wavlm-config", wavlm_config,
                 "WavLM's config.json for its profile (default: WavLM-Large's, to "
                 "layer 21; in a SIM build a tiny one)");
  app.add_flag("--no-wavlm", no_wavlm, "leave WavLM's profile out");
  app.add_flag("--wavlm-bf16", wavlm_bf16,
               "WavLM's frame-wise GEMMs in bf16 with f32 sums (erc_extract --precision bf16; the GPU only)");
  app.add_option("--json", json_path, "also write everything measured to this JSON file");
  app.add_option("--threads", threads, "CPU threads (0 = all cores)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    ERC_CHECK(frames > 0 && d_model > 0 && d_model % 16 == 0, "--frames must be > 0 and --d-model a positive multiple",
              " of 16, got ", frames, " and ", d_model);
    ERC_CHECK(warmup >= -1 && repeats >= 0, "--warmup and --repeats must not be negative");
    const Device on = apps::choose_device(device, "erc_profile");
    if (warmup < 0) warmup = on == Device::cuda ? 3 : 1;
    if (repeats == 0) repeats = on == Device::cuda ? 20 : 3;
    ERC_CHECK(!tf32 || on == Device::cuda, "--tf32 is for the GPU's GEMMs; this profile runs on the CPU");
    ERC_CHECK(!wavlm_bf16 || on == Device::cuda, "--wavlm-bf16 is for the GPU's GEMMs; this profile runs on the CPU");
    ops::use_tf32_gemms(tf32);
    apps::set_threads(threads);
    Run run{device_name(on), false, warmup, repeats};
#ifdef ERC_WITH_CUDA
    run.simulated = on == Device::cuda && cuda::simulated();
#endif
    if (run.simulated) {  // small shapes unless asked for others (the simulator's device memory counts are real)
      if (app.get_option("--frames")->count() == 0) frames = 100;
      if (app.get_option("--d-model")->count() == 0) d_model = 32;
      run.warmup = 0, run.repeats = 1;
      std::printf(
          "SIM build: every kernel runs once on erc's CUDA simulator at T %lld, D %lld; the times below are "
          "the simulator's, not a GPU's\n",
          static_cast<long long>(frames), static_cast<long long>(d_model));
    }
    const Shapes s = shapes_for(frames, d_model);
    const Ceilings ceilings = measure_ceilings(on, run.simulated, run.warmup, run.repeats);
    std::printf("ceilings on %s: copy %.1f GB/s, %s GEMM %.1f GFLOP/s\n", run.device_name.c_str(),
                ceilings.copy_gb_per_s, tf32 ? "TF32" : "FP32", ceilings.gemm_gflop_per_s);
    nlohmann::json report = {
        {"device", run.device_name},
        {"simulated", run.simulated},
        {"tf32", tf32},
        {"shapes", {{"T", s.T}, {"D", s.D}, {"E", s.E}, {"N", s.N}, {"U", s.U}}},
        {"warmup", run.warmup},
        {"repeats", run.repeats},
        {"ceilings", {{"copy_gb_per_s", ceilings.copy_gb_per_s}, {"gemm_gflop_per_s", ceilings.gemm_gflop_per_s}}}};
    report["step"] = profile_step(s, on, run, recompute_layers);
    if (!step_only) {
      std::printf("\nops at T %lld, D %lld, E %lld, N %lld, U %lld (bytes and FLOPs as counted in erc_profile.cpp)\n",
                  static_cast<long long>(s.T), static_cast<long long>(s.D), static_cast<long long>(s.E),
                  static_cast<long long>(s.N), static_cast<long long>(s.U));
      for (OpCase& op : op_cases(s, on)) report["ops"].push_back(profile_op(op, on, run, ceilings));
    }
    if (!no_wavlm) {
      // WavLM-Large to layer 21 on a 10 s clip and on a dialogue of eight utterances (49 s); in the simulator a
      // tiny WavLM on 1 s and on three utterances, one of them a single frame.
      nn::WavLMConfig config;
      int64_t layer = 21;
      std::vector<int64_t> clip = {160000}, dialogue = {32000, 48000, 64000, 96000, 112000, 128000, 144000, 160000};
      if (!wavlm_config.empty()) {
        config = nn::load_wavlm_config(wavlm_config);
        layer = std::min(layer, config.num_hidden_layers);
      } else if (run.simulated) {
        config.hidden_size = 64, config.num_hidden_layers = 2, config.num_attention_heads = 2;
        config.intermediate_size = 128, config.conv_dim = std::vector<int64_t>(7, 32);
        config.num_conv_pos_embeddings = 16, config.num_conv_pos_embedding_groups = 4;
        layer = 2;
      }
      if (run.simulated) clip = {16000}, dialogue = {8000, config.min_samples(), 12000};
      report["wavlm"].push_back(profile_wavlm(config, layer, clip, "one utterance", wavlm_bf16, on, run, ceilings));
      report["wavlm"].push_back(
          profile_wavlm(config, layer, dialogue, "one dialogue's batch", wavlm_bf16, on, run, ceilings));
    }
    if (!json_path.empty()) write_file_atomically(json_path, report.dump(2) + "\n");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "erc_profile: %s\n", e.what());
    return 1;
  }
}
