// The one door to OpenBLAS: a row-major GEMM for f32 and f64 with transposes and leading dimensions, shared by
// matmul/linear, conv1d and attention.
//
// erc, not OpenBLAS, decides how a GEMM is shared between threads, so that no bit depends on the thread count.
// OpenBLAS's own threading splits a GEMM where the thread count says, and an element's bits depend on where the split
// falls (Haswell and Zen kernels: 7,283 of 102,400 conv1d outputs moved at 2 threads against 1; a weight gradient
// [32, 48] summed over 480 frames moved on every kernel). Here the output is cut into fixed tiles of kTileRows x
// kTileCols, whose edges depend on the shape alone; each tile is one single-threaded OpenBLAS call, and OpenMP runs
// the tiles in parallel. Called from inside a parallel region (a
// conv1d task, an attention row block), the tiles run one after another on that thread: the same calls, the same
// bits. What a result may still depend on is the BLAS kernel itself (OPENBLAS_CORETYPE, i.e. the CPU): docs/TESTING.md.
#pragma once
#include <cstdint>

namespace erc::ops::blas {

constexpr int64_t kTileRows = 256, kTileCols = 256;

// c [M, N] (leading dimension ldc) = op(a) op(b) + beta c, op(a) [M, K], op(b) [K, N]; ta / tb say whether the
// stored row-major matrices are to be transposed.
template <typename T>
void gemm(const char* op, bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T* a, int64_t lda, const T* b,
          int64_t ldb, T beta, T* c, int64_t ldc);

}  // namespace erc::ops::blas
