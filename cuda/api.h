// CUDA's runtime and cuBLAS APIs as erc's CUDA code sees them: the toolkit's own headers in a CUDA build, the
// simulator's stand-ins (cuda/sim/) in a SIM build. Code above this line is the same in both.
#pragma once
#ifdef ERC_CUDA_SIM
#include "cuda/sim/cublas_api.h"
#include "cuda/sim/runtime_api.h"
#else
#include <cublas_v2.h>
#include <cuda_runtime.h>
#endif
