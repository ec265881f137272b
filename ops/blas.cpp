#include "ops/blas.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <climits>
#include <type_traits>

#include "tensor/check.h"

namespace erc::ops::blas {

namespace {

int blas_int(int64_t v, const char* op) {
  ERC_CHECK(v <= INT_MAX, op, ": dimension ", v, " exceeds what BLAS indexes with a 32-bit int");
  return int(v);
}

template <typename T>
void tile_gemm(bool ta, bool tb, int m, int n, int k, const T* a, int lda, const T* b, int ldb, T beta, T* c, int ldc) {
  const CBLAS_TRANSPOSE ca = ta ? CblasTrans : CblasNoTrans, cb = tb ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, ca, cb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
  else
    cblas_dgemm(CblasRowMajor, ca, cb, m, n, k, 1.0, a, lda, b, ldb, beta, c, ldc);
}

// OpenBLAS's OpenMP build runs a call on one thread only from inside an active parallel region or when the
// calling task's OpenMP thread count (omp_get_max_threads) is 1; otherwise it threads the call itself. This sets
// that count to 1 for the scope of a serial stretch of calls and puts it back.
class OneOpenMpThread {
 public:
  OneOpenMpThread() : saved_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~OneOpenMpThread() { omp_set_num_threads(saved_); }
  OneOpenMpThread(const OneOpenMpThread&) = delete;
  OneOpenMpThread& operator=(const OneOpenMpThread&) = delete;

 private:
  int saved_;
};

}  // namespace

template <typename T>
void gemm(const char* op, bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T* a, int64_t lda, const T* b,
          int64_t ldb, T beta, T* c, int64_t ldc) {
  if (M == 0 || N == 0) return;
  const int k = blas_int(K, op), la = blas_int(lda, op), lb = blas_int(ldb, op), lc = blas_int(ldc, op);
  const int64_t row_tiles = (M + kTileRows - 1) / kTileRows, col_tiles = (N + kTileCols - 1) / kTileCols;
  const int64_t tiles = row_tiles * col_tiles;
  // Tile t's rows of op(a) start at row i0 of a (its column i0 when a is stored transposed); likewise b's columns.
  auto run_tile = [&](int64_t t) {
    const int64_t i0 = t / col_tiles * kTileRows, j0 = t % col_tiles * kTileCols;
    const int m = int(std::min(kTileRows, M - i0)), n = int(std::min(kTileCols, N - j0));
    tile_gemm<T>(ta, tb, m, n, k, a + (ta ? i0 : i0 * lda), la, b + (tb ? j0 * ldb : j0), lb, beta, c + i0 * ldc + j0,
                 lc);
  };
  if (omp_in_parallel()) {  // a caller's parallel task: OpenBLAS stays on this thread
    for (int64_t t = 0; t < tiles; ++t) run_tile(t);
    return;
  }
  if (tiles == 1 || double(M) * double(N) * double(K) <= 262144.0) {  // not worth a thread's start-up
    const OneOpenMpThread one;
    for (int64_t t = 0; t < tiles; ++t) run_tile(t);
    return;
  }
#pragma omp parallel
  {
    const OneOpenMpThread one;  // this thread's own count: a team of one is not an active region
#pragma omp for schedule(dynamic)
    for (int64_t t = 0; t < tiles; ++t) run_tile(t);
  }
}

template void gemm<float>(const char*, bool, bool, int64_t, int64_t, int64_t, const float*, int64_t, const float*,
                          int64_t, float, float*, int64_t);
template void gemm<double>(const char*, bool, bool, int64_t, int64_t, int64_t, const double*, int64_t, const double*,
                           int64_t, double, double*, int64_t);

}  // namespace erc::ops::blas
