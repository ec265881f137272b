#include "optim/adamw_cuda.h"
#include "optim/multi_tensor.cuh"

namespace erc::optim::cuda {

void adamw_step(const std::vector<std::array<Tensor, 4>>& groups, const AdamWUpdate& update) {
  for_each_element_by_dtype(groups, update);
}

}  // namespace erc::optim::cuda
