// layer_norm's CPU fast path for AVX2 (ops/layer_norm_cpu.h), compiled with -mavx2 -mfma. Doubles, 4 lanes.
#include <immintrin.h>

#include "ops/layer_norm_cpu.h"

namespace erc::ops::layer_norm_cpu {

namespace {

__m256d load_as_double(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }

// Σ f(j) over j < D, for f giving 4 lanes (j, j + 1, j + 2, j + 3) and tail(j) one: four accumulators of 4 lanes
// over 16 elements at a time, then lanes and accumulators added in one fixed order, then the tail.
template <typename F, typename Tail>
double row_sum(int64_t D, F&& f, Tail&& tail) {
  __m256d acc[4] = {_mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd()};
  int64_t j = 0;
  for (; j + 16 <= D; j += 16)
    for (int k = 0; k < 4; ++k) acc[k] = _mm256_add_pd(acc[k], f(j + 4 * k));
  for (; j + 4 <= D; j += 4) acc[0] = _mm256_add_pd(acc[0], f(j));
  const __m256d all = _mm256_add_pd(_mm256_add_pd(acc[0], acc[1]), _mm256_add_pd(acc[2], acc[3]));
  const __m128d pair = _mm_add_pd(_mm256_castpd256_pd128(all), _mm256_extractf128_pd(all, 1));
  double sum = _mm_cvtsd_f64(_mm_add_sd(pair, _mm_unpackhi_pd(pair, pair)));
  for (; j < D; ++j) sum += tail(j);
  return sum;
}

void forward(const float* x, const float* w, const float* b, int64_t rows, int64_t D, double eps, float* y,
             double* mean, double* rstd) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * D;
    float* yr = y + r * D;
    auto value = [&](int64_t j) { return load_as_double(xr + j); };
    const double m = row_sum(D, value, [&](int64_t j) { return double(xr[j]); }) / double(D);
    const __m256d mv = _mm256_set1_pd(m);
    const double sq = row_sum(
        D,
        [&](int64_t j) {
          const __m256d d = _mm256_sub_pd(load_as_double(xr + j), mv);
          return _mm256_mul_pd(d, d);
        },
        [&](int64_t j) { return (double(xr[j]) - m) * (double(xr[j]) - m); });
    const double s = 1.0 / _mm_cvtsd_f64(_mm_sqrt_pd(_mm_set_sd(sq / double(D) + eps)));  // std::sqrt's rounding
    const __m256d sv = _mm256_set1_pd(s);
    int64_t j = 0;
    // The reference's (x - m) s w + b, rounded after each operation (no FMA).
    for (; j + 4 <= D; j += 4) {
      const __m256d xhat = _mm256_mul_pd(_mm256_sub_pd(load_as_double(xr + j), mv), sv);
      _mm_storeu_ps(yr + j,
                    _mm256_cvtpd_ps(_mm256_add_pd(_mm256_mul_pd(xhat, load_as_double(w + j)), load_as_double(b + j))));
    }
    for (; j < D; ++j) {
      const double xhat = (double(xr[j]) - m) * s, scaled = xhat * double(w[j]);
      yr[j] = float(scaled + double(b[j]));
    }
    mean[r] = m;
    rstd[r] = s;
  }
}

void backward(const float* x, const float* w, const float* g, const double* mean, const double* rstd, int64_t rows,
              int64_t D, float* dx, double* acc_w, double* acc_b) {
  for (int64_t r = 0; r < rows; ++r) {
    const float *xr = x + r * D, *gr = g + r * D;
    const double m = mean[r], s = rstd[r];
    const __m256d mv = _mm256_set1_pd(m), sv = _mm256_set1_pd(s);
    auto xhat = [&](int64_t j) { return _mm256_mul_pd(_mm256_sub_pd(load_as_double(xr + j), mv), sv); };
    auto g_hat = [&](int64_t j) { return _mm256_mul_pd(load_as_double(gr + j), load_as_double(w + j)); };
    const double sum_gh = row_sum(D, g_hat, [&](int64_t j) { return double(gr[j]) * double(w[j]); });
    const double sum_gh_xhat = row_sum(
        D, [&](int64_t j) { return _mm256_mul_pd(g_hat(j), xhat(j)); },
        [&](int64_t j) { return double(gr[j]) * double(w[j]) * ((double(xr[j]) - m) * s); });
    // dweight's and dbias's sums run down the rows: each element as the reference adds it.
    int64_t j = 0;
    for (; j + 4 <= D; j += 4) {
      const __m256d gg = load_as_double(gr + j);
      _mm256_storeu_pd(acc_w + j, _mm256_add_pd(_mm256_loadu_pd(acc_w + j), _mm256_mul_pd(gg, xhat(j))));
      _mm256_storeu_pd(acc_b + j, _mm256_add_pd(_mm256_loadu_pd(acc_b + j), gg));
    }
    for (; j < D; ++j) {
      acc_w[j] += double(gr[j]) * ((double(xr[j]) - m) * s);
      acc_b[j] += double(gr[j]);
    }
    if (dx == nullptr) continue;
    // ops/layer_norm_cuda.h's layer_norm_dx: rstd (ĝ - mean(ĝ) - x̂ mean(ĝ x̂)), rounded after each operation.
    const double mean_gh = sum_gh / double(D), mean_gh_xhat = sum_gh_xhat / double(D);
    const __m256d mg = _mm256_set1_pd(mean_gh), mgx = _mm256_set1_pd(mean_gh_xhat);
    float* dxr = dx + r * D;
    for (j = 0; j + 4 <= D; j += 4) {
      const __m256d inner = _mm256_sub_pd(_mm256_sub_pd(g_hat(j), mg), _mm256_mul_pd(xhat(j), mgx));
      _mm_storeu_ps(dxr + j, _mm256_cvtpd_ps(_mm256_mul_pd(sv, inner)));
    }
    for (; j < D; ++j) {
      const double gh = double(gr[j]) * double(w[j]), xh = (double(xr[j]) - m) * s;
      const double product = xh * mean_gh_xhat, inner = (gh - mean_gh) - product;
      dxr[j] = float(s * inner);
    }
  }
}

}  // namespace

Kernels avx2() { return {forward, backward}; }

}  // namespace erc::ops::layer_norm_cpu
