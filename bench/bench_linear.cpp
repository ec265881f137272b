// Linear forward + backward through erc's autograd against the same three GEMMs called on cblas_sgemm directly:
// what the op layer (allocation, bias, graph, dbias reduction) costs on top of BLAS.
//
// x [15000, 1024] (an IEMOCAP-length conversation of WavLM frames), W [256, 1024], bias [256], f32, x and W and
// bias requiring grad. GEMMs: y = x W^T, dx = g W, dW = g^T x, each 2 * 15000 * 1024 * 256 flops.
// Usage: bench_linear [repetitions]   (threads: OMP_NUM_THREADS / OPENBLAS_NUM_THREADS, default all cores)
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "autograd/backward.h"
#include "bench_util.h"
#include "io/progress.h"
#include "ops/matmul.h"
#include "tensor/random.h"

using namespace erc;
using erc::bench::median;

static double time_ms(const std::function<void()>& f) {
  const Stopwatch time;
  f();
  return time.ms();
}

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 10;
  const int warmup = 2;
  const int64_t T = 15000, F = 1024, D = 256;
  Generator gen(7);
  Tensor x = rand({T, F}, gen, DType::f32, -1, 1).set_requires_grad(true);
  Tensor w = rand({D, F}, gen, DType::f32, -0.03, 0.03).set_requires_grad(true);
  Tensor b = rand({D}, gen, DType::f32, -0.03, 0.03).set_requires_grad(true);
  Tensor g = rand({T, D}, gen, DType::f32, -1, 1);

  auto erc_step = [&] {
    zero_grad({x, w, b});
    backward(ops::linear(x, w, b), g);
  };
  // The same three GEMMs into buffers allocated once.
  std::vector<float> y(size_t(T * D)), dx(size_t(T * F)), dw(size_t(D * F));
  const float* px = x.detach().data<float>();
  const float* pw = w.detach().data<float>();
  const float* pg = g.data<float>();
  auto plain_step = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, D, F, 1.0f, px, F, pw, F, 0.0f, y.data(), D);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, F, D, 1.0f, pg, D, pw, F, 0.0f, dx.data(), F);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, D, F, T, 1.0f, pg, D, px, F, 0.0f, dw.data(), F);
  };

  for (int i = 0; i < warmup; ++i) {
    erc_step();
    plain_step();
  }
  std::vector<double> erc_ms, plain_ms;
  for (int i = 0; i < reps; ++i) {  // interleaved, so drifts in machine load hit both alike
    erc_ms.push_back(time_ms(erc_step));
    plain_ms.push_back(time_ms(plain_step));
  }
  const double gflop = 3.0 * 2.0 * double(T) * double(F) * double(D) * 1e-9;
  const double erc_med = median(erc_ms), plain_med = median(plain_ms);
  const double erc_rate = gflop / (erc_med * 1e-3), plain_rate = gflop / (plain_med * 1e-3);
  std::printf("linear fwd+bwd  x [%lld, %lld]  W [%lld, %lld] + bias  f32  (%.2f GFLOP in 3 GEMMs)\n", (long long)T,
              (long long)F, (long long)D, (long long)F, gflop);
  std::printf("threads: OpenMP %d, OpenBLAS %d; median of %d after %d warm-up\n", omp_get_max_threads(),
              openblas_get_num_threads(), reps, warmup);
  std::printf("%-28s %10s %10s\n", "", "median ms", "GFLOP/s");
  std::printf("%-28s %10.1f %10.1f\n", "erc linear (autograd)", erc_med, erc_rate);
  std::printf("%-28s %10.1f %10.1f\n", "plain cblas_sgemm x3", plain_med, plain_rate);
  std::printf("ratio erc / plain sgemm rate: %.1f%% (goal >= 50%%)\n", 100.0 * erc_rate / plain_rate);
  return 0;
}
