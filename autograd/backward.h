// backward(): reverse-mode differentiation over the recorded graph.
//
// Who zeroes what: backward() ADDS into the .grad of every leaf it reaches (so gradients of several losses, or of
// several micro-batches, sum up); it never clears them. The training loop clears them before each step with
// zero_grad(params) (or the optimiser's zero_grad()), which resets .grad to undefined, so the next backward()
// stores a fresh tensor rather than adding to a stale one.
#pragma once
#include <vector>

#include "tensor/tensor.h"

namespace erc {

// `root` must require grad. Without `grad_output` it must hold one element (a loss) and the seed gradient is 1;
// otherwise `grad_output` is dL/d(root) and must have root's shape and dtype. The graph stays alive (and can be
// walked again) for as long as `root` does.
void backward(const Tensor& root, const Tensor& grad_output = Tensor());

// Sets .grad of each tensor to undefined.
void zero_grad(const std::vector<Tensor>& params);

}  // namespace erc
