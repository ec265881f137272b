// Every CUDA runtime call and every kernel launch is checked, and a failure names the statement, file and line.
#pragma once
#include <cuda_runtime.h>

#include "tensor/check.h"

// ERC_CUDA_CHECK(cudaMemcpy(...)): throws erc::Error with cudaGetErrorString and the statement text.
#define ERC_CUDA_CHECK(stmt)                                                                            \
  do {                                                                                                  \
    cudaError_t erc_cuda_status_ = (stmt);                                                              \
    ERC_CHECK(erc_cuda_status_ == cudaSuccess, "CUDA error ", cudaGetErrorName(erc_cuda_status_), " (", \
              cudaGetErrorString(erc_cuda_status_), ") in `", #stmt, "`");                              \
  } while (0)

// After a <<<...>>> launch: catches bad launch configurations at the launch site rather than at the next sync.
#define ERC_CUDA_CHECK_LAUNCH() ERC_CUDA_CHECK(cudaGetLastError())
