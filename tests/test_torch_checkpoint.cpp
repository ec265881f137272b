// load_torch_checkpoint against files torch.save wrote (tools/fixtures/torch_checkpoint.py), each compared bit by bit
// with a safetensors reference; and every way a file can be broken, with zips and pickles written by hand here.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>

#include "io/safetensors.h"
#include "io/torch_checkpoint.h"
#include "test_util.h"
#include "zip_writer.h"

using namespace erc;
using test::error_of;
using test::le;
using test::mentions;
using test::zip;
using test::ZipEntry;

namespace {

std::string fixture_path(const std::string& name) { return std::string(ERC_FIXTURE_DIR) + "/" + name; }

// A file under ::testing::TempDir, named per process so parallel test runs do not collide; removed at scope end.
struct TempFile {
  explicit TempFile(const std::string& name, const std::string& bytes)
      : path(::testing::TempDir() + "erc_torch_checkpoint_" + std::to_string(getpid()) + "_" + name) {
    std::ofstream(path, std::ios::binary).write(bytes.data(), int64_t(bytes.size()));
  }
  ~TempFile() { std::remove(path.c_str()); }
  std::string path;
};

// The same names, and for each the same dtype, shape and bytes; the loaded tensor contiguous.
void expect_matches_reference(const std::map<std::string, Tensor>& loaded, const SafeTensors& reference) {
  std::vector<std::string> loaded_names, reference_names;
  for (const auto& [name, t] : loaded) loaded_names.push_back(name);
  for (const auto& [name, t] : reference.tensors) reference_names.push_back(name);
  EXPECT_EQ(loaded_names, reference_names);
  for (const auto& [name, expected] : reference.tensors) {
    auto it = loaded.find(name);
    if (it == loaded.end()) continue;
    const Tensor& t = it->second;
    SCOPED_TRACE("tensor '" + name + "'");
    EXPECT_EQ(dtype_name(t.dtype()), std::string(dtype_name(expected.dtype())));
    EXPECT_EQ(shape_str(t.shape()), shape_str(expected.shape()));
    EXPECT_TRUE(t.is_contiguous());
    if (t.dtype() != expected.dtype() || t.shape() != expected.shape()) continue;
    EXPECT_EQ(std::memcmp(t.raw_data(), expected.raw_data(), size_t(t.numel()) * dtype_size(t.dtype())), 0)
        << "values differ";
  }
}

// ---- Pickles written by hand.
std::string floats(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

const std::string kProto = "\x80\x02";
std::string str(const std::string& s) { return "X" + le(s.size(), 4) + s; }  // BINUNICODE
std::string small_int(uint8_t v) { return "K" + le(v, 1); }                 // BININT1
std::string global(const std::string& module, const std::string& name) { return "c" + module + "\n" + name + "\n"; }
std::string int_tuple(const Shape& values) {
  std::string s = "(";
  for (int64_t v : values) s += small_int(uint8_t(v));
  return s + "t";
}
// _rebuild_tensor_v2(persistent_load(('storage', torch.<cls>, key, 'cpu', numel)), offset, size, stride, False, {})
std::string tensor(const std::string& cls, const std::string& key, int numel, int offset, const Shape& size,
                   const Shape& stride) {
  return global("torch._utils", "_rebuild_tensor_v2") + "((" + str("storage") + global("torch", cls) + str(key) +
         str("cpu") + small_int(uint8_t(numel)) + "tQ" + small_int(uint8_t(offset)) + int_tuple(size) +
         int_tuple(stride) + "\x89" + global("collections", "OrderedDict") + ")RtR";
}
// {key: value, ...} for values already pickled, then STOP.
std::string dict(const std::vector<std::pair<std::string, std::string>>& items) {
  std::string s = kProto + "}(";
  for (const auto& [key, value] : items) s += str(key) + value;
  return s + "u.";
}

// A checkpoint made of `entries` is refused with a message naming the file and `part`.
void expect_checkpoint_error(const std::string& name, const std::vector<ZipEntry>& entries, const std::string& part) {
  TempFile file(name + ".pt", zip(entries));
  EXPECT_TRUE(test::error_mentions([&] { load_torch_checkpoint(file.path); }, {file.path, part})) << name;
}

// The same for a checkpoint of one pickle and storage '0'.
void expect_pickle_error(const std::string& name, const std::string& pickle, const std::string& part,
                         const std::string& storage = floats({1, 2, 3, 4})) {
  expect_checkpoint_error(name, {{"archive/data.pkl", pickle}, {"archive/data/0", storage}}, part);
}

const std::string kFloatMatrix = tensor("FloatStorage", "0", 4, 0, {2, 2}, {2, 1});

}  // namespace

TEST(TorchCheckpoint, UnilmStyleMatchesReference) {
  expect_matches_reference(load_torch_checkpoint(fixture_path("torch_checkpoint.pt")),
                           load_safetensors(fixture_path("torch_checkpoint.safetensors")));
}

TEST(TorchCheckpoint, StateDictMatchesReference) {
  auto loaded = load_torch_checkpoint(fixture_path("torch_checkpoint_state_dict.pt"));
  expect_matches_reference(loaded, load_safetensors(fixture_path("torch_checkpoint_state_dict.safetensors")));
  // Both spellings of weight norm that WavLM checkpoints use, and a 0-d int64 buffer.
  for (const char* name : {"0.weight_g", "0.weight_v", "2.parametrizations.weight.original0",
                           "2.parametrizations.weight.original1", "1.num_batches_tracked"})
    EXPECT_TRUE(loaded.count(name)) << name;
  EXPECT_EQ(shape_str(loaded.at("0.weight_g").shape()), "[1, 1, 3]");
  EXPECT_EQ(loaded.at("1.num_batches_tracked").dim(), 0);
  EXPECT_EQ(loaded.at("1.num_batches_tracked").item<int64_t>(), 1);
}

TEST(TorchCheckpoint, FlattensNestedDictsAndSkipsNonTensors) {
  auto loaded = load_torch_checkpoint(fixture_path("torch_checkpoint.pt"));
  for (const char* name : {"model.encoder.layers.0.attention.k_proj.weight", "model.encoder.pos_conv.weight_g",
                           "cfg.norm.mean", "cfg.norm.nested.std", "state.0.step"})
    EXPECT_TRUE(loaded.count(name)) << name;
  for (const auto& [name, t] : loaded)
    EXPECT_TRUE(name.starts_with("model.") || name.starts_with("cfg.norm.") || name == "state.0.step") << name;
}

TEST(TorchCheckpoint, MaterialisesViewsOfOneStorage) {
  auto loaded = load_torch_checkpoint(fixture_path("torch_checkpoint.pt"));
  const Tensor& base = loaded.at("model.shared.base");
  const Tensor& rows = loaded.at("model.shared.rows");      // base[1:3]: storage offset 6
  const Tensor& cols_t = loaded.at("model.shared.cols_t");  // base[:, 2:5].t(): offset 2, strides (1, 6)
  EXPECT_TRUE(test::allclose(rows, base.narrow(0, 1, 2), 0, 0));
  EXPECT_TRUE(test::allclose(cols_t, base.narrow(1, 2, 3).transpose(0, 1), 0, 0));
  EXPECT_TRUE(rows.is_contiguous() && cols_t.is_contiguous());
  EXPECT_FALSE(rows.shares_storage_with(base) || cols_t.shares_storage_with(base));
}

TEST(TorchCheckpoint, ScalarsAndInt64) {
  auto loaded = load_torch_checkpoint(fixture_path("torch_checkpoint.pt"));
  EXPECT_EQ(loaded.at("model.scale").dim(), 0);
  EXPECT_EQ(loaded.at("model.scale").item<float>(), 0.125f);
  EXPECT_EQ(loaded.at("model.num_updates").item<int64_t>(), 12345);
  const int64_t big = int64_t(1) << 40;
  EXPECT_EQ(loaded.at("model.label_ids").to_vector<int64_t>(), (std::vector<int64_t>{-big, -1, 0, 7, big + 3}));
}

TEST(TorchCheckpoint, HandWrittenZipLoads) {
  // The writer the error tests below rely on, checked on a good file: a strided view (elements 2 and 4) too.
  TempFile file("good.pt", zip({{"archive/data.pkl",
                                 dict({{"m", kFloatMatrix},
                                       {"col", tensor("FloatStorage", "0", 4, 1, {2}, {2})},
                                       {"cmd", global("os", "system") + "(" + str("echo no") + "tR"}})},
                                {"archive/data/0", floats({1, 2, 3, 4})}}));
  auto loaded = load_torch_checkpoint(file.path);
  ASSERT_EQ(loaded.size(), 2u);  // os.system(...) is an opaque value, never called, and skipped
  EXPECT_EQ(loaded.at("m").to_vector<float>(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(loaded.at("col").to_vector<float>(), (std::vector<float>{2, 4}));
}

TEST(TorchCheckpointErrors, TruncatedFiles) {
  const std::string bytes = test::file_bytes(fixture_path("torch_checkpoint.pt"));
  ASSERT_GT(bytes.size(), 100u);
  for (size_t cut : {size_t(0), size_t(1), size_t(30), bytes.size() / 2, bytes.size() - 100, bytes.size() - 23,
                     bytes.size() - 22, bytes.size() - 1}) {
    TempFile file("cut" + std::to_string(cut) + ".pt", bytes.substr(0, cut));
    EXPECT_TRUE(mentions(error_of([&] { load_torch_checkpoint(file.path); }), file.path)) << "cut at " << cut;
  }
}

TEST(TorchCheckpointErrors, NotAZipFile) {
  TempFile file("text.pt", "just some text, long enough to be looked at as a zip and rejected\n");
  const std::string message = error_of([&] { load_torch_checkpoint(file.path); });
  EXPECT_TRUE(mentions(message, file.path));
  EXPECT_TRUE(mentions(message, "not a zip archive"));
}

TEST(TorchCheckpointErrors, LegacyFormat) {
  const std::string path = fixture_path("torch_checkpoint_legacy.pt");
  const std::string message = error_of([&] { load_torch_checkpoint(path); });
  EXPECT_TRUE(mentions(message, path));
  EXPECT_TRUE(mentions(message, "legacy torch.save file"));
  EXPECT_TRUE(mentions(message, "torch.save(torch.load("));
}

TEST(TorchCheckpointErrors, MissingFile) {
  const std::string path = ::testing::TempDir() + "erc_torch_checkpoint_no_such_file.pt";
  const std::string message = error_of([&] { load_torch_checkpoint(path); });
  EXPECT_TRUE(mentions(message, path));
  EXPECT_TRUE(mentions(message, "cannot open"));
}

TEST(TorchCheckpointErrors, ZipProblems) {
  const std::string pickle = dict({{"m", kFloatMatrix}});
  expect_checkpoint_error("deflated", {{"archive/data.pkl", pickle, 8}}, "compressed (method 8, deflate)");
  expect_checkpoint_error("big_endian", {{"archive/data.pkl", pickle}, {"archive/byteorder", "big"}},
                          "byteorder is 'big'");
  expect_checkpoint_error("no_pickle", {{"archive/version", "3"}}, "'<folder>/data.pkl'");
  expect_checkpoint_error("no_storage", {{"archive/data.pkl", pickle}}, "no entry 'archive/data/0'");
}

TEST(TorchCheckpointErrors, MalformedPickles) {
  const std::string good = dict({{"m", kFloatMatrix}});
  expect_pickle_error("truncated", good.substr(0, good.size() - 5), "truncated");
  expect_pickle_error("bad_memo", kProto + "h\x07.", "memo index 7 was never stored");
  expect_pickle_error("underflow", kProto + "s.", "stack underflow");
  expect_pickle_error("no_mark", kProto + "}u.", "no MARK");
  expect_pickle_error("unknown_opcode", kProto + "\xff.", "opcode 0xff");
  expect_pickle_error("not_a_dict", kProto + small_int(1) + ".", "top-level object is int, not a dict");
  // {'a': <the dict itself>}
  expect_pickle_error("cycle", kProto + "}q" + le(0, 1) + str("a") + "h" + le(0, 1) + "s.", "nested more than 64");
  // _rebuild_tensor_v2 on an opaque object must refuse, not rebuild.
  expect_pickle_error("rebuild_opaque",
                      dict({{"m", global("torch._utils", "_rebuild_tensor_v2") + "(" + global("os", "getcwd") + ")R" +
                                      small_int(0) + "))\x89}t" + "R"}}),
                      "_rebuild_tensor_v2 called with (os.getcwd, ...)");
  expect_pickle_error("qtensor", dict({{"q", global("torch._utils", "_rebuild_qtensor") + ")R"}}),
                      "'q' is a tensor rebuilt by torch._utils._rebuild_qtensor");
}

TEST(TorchCheckpointErrors, StorageBounds) {
  expect_pickle_error("view_past_storage", dict({{"m", tensor("FloatStorage", "0", 4, 1, {2, 2}, {2, 1})}}),
                      "reaches past its storage '0' of 4 elements");
  expect_pickle_error("short_blob", dict({{"m", kFloatMatrix}}), "should hold 4 float32 elements",
                      floats({1, 2}));
  expect_pickle_error("int32", dict({{"ids", tensor("IntStorage", "0", 4, 0, {4}, {1})}}),
                      "tensor 'ids' has dtype int32");
}

// A byte flipped in a stored entry (the pickle, a tensor's storage read whole, through a view, or in part) is found by
// the entry's CRC-32, never read as data.
TEST(TorchCheckpointErrors, CorruptEntriesAreFoundByTheirCrc) {
  const std::string pickle = dict({{"m", kFloatMatrix},
                                   {"col", tensor("FloatStorage", "1", 4, 1, {2}, {2})},
                                   {"middle", tensor("FloatStorage", "2", 4, 1, {2}, {1})}});
  const std::string good = zip({{"archive/data.pkl", pickle},
                                {"archive/data/0", floats({1, 2, 3, 4})},
                                {"archive/data/1", floats({5, 6, 7, 8})},
                                {"archive/data/2", floats({9, 10, 11, 12})}});
  {
    TempFile file("crc_good.pt", good);
    EXPECT_EQ(load_torch_checkpoint(file.path).size(), 3u);
  }
  // Storage 2 is read in part (elements 1 and 2): its check reads the whole entry; the flipped byte is outside the
  // part read, in element 0.
  for (const std::string& entry : {std::string("archive/data.pkl"), std::string("archive/data/0"),
                                   std::string("archive/data/1"), std::string("archive/data/2")}) {
    // The entry's first data byte: after its local header (30 bytes) and name.
    const size_t data_at =
        good.find(entry + (entry == "archive/data.pkl" ? pickle.substr(0, 2) : std::string())) + entry.size();
    std::string bad = good;
    bad[data_at + 1] = char(bad[data_at + 1] ^ 0x10);
    TempFile file("crc_bad.pt", bad);
    EXPECT_TRUE(mentions(error_of([&] { load_torch_checkpoint(file.path); }), "'" + entry + "' is corrupt")) << entry;
  }
}
