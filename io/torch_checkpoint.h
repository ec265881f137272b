// PyTorch checkpoints read without Python: torch.save's zip format (torch >= 1.6), as Hugging Face's
// pytorch_model.bin and unilm's WavLM-Large.pt ship it: `<prefix>/data.pkl` (a pickle) beside `<prefix>/data/<key>`
// (raw little-endian storages), stored uncompressed.
#pragma once
#include <map>
#include <string>

#include "tensor/tensor.h"

namespace erc {

// Every tensor in a torch.save zip checkpoint, by dotted name: nested dicts are flattened with '.' joining keys
// ('model.encoder.layers.0.attention.k_proj.weight' for a unilm .pt, plain names for a state dict); non-tensor
// values are skipped, and so are tensors inside lists or tuples and dict entries whose key is neither a string nor
// an int. Tensors come back contiguous in their stored dtype (f32, f64, f16, bf16, i64; other dtypes: an
// erc::Error naming the tensor and dtype), views of a shared storage materialised with their offset and strides.
//
// The pickle is interpreted, never executed: only collections.OrderedDict, torch's tensor and parameter rebuild
// functions and the torch.*Storage classes mean anything; every other object (argparse.Namespace, an Enum in a
// config) is opaque and skipped. A missing, truncated, malformed, compressed or legacy-format (torch < 1.6) file is
// an erc::Error naming the file and the problem.
std::map<std::string, Tensor> load_torch_checkpoint(const std::string& path);

}  // namespace erc
