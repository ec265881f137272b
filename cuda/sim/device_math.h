// The math library as kernels see it in a SIM build. Every SIM program is linked with --wrap for the libm functions
// that kernels call (cuda/CMakeLists.txt), so that a call from a kernel comes here first; a call from host code gets
// libm's result untouched.
// - exact (the default): libm's result, as the CPU's reference gets it.
// - ulp (ERC_SIM_MATH=ulp): libm's result moved by CUDA's documented maximum error for the function (the CUDA C++
//   Programming Guide's tables of maximum ulp error: expf 2, logf 1, log1pf 1, sinf and cosf 2, tanhf 2, erff 2,
//   powf 4; exp, log, log1p 1, sin, cos, tanh, erf, pow 2, ...), up or down as a hash of the argument says: every
//   device transcendental as far off as a GPU's may be, so that a test's tolerance is shown to hold at the bound.
#pragma once

namespace erc::sim {

enum class MathMode { exact, ulp };
void set_math(MathMode mode);
MathMode math();

}  // namespace erc::sim
