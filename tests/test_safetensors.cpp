// safetensors files written and read back bit for bit (a transposed view, i64, bf16, metadata), and refused
// clearly when truncated or missing.
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
