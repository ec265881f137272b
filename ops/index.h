// Indexing by i64 tensors: embedding, index_select and gather (torch's semantics). Backward scatter-adds the
// gradient in a fixed order, so repeated indices sum to the same bits on every run and thread count.
#pragma once
#include "tensor/tensor.h"

namespace erc::ops {

// weight [V, D], indices i64 [...] -> [..., D]: row indices[...] of weight. Every index must lie in [0, V).
Tensor embedding(const Tensor& weight, const Tensor& indices);

// x [..., n_dim, ...], indices i64 [n] -> x's shape with size n at `dim`: out[..., i, ...] = x[..., indices[i], ...].
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& indices);

// x [...], index i64 of x's rank with index.size(d) <= x.size(d) for d != dim -> index's shape, as torch.gather:
// out[i][j][k] = x[index[i][j][k]][j][k] for dim 0 (likewise for other dims).
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);

}  // namespace erc::ops
