// The CUDA face of ops/matmul: GEMMs through cuBLAS (ops/matmul.cu), called by ops/matmul.cpp.
#pragma once
#include <cstdint>

#include "tensor/dtype.h"

namespace erc::ops::cuda {

// For each of `batch` products, `stride_*` elements apart: c [M, N] (row-major, leading dimension ldc) =
// op(a) op(b) + beta c, where op(a) [M, K] and op(b) [K, N] are the stored row-major matrices, transposed where ta /
// tb say. a and b are device addresses of `dtype` elements: f32 or f64, with c the same; or bf16 (uint16_t bit
// patterns), with c in f32: tensor cores multiply the bf16 pairs exactly and accumulate in f32 (CUBLAS_COMPUTE_32F).
// cuBLAS is column-major: the row-major product is computed as the column-major c^T = op(b)^T op(a)^T, which reads
// the same memory with the operands swapped.
void gemm(DType dtype, bool ta, bool tb, int64_t M, int64_t N, int64_t K, const void* a, int64_t lda, int64_t stride_a,
          const void* b, int64_t ldb, int64_t stride_b, double beta, void* c, int64_t ldc, int64_t stride_c,
          int64_t batch);

}  // namespace erc::ops::cuda
