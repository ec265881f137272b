#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "cuda/sim/cublas_api.h"
#include "cuda/sim/device_memory.h"
#include "cuda/sim/device_state.h"
#include "cuda/sim/memory_check.h"

struct SimCublas {
  cudaStream_t stream = nullptr;
  cublasMath_t mode = CUBLAS_DEFAULT_MATH;
};

namespace {

constexpr int kBlockK = 32;

float to_tf32(float x) {  // 10 explicit mantissa bits, to nearest even; infinities and NaN kept
  if (!std::isfinite(x)) return x;
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  bits += 0xfffu + ((bits >> 13) & 1u);
  bits &= ~0x1fffu;
  std::memcpy(&x, &bits, 4);
  return x;
}

// Whether the columns of a column-major matrix [rows, cols] (leading dimension ld) lie in device memory in use and
// were written: each column is a run of `rows` elements.
template <typename T>
bool reads_matrix(const T* m, int rows, int cols, int ld, const char* what) {
  for (int j = 0; j < cols; ++j)
    if (!erc::sim::library_reads(m + int64_t(j) * ld, size_t(rows) * sizeof(T), what)) return false;
  return true;
}

// A bf16 element as cuBLAS reads it from device memory: the upper half of a float's bits.
struct Bf16 {
  uint16_t bits;
};
float widen(Bf16 x) {
  const uint32_t bits = uint32_t(x.bits) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
template <typename T>
T widen(T x) {
  return x;
}

// C = alpha op(A) op(B) + beta C for one batch, column-major; A and B hold `In` (T, or bf16 for a float T).
template <typename In, typename T>
void product(bool ta, bool tb, int m, int n, int k, T alpha, const In* A, int lda, const In* B, int ldb, T beta, T* C,
             int ldc, bool tf32) {
  auto round = [tf32](T v) {
    if constexpr (std::is_same_v<T, float> && std::is_same_v<In, float>) return tf32 ? to_tf32(v) : v;
    return v;
  };
#pragma omp parallel for schedule(static) if (int64_t(m) * n * k > 1 << 20)
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      T acc = 0;
      for (int l0 = 0; l0 < k; l0 += kBlockK) {
        T part = 0;
        for (int l = l0; l < std::min(k, l0 + kBlockK); ++l) {
          const T a = widen(ta ? A[l + int64_t(i) * lda] : A[i + int64_t(l) * lda]);
          const T b = widen(tb ? B[j + int64_t(l) * ldb] : B[l + int64_t(j) * ldb]);
          part = std::fma(round(a), round(b), part);
        }
        acc += part;
      }
      T& c = C[i + int64_t(j) * ldc];
      c = beta == T(0) ? alpha * acc : std::fma(alpha, acc, beta * c);
    }
}

// One column-major GEMM per batch, after cuBLAS's own argument checks. The three matrices are device memory: opened
// for the call, as a kernel's arguments are, and checked as a kernel's reads are.
template <typename In, typename T>
cublasStatus_t gemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k,
                    const T* alpha, const In* A, int lda, long long stride_a, const In* B, int ldb, long long stride_b,
                    const T* beta, T* C, int ldc, long long stride_c, int batch_count) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  const bool ta = transa == CUBLAS_OP_T, tb = transb == CUBLAS_OP_T;
  if ((transa != CUBLAS_OP_N && !ta) || (transb != CUBLAS_OP_N && !tb) || m < 0 || n < 0 || k < 0 || batch_count < 0 ||
      lda < std::max(1, ta ? k : m) || ldb < std::max(1, tb ? n : k) || ldc < std::max(1, m))
    return CUBLAS_STATUS_INVALID_VALUE;
  erc::sim::run_waiting_copies();
  // Nothing runs on a device that faulted; the fault surfaces at the next synchronisation.
  if (m == 0 || n == 0 || batch_count == 0 || erc::sim::device_lost()) return CUBLAS_STATUS_SUCCESS;
  std::vector<uintptr_t> buffers;
  for (int b = 0; b < batch_count; ++b) {
    buffers.push_back(reinterpret_cast<uintptr_t>(A + b * stride_a));
    buffers.push_back(reinterpret_cast<uintptr_t>(B + b * stride_b));
    buffers.push_back(reinterpret_cast<uintptr_t>(C + b * stride_c));
  }
  erc::sim::OpenBuffers open(buffers);
  const bool tf32 = handle->mode == CUBLAS_TF32_TENSOR_OP_MATH;
  for (int b = 0; b < batch_count; ++b) {
    const In *a = A + b * stride_a, *bm = B + b * stride_b;
    T* c = C + b * stride_c;
    if (k > 0 && (!reads_matrix(a, ta ? k : m, ta ? m : k, lda, "cuBLAS GEMM, matrix A") ||
                  !reads_matrix(bm, tb ? n : k, tb ? k : n, ldb, "cuBLAS GEMM, matrix B")))
      return CUBLAS_STATUS_SUCCESS;  // the fault surfaces at the next synchronisation, as a kernel's
    if (*beta != T(0) && !reads_matrix(c, m, n, ldc, "cuBLAS GEMM, matrix C (beta is not 0)"))
      return CUBLAS_STATUS_SUCCESS;
    product(ta, tb, m, n, k, *alpha, a, lda, bm, ldb, *beta, c, ldc, tf32);
    for (int j = 0; j < n; ++j) erc::sim::library_writes(c + int64_t(j) * ldc, size_t(m) * sizeof(T));
  }
  return CUBLAS_STATUS_SUCCESS;
}

}  // namespace

cublasStatus_t cublasCreate(cublasHandle_t* handle) {
  *handle = new SimCublas;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->mode = mode;
  return CUBLAS_STATUS_SUCCESS;
}

const char* cublasGetStatusName(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}
const char* cublasGetStatusString(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "success";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized";
    case CUBLAS_STATUS_INVALID_VALUE: return "an invalid numeric value was used as an argument";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "the GPU program failed to execute";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "the functionality requested is not supported";
  }
  return "unknown error";
}

cublasStatus_t cublasSgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const float* alpha, const float* A, int lda, const float* B, int ldb, const float* beta,
                           float* C, int ldc) {
  return gemm(h, ta, tb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
}
cublasStatus_t cublasDgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const double* alpha, const double* A, int lda, const double* B, int ldb, const double* beta,
                           double* C, int ldc) {
  return gemm(h, ta, tb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
}
cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                         int k, const float* alpha, const float* A, int lda, long long sa,
                                         const float* B, int ldb, long long sb, const float* beta, float* C, int ldc,
                                         long long sc, int batch_count) {
  return gemm(h, ta, tb, m, n, k, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch_count);
}
cublasStatus_t cublasDgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                         int k, const double* alpha, const double* A, int lda, long long sa,
                                         const double* B, int ldb, long long sb, const double* beta, double* C, int ldc,
                                         long long sc, int batch_count) {
  return gemm(h, ta, tb, m, n, k, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch_count);
}
cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                          int k, const void* alpha, const void* A, cudaDataType a_type, int lda,
                                          long long sa, const void* B, cudaDataType b_type, int ldb, long long sb,
                                          const void* beta, void* C, cudaDataType c_type, int ldc, long long sc,
                                          int batch_count, cublasComputeType_t compute_type, cublasGemmAlgo_t algo) {
  if (c_type != CUDA_R_32F || a_type != b_type || (a_type != CUDA_R_32F && a_type != CUDA_R_16BF) ||
      compute_type != CUBLAS_COMPUTE_32F || algo != CUBLAS_GEMM_DEFAULT)
    return CUBLAS_STATUS_NOT_SUPPORTED;
  const float *alpha_f = static_cast<const float*>(alpha), *beta_f = static_cast<const float*>(beta);
  float* c = static_cast<float*>(C);
  if (a_type == CUDA_R_32F)
    return gemm(h, ta, tb, m, n, k, alpha_f, static_cast<const float*>(A), lda, sa, static_cast<const float*>(B), ldb,
                sb, beta_f, c, ldc, sc, batch_count);
  return gemm(h, ta, tb, m, n, k, alpha_f, static_cast<const Bf16*>(A), lda, sa, static_cast<const Bf16*>(B), ldb, sb,
              beta_f, c, ldc, sc, batch_count);
}
