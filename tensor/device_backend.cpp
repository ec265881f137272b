#include "tensor/device_backend.h"

#include "tensor/check.h"
#include "tensor/cuda_call.h"

namespace erc {

static DeviceBackend* installed = nullptr;

void install_device_backend(DeviceBackend* backend) { installed = backend; }

DeviceBackend& device_backend() {
  ERC_CHECK(installed != nullptr, "a cuda tensor needs the CUDA backend, and this program was built without it ",
            "(configure with -DERC_CUDA=ON for a GPU, or -DERC_CUDA=SIM for the CPU simulator of erc's kernels)");
  return *installed;
}

void fail_without_cuda(const char* where) {
  ERC_CHECK(false, where, ": a cuda tensor in a build without the CUDA backend");
  __builtin_unreachable();
}

}  // namespace erc
