#include "io/safetensors.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace erc {

static const char* st_dtype(DType dtype) {
  switch (dtype) {
    case DType::f32: return "F32";
    case DType::f64: return "F64";
    case DType::i64: return "I64";
    case DType::bf16: return "BF16";
    case DType::f16: return "F16";
  }
  return "?";
}

static DType parse_st_dtype(const std::string& s, const std::string& path, const std::string& name) {
  if (s == "F32") return DType::f32;
  if (s == "F64") return DType::f64;
  if (s == "I64") return DType::i64;
  if (s == "BF16") return DType::bf16;
  if (s == "F16") return DType::f16;
  ERC_CHECK(false, path, ": tensor '", name, "' has dtype ", s, ", which erc does not read (F32 F64 I64 BF16 F16)");
  __builtin_unreachable();
}

const Tensor& SafeTensors::at(const std::string& name) const {
  auto it = tensors.find(name);
  if (it == tensors.end()) {
    std::string names;
    for (auto& [n, t] : tensors) names += (names.empty() ? "" : ", ") + n;
    ERC_CHECK(false, path, ": no tensor named '", name, "' (the file has: ", names, ")");
  }
  return it->second;
}

SafeTensors load_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  ERC_CHECK(in.good(), path, ": cannot open safetensors file");
  const int64_t file_size = in.tellg();
  in.seekg(0);
  uint64_t header_len = 0;
  ERC_CHECK(file_size >= 8 && in.read(reinterpret_cast<char*>(&header_len), 8), path,
            ": truncated safetensors file (no header length)");
  ERC_CHECK(header_len <= uint64_t(file_size - 8), path, ": header length ", header_len,
            " runs past the end of the file (", file_size, " bytes)");
  std::string header(header_len, '\0');
  in.read(header.data(), int64_t(header_len));
  nlohmann::json json = nlohmann::json::parse(header, nullptr, /*allow_exceptions=*/false);
  ERC_CHECK(json.is_object(), path, ": the header is not a JSON object");

  const int64_t data_start = 8 + int64_t(header_len), data_size = file_size - data_start;
  SafeTensors out;
  out.path = path;
  for (auto& [name, entry] : json.items()) {
    if (name == "__metadata__") {
      for (auto& [k, v] : entry.items()) out.metadata[k] = v.is_string() ? v.get<std::string>() : v.dump();
      continue;
    }
    ERC_CHECK(entry.contains("dtype") && entry.contains("shape") && entry.contains("data_offsets"), path,
              ": tensor '", name, "' lacks dtype, shape or data_offsets");
    DType dtype = parse_st_dtype(entry["dtype"].get<std::string>(), path, name);
    Shape shape = entry["shape"].get<Shape>();
    auto offsets = entry["data_offsets"].get<std::vector<int64_t>>();
    ERC_CHECK(offsets.size() == 2 && offsets[0] >= 0 && offsets[0] <= offsets[1] && offsets[1] <= data_size, path,
              ": tensor '", name, "' has data_offsets outside the file's ", data_size, " data bytes (truncated?)");
    Tensor t = Tensor::empty(shape, dtype);
    const int64_t nbytes = t.numel() * int64_t(dtype_size(dtype));
    ERC_CHECK(offsets[1] - offsets[0] == nbytes, path, ": tensor '", name, "' of shape ", shape_str(shape), " ",
              dtype_name(dtype), " needs ", nbytes, " bytes, its data_offsets span ", offsets[1] - offsets[0]);
    in.seekg(data_start + offsets[0]);
    ERC_CHECK(in.read(static_cast<char*>(t.raw_data()), nbytes), path, ": read failed for tensor '", name, "'");
    out.tensors.emplace(name, std::move(t));
  }
  return out;
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  int64_t offset = 0;
  std::vector<Tensor> contiguous;
  for (auto& [name, t] : tensors) {
    ERC_CHECK(t.defined(), "save_safetensors: tensor '", name, "' is undefined");
    Tensor c = t.detach().contiguous();
    int64_t nbytes = c.numel() * int64_t(dtype_size(c.dtype()));
    header[name] = {{"dtype", st_dtype(c.dtype())}, {"shape", c.shape()}, {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    contiguous.push_back(c);
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keep the data 8-byte aligned, as the format recommends
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    ERC_CHECK(out.good(), path, ": cannot open ", tmp, " for writing");
    uint64_t len = text.size();
    out.write(reinterpret_cast<const char*>(&len), 8);
    out.write(text.data(), int64_t(text.size()));
    for (const Tensor& c : contiguous)
      out.write(static_cast<const char*>(c.raw_data()), c.numel() * int64_t(dtype_size(c.dtype())));
    out.flush();
    ERC_CHECK(out.good(), path, ": write failed (disk full?); the previous file, if any, is untouched");
  }
  ERC_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, path, ": cannot rename ", tmp, " into place");
}

}  // namespace erc
