// Tensor layout, views, dtype conversion and the seeded generator.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>

#include "tensor/half.h"
#include "test_util.h"

using namespace erc;
using erc::test::allclose;

TEST(Tensor, ContiguousStridesAndViews) {
  Tensor t = Tensor::from_vector<double>({0, 1, 2, 3, 4, 5}, {2, 3});
  EXPECT_EQ(t.strides(), (Shape{3, 1}));
  Tensor tt = t.transpose(0, 1);
  EXPECT_EQ(tt.shape(), (Shape{3, 2}));
  EXPECT_FALSE(tt.is_contiguous());
  EXPECT_EQ(tt.contiguous().to_vector<double>(), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  EXPECT_TRUE(tt.shares_storage_with(t));
  Tensor row = t.narrow(0, 1, 1);
  EXPECT_EQ(row.to_vector<double>(), (std::vector<double>{3, 4, 5}));
  Tensor col = t.narrow(1, 2, 1);
  EXPECT_EQ(col.to_vector<double>(), (std::vector<double>{2, 5}));
  Tensor e = Tensor::from_vector<double>({7, 8, 9}, {3}).expand({2, 3});
  EXPECT_EQ(e.strides(), (Shape{0, 1}));
  EXPECT_EQ(e.to_vector<double>(), (std::vector<double>{7, 8, 9, 7, 8, 9}));
  EXPECT_EQ(t.view({-1}).shape(), (Shape{6}));
  EXPECT_EQ(tt.reshape({6}).to_vector<double>(), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(t.permute({1, 0}).strides(), (Shape{1, 3}));
}

TEST(Tensor, CopyIntoStridedDestination) {
  Tensor dst = Tensor::zeros({3, 2}, DType::f64);
  Tensor src = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  dst.transpose(0, 1).copy_(src);
  EXPECT_EQ(dst.to_vector<double>(), (std::vector<double>{1, 4, 2, 5, 3, 6}));
}

TEST(Tensor, MisuseSaysWhatWasExpected) {
  Tensor t = Tensor::zeros({2, 3});
  try {
    t.view({4, 2});
    FAIL() << "view to a wrong size must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[4, 2]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(t.transpose(0, 1).view({6}), Error);  // not contiguous
  EXPECT_THROW(t.narrow(1, 2, 2), Error);
  EXPECT_THROW(t.expand({3, 3}), Error);
  EXPECT_THROW(t.data<double>(), Error);  // dtype mismatch
  EXPECT_THROW(Tensor().shape(), Error);
  Tensor p = Tensor::zeros({2}).set_requires_grad(true);
  EXPECT_THROW(p.reshape({2, 1}), Error);  // would silently drop the graph
  EXPECT_NO_THROW(p.detach().reshape({2, 1}));
  EXPECT_THROW(Tensor::zeros({2}, DType::i64).set_requires_grad(true), Error);
}

TEST(Tensor, HalfAndBfloatConversionsRoundToNearestEven) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(f32_to_bf16(1.00390625f), 0x3f80);  // halfway between 0x3f80 and 0x3f81: ties to even
  EXPECT_EQ(f32_to_bf16(1.01171875f), 0x3f82);  // halfway between 0x3f81 and 0x3f82: ties to even
  EXPECT_EQ(f32_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);     // rounds to infinity
  EXPECT_EQ(f32_to_f16(-2.0f), 0xc000);
  EXPECT_EQ(f32_to_f16(5.9604644775390625e-8f), 0x0001);  // smallest subnormal
  EXPECT_EQ(f16_to_f32(0x0001), 5.9604644775390625e-8f);
  EXPECT_EQ(f16_to_f32(0x3555), 0.333251953125f);
  for (uint32_t h = 0; h < 0x7c00; ++h) ASSERT_EQ(f32_to_f16(f16_to_f32(uint16_t(h))), h) << h;  // exact round trip
  Tensor x = Tensor::from_vector<float>({0.1f, -3.5f, 1e-3f}, {3});
  EXPECT_TRUE(allclose(x.to(DType::bf16).to(DType::f32), x, 0, 1.0 / 256));
  EXPECT_TRUE(allclose(x.to(DType::f16).to(DType::f32), x, 0, 1.0 / 2048));
}

// A floating value beyond int64 becomes the nearest end, NaN 0, the rest toward zero: what a GPU's conversion gives
// (tests/test_cuda_tensor.cpp checks the device gives these same values).
TEST(Tensor, ToInt64SaturatesAsAGpuDoes) {
  const double big = 0x1p63;
  const Tensor x = Tensor::from_vector<double>(
      {NAN, INFINITY, -INFINITY, big, -big, std::nextafter(big, 0.0), -9.2e18, 1e300, -1e300, 1.5, -1.5, -0.0},
      {12});
  const std::vector<int64_t> expected = {0,         INT64_MAX, INT64_MIN, INT64_MAX, INT64_MIN, int64_t(0x1p63 - 1024),
                                         -9200000000000000000LL, INT64_MAX, INT64_MIN, 1, -1, 0};
  EXPECT_EQ(x.to(DType::i64).to_vector<int64_t>(), expected);
  EXPECT_EQ(x.to(DType::f32).to(DType::i64).to_vector<int64_t>()[1], INT64_MAX);
  EXPECT_EQ(x.to(DType::f16).to(DType::i64).to_vector<int64_t>()[7], INT64_MAX) << "1e300 is infinity in f16";
}

TEST(Random, PhiloxMatchesThePublishedKnownAnswer) {
  // Random123's kat_vectors for philox4x32_10: counter = key = 0 and counter = key = all ones.
  auto words = [](PhiloxBlock b) { return std::vector<uint32_t>(b.word, b.word + 4); };
  EXPECT_EQ(words(philox4x32({{0, 0, 0, 0}}, 0, 0)),
            (std::vector<uint32_t>{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(words(philox4x32({{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}}, 0xffffffff, 0xffffffff)),
            (std::vector<uint32_t>{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
}

TEST(Random, StreamsAreSeededAndMoments) {
  Generator a(42), b(42), c(43);
  Tensor x = randn({100000}, a, DType::f64), y = randn({100000}, b, DType::f64), z = randn({100000}, c, DType::f64);
  EXPECT_EQ(x.to_vector<double>(), y.to_vector<double>());
  EXPECT_NE(x.to_vector<double>(), z.to_vector<double>());
  double mean = 0, var = 0;
  for (double v : x.to_vector<double>()) mean += v;
  mean /= 1e5;
  for (double v : x.to_vector<double>()) var += (v - mean) * (v - mean);
  var /= 1e5;
  EXPECT_NEAR(mean, 0.0, 0.01);  // 4 standard errors
  EXPECT_NEAR(var, 1.0, 0.02);
  Tensor u = rand({100000}, a, DType::f32);
  double umin = 1, umax = 0, usum = 0;
  for (float v : u.to_vector<float>()) umin = std::min<double>(umin, v), umax = std::max<double>(umax, v), usum += v;
  EXPECT_GE(umin, 0.0);
  EXPECT_LT(umax, 1.0);
  EXPECT_NEAR(usum / 1e5, 0.5, 0.004);
  Tensor m = Tensor::empty({100000}, DType::f32);
  a.fill_bernoulli(m, 0.1);
  double ones = 0;
  for (float v : m.to_vector<float>()) ones += v;
  EXPECT_NEAR(ones / 1e5, 0.1, 0.004);
}

TEST(Random, OffsetAdvancesAndStateRestores) {
  Generator g(7);
  Tensor first = randn({5}, g, DType::f64);
  EXPECT_EQ(g.offset(), 3u);  // ceil(5 / 2) counters
  Tensor second = randn({4}, g, DType::f64);
  Generator h(0);
  h.set_state(7, 3);
  EXPECT_EQ(randn({4}, h, DType::f64).to_vector<double>(), second.to_vector<double>());
  // f32 and f64 draws of one stream agree to float rounding: the transform is the same.
  Generator f(9), d(9);
  EXPECT_TRUE(allclose(randn({64}, f, DType::f32), randn({64}, d, DType::f64), 1e-6, 1e-6));
}

#ifndef ERC_WITH_CUDA
// A build without the CUDA backend (-DERC_CUDA=OFF) says so when asked for a device tensor.
TEST(Tensor, ADeviceTensorWithoutTheCudaBackendIsAClearError) {
  EXPECT_TRUE(test::mentions(test::error_of([] { Tensor::zeros({3}, DType::f32, Device::cuda); }),
                             "this program was built without it (configure with -DERC_CUDA=ON"));
}
#endif
