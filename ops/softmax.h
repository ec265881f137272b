// softmax and log_softmax along one dimension, computed stably: the row maximum is subtracted before exp, so
// logits of +-1000 give finite, exact results. Row sums are accumulated in double.
#pragma once
#include "tensor/tensor.h"

namespace erc::ops {

// x: any shape with at least one dim; `dim` may be negative. The output has x's shape.
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

}  // namespace erc::ops
