#include <climits>

#include "cuda/blas.h"
#include "cuda/check.h"
#include "cuda/timeline.h"
#include "ops/matmul_cuda.h"

namespace erc::ops::cuda {

namespace {

int blas_int(int64_t v) {
  ERC_CHECK(v >= 0 && v <= INT_MAX, "matmul: dimension ", v, " exceeds what cuBLAS indexes with a 32-bit int");
  return int(v);
}

}  // namespace

void gemm(DType dtype, bool ta, bool tb, int64_t M, int64_t N, int64_t K, const void* a, int64_t lda, int64_t stride_a,
          const void* b, int64_t ldb, int64_t stride_b, double beta, void* c, int64_t ldc, int64_t stride_c,
          int64_t batch) {
  ERC_CHECK(dtype == DType::f32 || dtype == DType::f64 || dtype == DType::bf16,
            "matmul: expected f32, f64 or bf16 operands on the device, got ", dtype_name(dtype));
  if (M == 0 || N == 0 || batch == 0) return;
  const cublasOperation_t op_a = ta ? CUBLAS_OP_T : CUBLAS_OP_N, op_b = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int m = blas_int(N), n = blas_int(M), k = blas_int(K), la = blas_int(lda), lb = blas_int(ldb),
            lc = blas_int(ldc), count = blas_int(batch);
  cublasHandle_t handle = erc::cuda::blas_handle();
  const bool timed = erc::cuda::KernelTimeline::recording();
  if (timed) erc::cuda::KernelTimeline::begin(dtype == DType::f32   ? "cublas_gemm<float>"
                                              : dtype == DType::f64 ? "cublas_gemm<double>"
                                                                    : "cublas_gemm<bf16>");
  const float alpha_f = 1.0f, beta_f = float(beta);
  if (dtype == DType::f32) {
    ERC_CUBLAS_CHECK(cublasSgemmStridedBatched(handle, op_b, op_a, m, n, k, &alpha_f, static_cast<const float*>(b), lb,
                                               stride_b, static_cast<const float*>(a), la, stride_a, &beta_f,
                                               static_cast<float*>(c), lc, stride_c, count));
  } else if (dtype == DType::f64) {
    const double alpha = 1.0;
    ERC_CUBLAS_CHECK(cublasDgemmStridedBatched(handle, op_b, op_a, m, n, k, &alpha, static_cast<const double*>(b), lb,
                                               stride_b, static_cast<const double*>(a), la, stride_a, &beta,
                                               static_cast<double*>(c), lc, stride_c, count));
  } else {
    ERC_CUBLAS_CHECK(cublasGemmStridedBatchedEx(handle, op_b, op_a, m, n, k, &alpha_f, b, CUDA_R_16BF, lb, stride_b, a,
                                                CUDA_R_16BF, la, stride_a, &beta_f, c, CUDA_R_32F, lc, stride_c, count,
                                                CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  }
  if (timed) erc::cuda::KernelTimeline::end();
}

}  // namespace erc::ops::cuda
