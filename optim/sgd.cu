#include "optim/multi_tensor.cuh"
#include "optim/sgd_cuda.h"

namespace erc::optim::cuda {

void sgd_step(const std::vector<std::array<Tensor, 2>>& groups, const SGDUpdate& update) {
  for_each_element_by_dtype(groups, update);
}

void sgd_step(const std::vector<std::array<Tensor, 3>>& groups, const SGDUpdate& update) {
  for_each_element_by_dtype(groups, update);
}

}  // namespace erc::optim::cuda
