// Inverted dropout: in training each element is kept with probability 1 - p and scaled by 1 / (1 - p), so the
// expected value is unchanged and evaluation needs no rescaling.
#pragma once
#include "tensor/random.h"
#include "tensor/tensor.h"

namespace erc::ops {

// x: any shape, f32 or f64. p must be in [0, 1) (checked in evaluation too). When !training or p == 0 this
// returns x itself and draws nothing. Otherwise the keep-mask is one gen.fill_bernoulli(mask, 1 - p) over x's
// elements in row-major order, so the same generator state gives the same mask (on any thread count, and on the
// GPU), and the generator's offset advances by ceil(numel / 2). Backward multiplies by the same scaled mask.
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen);

}  // namespace erc::ops
