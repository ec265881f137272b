// One training step of the full-size ErcModel (docs/MODEL.md §2-§3) on the CPU, timed in three parts: forward
// with the loss, backward, and the RAdamScheduleFree update. tools/bench/torch_train_step.py times the same step
// in PyTorch eager and tools/bench/run_cpu_step.sh puts the two side by side.
//
// One conversation of T frames (default 14,776, the paper's mean), f32, split into about T / 185 utterances of
// varied lengths (80 at the default), every fourth one unlabelled (-100); train mode, dropout 0.1.
// Usage: bench_train_step [--frames T] [--reps N (default 3)] [--threads K (default: OMP_NUM_THREADS / all cores)]
#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "autograd/backward.h"
#include "bench_util.h"
#include "io/progress.h"
#include "nn/erc_model.h"
#include "ops/cross_entropy.h"
#include "optim/radam_schedule_free.h"
#include "tensor/random.h"

using namespace erc;
using erc::bench::median;
using erc::bench::peak_rss_mib;

namespace {

// Integer arithmetic only, so that torch_train_step.py derives the very same split: weights 40 + (37 u mod 97)
// scaled to sum to T, the remainder spread one frame each over the first utterances.
ops::SeqOffsets utterance_offsets(int64_t T) {
  const int64_t U = std::max<int64_t>(1, (T + 92) / 185);
  auto weight = [](int64_t u) { return 40 + (37 * u) % 97; };
  int64_t weight_sum = 0, assigned = 0;
  for (int64_t u = 0; u < U; ++u) weight_sum += weight(u);
  for (int64_t u = 0; u < U; ++u) assigned += T * weight(u) / weight_sum;
  ops::SeqOffsets offsets{0};
  for (int64_t u = 0; u < U; ++u) offsets.push_back(offsets.back() + T * weight(u) / weight_sum + (u < T - assigned));
  return offsets;
}

int usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s [--frames T] [--reps N] [--threads K]\n", argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t T = 14776;
  int reps = 3, threads = 0;
  for (int i = 1; i < argc; ++i) {
    if (i + 1 >= argc) return usage(argv[0]);
    const long long value = std::atoll(argv[i + 1]);
    if (value < 1) return usage(argv[0]);
    if (!std::strcmp(argv[i], "--frames")) T = value;
    else if (!std::strcmp(argv[i], "--reps")) reps = int(value);
    else if (!std::strcmp(argv[i], "--threads")) threads = int(value);
    else return usage(argv[0]);
    ++i;
  }
  if (threads > 0) {
    omp_set_num_threads(threads);
    openblas_set_num_threads(threads);
  }

  nn::ErcModelConfig config;  // docs/MODEL.md §2: feature_dim 1024, d_model 256, 3 layers, dropout 0.1
  nn::ErcModel model(config, 0);
  model.train();
  optim::RAdamScheduleFree optimizer(model.parameters(), {.lr = 1e-4});
  optimizer.train();

  const ops::SeqOffsets utt_offsets = utterance_offsets(T);
  const int64_t U = int64_t(utt_offsets.size()) - 1;
  std::vector<int64_t> labels;
  int64_t labelled = 0, shortest = T, longest = 0;
  for (int64_t u = 0; u < U; ++u) {
    labels.push_back(u % 4 == 3 ? -100 : u % config.n_classes);
    labelled += labels.back() != -100;
    shortest = std::min(shortest, utt_offsets[size_t(u + 1)] - utt_offsets[size_t(u)]);
    longest = std::max(longest, utt_offsets[size_t(u + 1)] - utt_offsets[size_t(u)]);
  }
  Generator gen(1);
  const Tensor features = randn({T, config.feature_dim}, gen);
  const Tensor targets = Tensor::from_vector(labels, {U});
  const ops::SeqOffsets seq_offsets = ops::one_sequence(T);

  std::printf("erc train step: ErcModel (%lld parameters, d_model %lld, %lld layers, dropout %.1f, train mode), f32, "
              "CPU\n",
              (long long)model.parameter_count(), (long long)config.mamba.d_model, (long long)config.n_layers,
              config.dropout);
  std::printf("conversation: T %lld frames, %lld utterances (%lld labelled, lengths %lld..%lld), features [%lld, %lld]\n",
              (long long)T, (long long)U, (long long)labelled, (long long)shortest, (long long)longest, (long long)T,
              (long long)config.feature_dim);
  std::printf("optimiser: RAdamScheduleFree lr 1e-4 (train mode); threads: OpenMP %d, OpenBLAS %d\n",
              omp_get_max_threads(), openblas_get_num_threads());

  std::vector<double> forward_ms, backward_ms, step_ms, total_ms;
  for (int rep = 0; rep <= reps; ++rep) {  // repetition 0 warms up
    Stopwatch time;
    Tensor loss = ops::cross_entropy(model.forward(features, seq_offsets, utt_offsets), targets);
    const float loss_value = loss.item<float>();
    const double fwd = time.ms();
    time.restart();
    backward(loss);
    // PyTorch frees the graph inside backward(); erc frees it when its last handle goes, so count that here.
    loss = Tensor();
    const double bwd = time.ms();
    time.restart();
    optimizer.step();
    optimizer.zero_grad();
    const double opt = time.ms();
    std::printf("  %s %d: loss %.4f  forward %.1f ms  backward %.1f ms  step %.1f ms\n", rep ? "rep" : "warm-up",
                rep, loss_value, fwd, bwd, opt);
    std::fflush(stdout);
    if (rep == 0) continue;
    forward_ms.push_back(fwd);
    backward_ms.push_back(bwd);
    step_ms.push_back(opt);
    total_ms.push_back(fwd + bwd + opt);
  }

  const double fwd = median(forward_ms), bwd = median(backward_ms), opt = median(step_ms), total = median(total_ms);
  const double frames_per_s = double(T) / (total * 1e-3);
  std::printf("median of %d after 1 warm-up:\n", reps);
  std::printf("  forward + loss         %10.1f ms\n", fwd);
  std::printf("  backward               %10.1f ms\n", bwd);
  std::printf("  optimiser step         %10.1f ms\n", opt);
  std::printf("  whole step             %10.1f ms   %.0f frames/s\n", total, frames_per_s);
  std::printf("  peak RSS               %10.1f MiB\n", peak_rss_mib());
  std::printf("RESULT erc frames=%lld threads=%d forward_ms=%.1f backward_ms=%.1f step_ms=%.1f total_ms=%.1f "
              "frames_per_s=%.1f peak_rss_mib=%.0f\n",
              (long long)T, omp_get_max_threads(), fwd, bwd, opt, total, frames_per_s, peak_rss_mib());
  return 0;
}
