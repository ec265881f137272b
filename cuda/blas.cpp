#include "cuda/blas.h"

#include "cuda/check.h"
#include "cuda/stream.h"

namespace erc::cuda {

cublasHandle_t blas_handle() {
  static cublasHandle_t handle = [] {
    cublasHandle_t made = nullptr;
    ERC_CUBLAS_CHECK(cublasCreate(&made));
    ERC_CUBLAS_CHECK(cublasSetStream(made, stream()));
    ERC_CUBLAS_CHECK(cublasSetMathMode(made, CUBLAS_DEFAULT_MATH));
    return made;
  }();
  return handle;
}

void use_tf32(bool on) {
  ERC_CUBLAS_CHECK(cublasSetMathMode(blas_handle(), on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
}

}  // namespace erc::cuda
