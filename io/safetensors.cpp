#include "io/safetensors.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>
#include <vector>

#include "io/atomic_file.h"

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

namespace {

// One tensor's header entry, checked before anything is allocated.
struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  int64_t begin, end;  // data_offsets
};

Entry parse_entry(const std::string& path, const std::string& name, const nlohmann::json& entry) {
  ERC_CHECK(entry.is_object() && entry.contains("dtype") && entry.contains("shape") && entry.contains("data_offsets"),
            path, ": tensor '", name, "' lacks dtype, shape or data_offsets");
  ERC_CHECK(entry["dtype"].is_string(), path, ": tensor '", name, "' has a dtype that is not a string");
  Entry e{name, parse_st_dtype(entry["dtype"].get<std::string>(), path, name), {}, 0, 0};
  const nlohmann::json& shape = entry["shape"];
  ERC_CHECK(shape.is_array(), path, ": tensor '", name, "' has a shape that is not a list of sizes");
  // The byte size, refused before it can overflow: 2^62 bytes is beyond any file.
  int64_t nbytes = int64_t(dtype_size(e.dtype));
  for (const nlohmann::json& size : shape) {
    ERC_CHECK(size.is_number_integer() && size.get<int64_t>() >= 0, path, ": tensor '", name, "' has shape ",
              shape.dump(), ": sizes must be integers >= 0");
    const int64_t n = size.get<int64_t>();
    ERC_CHECK(n == 0 || nbytes <= (int64_t(1) << 62) / n, path, ": tensor '", name, "' has shape ", shape.dump(),
              ", whose byte size overflows");
    e.shape.push_back(n);
    nbytes *= n;
  }
  const nlohmann::json& offsets = entry["data_offsets"];
  ERC_CHECK(
      offsets.is_array() && offsets.size() == 2 && offsets[0].is_number_integer() && offsets[1].is_number_integer(),
      path, ": tensor '", name, "' has data_offsets ", offsets.dump(), ", not [begin, end]");
  e.begin = offsets[0].get<int64_t>(), e.end = offsets[1].get<int64_t>();
  ERC_CHECK(e.begin >= 0 && e.begin <= e.end, path, ": tensor '", name, "' has data_offsets ", offsets.dump());
  ERC_CHECK(e.end - e.begin == nbytes, path, ": tensor '", name, "' of shape ", shape_str(e.shape), " ",
            dtype_name(e.dtype), " needs ", nbytes, " bytes, its data_offsets span ", e.end - e.begin);
  return e;
}

}  // namespace

// As strict as the reference implementation (safetensors' `validate`): one entry per name, `__metadata__` a map of
// strings to strings, and the tensors' data_offsets tiling the data buffer exactly, with no overlap, hole or
// trailing byte.
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
  // nlohmann keeps the last of two equal keys: the parser's callback sees every top-level key, and remembers a repeat.
  std::set<std::string> names;
  std::string repeated;
  const auto on_event = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (depth == 1 && event == nlohmann::json::parse_event_t::key && !names.insert(parsed.get<std::string>()).second &&
        repeated.empty())
      repeated = parsed.get<std::string>();
    return true;
  };
  nlohmann::json json = nlohmann::json::parse(header, on_event, /*allow_exceptions=*/false);
  ERC_CHECK(json.is_object(), path, ": the header is not a JSON object");
  ERC_CHECK(repeated.empty(), path, ": the header names '", repeated, "' twice");

  const int64_t data_start = 8 + int64_t(header_len), data_size = file_size - data_start;
  SafeTensors out;
  out.path = path;
  std::vector<Entry> entries;
  for (auto& [name, entry] : json.items()) {
    if (name == "__metadata__") {
      ERC_CHECK(entry.is_object(), path, ": __metadata__ is not a map of strings to strings");
      for (auto& [k, v] : entry.items()) {
        ERC_CHECK(v.is_string(), path, ": __metadata__ '", k, "' is ", v.dump(), ", not a string");
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(path, name, entry));
  }
  std::vector<const Entry*> by_offset;
  for (const Entry& e : entries) by_offset.push_back(&e);
  std::stable_sort(by_offset.begin(), by_offset.end(), [](const Entry* a, const Entry* b) {
    return std::pair(a->begin, a->end) < std::pair(b->begin, b->end);
  });
  int64_t covered = 0;
  for (const Entry* e : by_offset) {
    ERC_CHECK(e->begin == covered, path, ": tensor '", e->name, "' starts at data byte ", e->begin, " where ", covered,
              " was expected: the tensors' data must follow one another with no overlap or hole");
    covered = e->end;
  }
  ERC_CHECK(covered <= data_size, path, ": the tensors need ", covered, " data bytes, the file holds ", data_size,
            " (truncated?)");
  ERC_CHECK(covered == data_size, path, ": ", data_size - covered, " bytes after the last tensor's data");
  for (const Entry& e : entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    in.seekg(data_start + e.begin);
    ERC_CHECK(in.read(static_cast<char*>(t.raw_data()), e.end - e.begin), path, ": read failed for tensor '", e.name,
              "'");
    out.tensors.emplace(e.name, std::move(t));
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
  AtomicFile file(path);
  std::ostream& out = file.stream();
  const uint64_t len = text.size();
  out.write(reinterpret_cast<const char*>(&len), 8);
  out.write(text.data(), int64_t(text.size()));
  for (const Tensor& c : contiguous)
    out.write(static_cast<const char*>(c.raw_data()), c.numel() * int64_t(dtype_size(c.dtype())));
  file.commit();
}

}  // namespace erc
