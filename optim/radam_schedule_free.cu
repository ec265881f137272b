#include "optim/multi_tensor.cuh"
#include "optim/radam_schedule_free_cuda.h"

namespace erc::optim::cuda {

void radam_schedule_free_step(const std::vector<std::array<Tensor, 4>>& groups, const RAdamScheduleFreeUpdate& update) {
  for_each_element_by_dtype(groups, update);
}

void lerp_towards(const std::vector<std::array<Tensor, 2>>& groups, double weight) {
  for_each_element_by_dtype(groups, Lerp{weight});
}

}  // namespace erc::optim::cuda
