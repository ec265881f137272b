#include "ops/device.h"

#ifdef ERC_WITH_CUDA
#include "cuda/blas.h"
#include "cuda/device.h"
#endif

namespace erc::ops {

Device device_of(const char* op, const std::vector<Tensor>& inputs) {
  const Tensor* first = nullptr;
  size_t first_index = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.defined()) continue;
    if (!first) {
      first = &t, first_index = i;
      continue;
    }
    ERC_CHECK(t.device() == first->device(), op, ": inputs on two devices: input ", first_index, " ",
              shape_str(first->shape()), " is on ", device_name(first->device()), ", input ", i, " ",
              shape_str(t.shape()), " on ", device_name(t.device()), " (move one with .to(Device::...))");
  }
  return first ? first->device() : Device::cpu;
}

Device device_of(const char* op, std::initializer_list<Tensor> inputs) {
  return device_of(op, std::vector<Tensor>(inputs));
}

void require_cpu(const char* op, const std::vector<Tensor>& inputs) {
  for (const Tensor& t : inputs)
    ERC_CHECK(!t.defined() || t.device() == Device::cpu, op, ": no CUDA kernel yet for this op; its input ",
              shape_str(t.shape()), " is on ", device_name(t.device()), " (run it on the CPU: .to(Device::cpu))");
}

void require_cpu(const char* op, std::initializer_list<Tensor> inputs) { require_cpu(op, std::vector<Tensor>(inputs)); }

DeviceChoice choose_device(const std::string& choice) {
  ERC_CHECK(choice == "cpu" || choice == "cuda" || choice == "auto", "--device must be cpu, cuda or auto, got '",
            choice, "'");
  if (choice == "cpu") return {Device::cpu, "on the CPU (--device cpu)"};
#ifdef ERC_WITH_CUDA
  const bool answers = cuda::device_count() > 0, simulated = cuda::simulated();
  std::string summary = cuda::device_summary();
  while (!summary.empty() && summary.back() == '\n') summary.pop_back();
  if (choice == "cuda") {
    ERC_CHECK(answers, "--device cuda: no CUDA device answers: ", summary);
    return {Device::cuda, simulated ? "on erc's CUDA simulator (a SIM build: the kernels run on the CPU, slowly)"
                                    : "on the GPU: " + summary};
  }
  if (answers && !simulated) return {Device::cuda, "on the GPU (--device auto): " + summary};
  return {Device::cpu, simulated ? "on the CPU (--device auto; this SIM build's simulator runs only with --device cuda)"
                                 : "on the CPU (--device auto: " + summary + ")"};
#else
  ERC_CHECK(choice != "cuda", "--device cuda: this program was built without the CUDA backend (configure with ",
            "-DERC_CUDA=ON or AUTO where nvcc is installed)");
  return {Device::cpu, "on the CPU (--device auto: this program was built without the CUDA backend)"};
#endif
}

void use_tf32_gemms(bool on) {
#ifdef ERC_WITH_CUDA
  cuda::use_tf32(on);
#else
  static_cast<void>(on);
#endif
}

}  // namespace erc::ops
