#include "cuda/blas.h"

#include "cuda/check.h"
#include "cuda/stream.h"

namespace erc::cuda {

namespace {
bool tf32_wanted = false;  // the math mode the handle is made with, and kept in
}  // namespace

cublasHandle_t blas_handle() {
  static cublasHandle_t handle = [] {
    cublasHandle_t made = nullptr;
    ERC_CUBLAS_CHECK(cublasCreate(&made));
    ERC_CUBLAS_CHECK(cublasSetStream(made, stream()));
    ERC_CUBLAS_CHECK(cublasSetMathMode(made, tf32_wanted ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    return made;
  }();
  return handle;
}

// Before the first GEMM this only records the mode, so that choosing FP32 on a machine without a GPU touches no
// CUDA library.
void use_tf32(bool on) {
  if (on == tf32_wanted) return;
  tf32_wanted = on;
  ERC_CUBLAS_CHECK(cublasSetMathMode(blas_handle(), on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
}

}  // namespace erc::cuda
