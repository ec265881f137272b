// Every CUDA runtime call, cuBLAS call and kernel launch is checked, and a failure names the statement, file and line.
#pragma once
#include "cuda/api.h"
#include "tensor/check.h"

namespace erc::cuda {

// What to do about an error a kernel made before the call that reports it: a fault is asynchronous, so the call that
// returns it is rarely the one at fault.
inline const char* fault_hint(cudaError_t status) {
  const bool asynchronous = status == cudaErrorIllegalAddress || status == cudaErrorLaunchFailure;
  return asynchronous ? " (a fault of a kernel launched earlier: run with CUDA_LAUNCH_BLOCKING=1 to stop at the launch "
                        "that made it)"
                      : "";
}

}  // namespace erc::cuda

// ERC_CUDA_CHECK(cudaMemcpy(...)): throws erc::Error with CUDA's name and description of the error and the statement.
#define ERC_CUDA_CHECK(stmt)                                                                                          \
  do {                                                                                                                \
    cudaError_t erc_cuda_status_ = (stmt);                                                                            \
    ERC_CHECK(erc_cuda_status_ == cudaSuccess, "CUDA error ", cudaGetErrorName(erc_cuda_status_), " (",               \
              cudaGetErrorString(erc_cuda_status_), ") in `", #stmt, "`", ::erc::cuda::fault_hint(erc_cuda_status_)); \
  } while (0)

// ERC_CUBLAS_CHECK(cublasSgemm(...)): the same for cuBLAS's status codes.
#define ERC_CUBLAS_CHECK(stmt)                                                                                       \
  do {                                                                                                               \
    cublasStatus_t erc_cublas_status_ = (stmt);                                                                      \
    ERC_CHECK(erc_cublas_status_ == CUBLAS_STATUS_SUCCESS, "cuBLAS error ", cublasGetStatusName(erc_cublas_status_), \
              " (", cublasGetStatusString(erc_cublas_status_), ") in `", #stmt, "`");                                \
  } while (0)
