// The one door to OpenBLAS: a row-major GEMM for f32 and f64 with transposes and leading dimensions, shared by
// matmul/linear and conv1d.
#pragma once
#include <cblas.h>

#include <climits>
#include <type_traits>

#include "tensor/check.h"

namespace erc::ops::blas {

inline int blas_int(int64_t v, const char* op) {
  ERC_CHECK(v <= INT_MAX, op, ": dimension ", v, " exceeds what BLAS indexes with a 32-bit int");
  return int(v);
}

// c [M, N] (leading dimension ldc) = op(a) op(b) + beta c, op(a) [M, K], op(b) [K, N]; ta / tb say whether the
// stored row-major matrices are to be transposed.
template <typename T>
void gemm(const char* op, bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T* a, int64_t lda, const T* b,
          int64_t ldb, T beta, T* c, int64_t ldc) {
  if (M == 0 || N == 0) return;
  const CBLAS_TRANSPOSE ca = ta ? CblasTrans : CblasNoTrans, cb = tb ? CblasTrans : CblasNoTrans;
  const int m = blas_int(M, op), n = blas_int(N, op), k = blas_int(K, op);
  const int la = blas_int(lda, op), lb = blas_int(ldb, op), lc = blas_int(ldc, op);
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, ca, cb, m, n, k, 1.0f, a, la, b, lb, beta, c, lc);
  else
    cblas_dgemm(CblasRowMajor, ca, cb, m, n, k, 1.0, a, la, b, lb, beta, c, lc);
}

}  // namespace erc::ops::blas
