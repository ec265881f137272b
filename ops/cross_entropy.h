// The classification loss: log-softmax, negative log-likelihood and the label mask fused in one op with its own
// backward. Utterances whose label is not one of the classes carry ignore_index and are left out of the mean.
#pragma once
#include <cstdint>

#include "tensor/tensor.h"

namespace erc::ops {

// logits [U, C] (f32 or f64), targets [U] (i64, each in [0, C) or equal to ignore_index). Returns the 0-d mean,
// over the rows whose target is not ignore_index, of -log_softmax(logits[u])[targets[u]], as
// torch.nn.functional.cross_entropy(logits, targets, ignore_index=ignore_index, reduction='mean').
// One difference: when every row is ignored PyTorch returns NaN (0 / 0); this returns 0 with a zero gradient, so
// a conversation with no labelled utterance adds nothing to a training step instead of poisoning it.
// A target outside [0, C) that is not ignore_index is an error naming the row and the value, for host targets; device
// targets are checked on the device (reading them back would wait for the stream), where such a target makes the
// loss NaN.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index = -100);

}  // namespace erc::ops
