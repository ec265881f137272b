// ERC_CUDA_CALL(launcher(...)) calls a CUDA launcher (an op's, an optimiser's) from code compiled in every build. In a
// build without the CUDA backend no device tensor can exist and the launchers are not compiled: the call becomes an
// error (never reached), and the launcher's call is only named inside sizeof, which needs no definition.
#pragma once

namespace erc {

[[noreturn]] void fail_without_cuda(const char* where);

}  // namespace erc

#ifdef ERC_WITH_CUDA
#define ERC_CUDA_CALL(...) __VA_ARGS__
#else
#define ERC_CUDA_CALL(...) (static_cast<void>(sizeof((__VA_ARGS__, 0))), ::erc::fail_without_cuda(__func__))
#endif
