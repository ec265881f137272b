// Joining and reversing: cat, stack and flip, as torch.cat, torch.stack and torch.flip.
#pragma once
#include <vector>

#include "tensor/tensor.h"

namespace erc::ops {

// tensors: each [..., n_i, ...] (equal shapes except at `dim`) -> [..., Σ n_i, ...]
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim);

// tensors: each of one shape [...] -> a new dimension of size tensors.size() at `dim` (in [-(rank+1), rank]).
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim);

// x [...] -> x's shape, reversed along each of `dims`.
Tensor flip(const Tensor& x, const Shape& dims);

}  // namespace erc::ops
