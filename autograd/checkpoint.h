// Activation checkpointing: y = checkpoint(f, x) runs f(x) without recording a graph and keeps only x; backward
// reruns f on x with recording on and back-propagates through that fresh graph, so the activations inside f live only
// while its own backward runs. The gradients of the leaves f uses (its module's parameters) go straight into their
// .grad; x's is passed on. Memory: the largest f's activations instead of all of them, for one more forward of f.
//
// f must compute the same thing when rerun: f that draws random numbers (dropout) rewinds its generator itself (as
// nn::BiMambaLayer does).
#pragma once
#include <functional>

#include "tensor/tensor.h"

namespace erc {

Tensor checkpoint(const std::function<Tensor(const Tensor&)>& f, const Tensor& x);

}  // namespace erc
