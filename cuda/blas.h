// erc's cuBLAS handle, bound to erc's stream, in FP32 math by default (cuBLAS's full-precision mode: results
// comparable with the CPU's OpenBLAS); use_tf32(true) lets GEMMs use TF32 tensor cores.
#pragma once
#include "cuda/api.h"

namespace erc::cuda {

cublasHandle_t blas_handle();  // made on first use
void use_tf32(bool on);

}  // namespace erc::cuda
