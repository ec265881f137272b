// Element-wise updates over many tensors in few launches, for the optimisers' steps on the device (device code; only
// .cu files include this). A launch takes up to kTensorsPerLaunch tensors, their pointers in the kernel's arguments;
// each thread finds its tensor by a binary search over the running element counts. ErcModel's hundred-odd parameter
// tensors are then one launch instead of one per tensor.
#pragma once
#include <array>
#include <utility>
#include <vector>

#include "cuda/kernel.h"
#include "tensor/tensor.h"

namespace erc::optim::cuda {

// Four operands of 128 tensors are about 5 KB of kernel arguments: within the 32,764 bytes that CUDA 12.1 and later
// allow on Volta and newer.
constexpr int kTensorsPerLaunch = 128;

template <size_t kArity, typename T>
struct TensorBatch {
  T* data[kArity][kTensorsPerLaunch];  // data[a][k]: operand a of tensor k
  int64_t end[kTensorsPerLaunch];      // elements of tensors 0..k together
  int count;
};

template <size_t kArity, typename T, typename Update, size_t... kOperand>
__device__ void update_element(const TensorBatch<kArity, T>& batch, int k, int64_t j, const Update& update,
                               std::index_sequence<kOperand...>) {
  update(batch.data[kOperand][k][j]...);
}

template <size_t kArity, typename T, typename Update>
__global__ void multi_tensor_kernel(TensorBatch<kArity, T> batch, Update update) {
  for (int64_t i = global_thread(); i < batch.end[batch.count - 1]; i += grid_threads()) {
    int lo = 0, hi = batch.count - 1;  // the first tensor whose running count exceeds i
    while (lo < hi) {
      const int mid = (lo + hi) / 2;
      if (batch.end[mid] > i)
        hi = mid;
      else
        lo = mid + 1;
    }
    update_element(batch, lo, i - (lo > 0 ? batch.end[lo - 1] : 0), update, std::make_index_sequence<kArity>{});
  }
}

// update(operand 0, operand 1, ...) on every element: groups[g][a] is operand a of tensor g (contiguous, on the
// device, of one dtype T and one element count per group).
template <typename T, typename Update, size_t kArity>
void for_each_element(const std::vector<std::array<Tensor, kArity>>& groups, const Update& update) {
  TensorBatch<kArity, T> batch{};
  int64_t total = 0;
  auto flush = [&] {
    if (total > 0)
      launch<multi_tensor_kernel<kArity, T, Update>>(ERC_HERE, grid_for(total, 256), 256, 0, batch, update);
    batch.count = 0, total = 0;
  };
  for (const std::array<Tensor, kArity>& group : groups) {
    if (group[0].numel() == 0) continue;
    for (size_t a = 0; a < kArity; ++a) batch.data[a][batch.count] = group[a].template device_data<T>();
    total += group[0].numel();
    batch.end[batch.count++] = total;
    if (batch.count == kTensorsPerLaunch) flush();
  }
  flush();
}

// The same for groups of any floating dtypes: one pass per dtype.
template <typename Update, size_t kArity>
void for_each_element_by_dtype(const std::vector<std::array<Tensor, kArity>>& groups, const Update& update) {
  for (const std::array<Tensor, kArity>& group : groups)
    ERC_CHECK(group[0].dtype() == DType::f32 || group[0].dtype() == DType::f64,
              "optimiser step on the device: parameters must be f32 or f64, got ", dtype_name(group[0].dtype()));
  for (DType dtype : {DType::f32, DType::f64}) {
    std::vector<std::array<Tensor, kArity>> of_dtype;
    for (const std::array<Tensor, kArity>& group : groups)
      if (group[0].dtype() == dtype) of_dtype.push_back(group);
    if (dtype == DType::f32) for_each_element<float>(of_dtype, update);
    if (dtype == DType::f64) for_each_element<double>(of_dtype, update);
  }
}

}  // namespace erc::optim::cuda
