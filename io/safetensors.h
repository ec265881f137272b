// safetensors files (https://github.com/huggingface/safetensors): an 8-byte little-endian header length, a JSON
// header naming each tensor's dtype, shape and byte range, then the raw row-major data. It is what PyTorch,
// Hugging Face and our own fixtures and checkpoints use, so one reader serves all of them.
#pragma once
#include <map>
#include <string>

#include "tensor/tensor.h"

namespace erc {

struct SafeTensors {
  std::map<std::string, Tensor> tensors;            // by name
  std::map<std::string, std::string> metadata;      // the optional "__metadata__" string map
  const Tensor& at(const std::string& name) const;  // errors name the file's tensors when `name` is missing
  bool has(const std::string& name) const { return tensors.count(name) != 0; }
  std::string path;
};

// Reads a whole file. A truncated or malformed file is an erc::Error that names the file and the problem.
SafeTensors load_safetensors(const std::string& path);

// Writes to `path + ".tmp"` and renames, so an interrupted write never leaves a corrupt file at `path`.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace erc
