#include "ops/device.h"

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

void fail_without_cuda(const char* op) {
  ERC_CHECK(false, op, ": a cuda tensor in a build without the CUDA backend");
  __builtin_unreachable();
}

}  // namespace erc::ops
