// safetensors files written and read back bit for bit (a transposed view, i64, bf16, metadata), and refused
// clearly when truncated, missing, or breaking a rule of the format that the reference implementation enforces.
#include <cstdio>
#include <fstream>

#include "io/safetensors.h"
#include "test_util.h"

using namespace erc;

TEST(SafeTensors, RoundTripAndErrors) {
  const std::string path = ::testing::TempDir() + "erc_roundtrip.safetensors";
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from_vector<int64_t>({-1, 7}, {2});
  Tensor h = Tensor::from_vector<float>({0.5f, -2.0f}, {2}).to(DType::bf16);
  save_safetensors(path, {{"layer.weight", a.transpose(0, 1)}, {"labels", b}, {"h", h}}, {{"format", "pt"}});
  SafeTensors st = load_safetensors(path);
  EXPECT_EQ(st.metadata.at("format"), "pt");
  EXPECT_EQ(st.at("layer.weight").shape(), (Shape{3, 2}));
  EXPECT_EQ(st.at("layer.weight").to_vector<float>(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(st.at("labels").to_vector<int64_t>(), (std::vector<int64_t>{-1, 7}));
  EXPECT_EQ(st.at("h").to(DType::f32).to_vector<float>(), (std::vector<float>{0.5f, -2.0f}));
  try {
    st.at("missing");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layer.weight"), std::string::npos) << e.what();
  }
  // Truncate the file: the loader must say so, not read past the end.
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), int64_t(bytes.size()) - 5);
  EXPECT_THROW(load_safetensors(path), Error);
  EXPECT_THROW(load_safetensors(path + ".does-not-exist"), Error);
  std::remove(path.c_str());
}

namespace {

// A file of `header` (JSON text) and `data_bytes` zero bytes of data.
std::string raw_file(const std::string& name, const std::string& header, size_t data_bytes) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const uint64_t len = header.size();
  out.write(reinterpret_cast<const char*>(&len), 8);
  out.write(header.data(), int64_t(header.size()));
  out.write(std::string(data_bytes, '\0').data(), int64_t(data_bytes));
  return path;
}

std::string load_error(const std::string& header, size_t data_bytes) {
  return test::error_of([&] { load_safetensors(raw_file("erc_malformed.safetensors", header, data_bytes)); });
}

}  // namespace

TEST(SafeTensors, DataOffsetsMustTileTheDataExactly) {
  const std::string a = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  EXPECT_TRUE(test::mentions(load_error("{" + a + R"(,"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12),
                             "tensor 'b' starts at data byte 4 where 8 was expected"));
  EXPECT_TRUE(test::mentions(load_error("{" + a + R"(,"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}})", 16),
                             "tensor 'b' starts at data byte 12 where 8 was expected"));
  EXPECT_TRUE(test::mentions(load_error("{" + a + "}", 12), "4 bytes after the last tensor's data"));
  EXPECT_TRUE(test::mentions(load_error("{" + a + "}", 4), "need 8 data bytes, the file holds 4"));
  // Zero-size tensors may share an offset, and the order in the header does not matter.
  const std::string ok = R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"e":{"dtype":"F32","shape":[0],)"
                         R"("data_offsets":[8,8]},)" + a + "}";
  EXPECT_EQ(load_safetensors(raw_file("erc_tiled.safetensors", ok, 12)).tensors.size(), 3u);
}

TEST(SafeTensors, MalformedEntriesAreNamed) {
  EXPECT_TRUE(test::mentions(load_error(R"({"__metadata__":{"format":1}})", 0), "__metadata__ 'format' is 1"));
  EXPECT_TRUE(test::mentions(load_error(R"({"__metadata__":[1]})", 0), "__metadata__ is not a map"));
  const std::string x = R"("x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
  EXPECT_TRUE(test::mentions(load_error("{" + x + "," + x + "}", 4), "the header names 'x' twice"));
  EXPECT_TRUE(test::mentions(
      load_error(R"({"big":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,0]}})", 0),
      "tensor 'big' has shape [1099511627776,1099511627776], whose byte size overflows"));
  EXPECT_TRUE(test::mentions(load_error(R"({"neg":{"dtype":"F32","shape":[2,-1],"data_offsets":[0,0]}})", 0),
                             "tensor 'neg' has shape [2,-1]: sizes must be integers >= 0"));
  EXPECT_TRUE(test::mentions(load_error(R"({"s":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})", 4),
                             "tensor 's' has a dtype that is not a string"));
  EXPECT_TRUE(test::mentions(load_error(R"({"o":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4),
                             "tensor 'o' has data_offsets [0], not [begin, end]"));
}
