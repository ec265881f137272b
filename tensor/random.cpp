#include "tensor/random.h"

#include "tensor/device_backend.h"

namespace erc {

namespace {

// Fills t with every element's draw, on the host (draw(pair, odd): element 2j + odd from counter block start + j)
// or (through the CUDA backend) on the device, and advances the generator's offset past the counters the fill
// consumed.
template <typename Draw>
void fill_each(Tensor& t, uint64_t seed, uint64_t& offset, RandomDraw kind, double a, double b, Draw&& draw) {
  ERC_CHECK(t.is_contiguous(), "random fill: expected a contiguous tensor, got strides ", shape_str(t.strides()));
  const int64_t n = t.numel();
  const uint64_t start = offset;
  if (t.device() == Device::cuda) {
    ERC_CHECK(is_floating(t.dtype()) && t.dtype() != DType::bf16 && t.dtype() != DType::f16,
              "random fill: expected a f32 or f64 tensor, got ", dtype_name(t.dtype()));
    device_backend().fill_random(t, kind, seed, start, a, b);
  } else {
    // A counter block holds elements 2j and 2j + 1: computed once for both.
    dispatch_float(t.dtype(), "random fill", [&](auto tag) {
      using scalar_t = decltype(tag);
      scalar_t* p = t.data<scalar_t>();
      const int64_t n_pairs = (n + 1) / 2;
#pragma omp parallel for schedule(static) if (n > 16384)
      for (int64_t j = 0; j < n_pairs; ++j) {
        const PhiloxPair pair = philox_pair(seed, start + uint64_t(j));
        p[2 * j] = draw(pair, false, tag);
        if (2 * j + 1 < n) p[2 * j + 1] = draw(pair, true, tag);
      }
    });
  }
  offset += (uint64_t(n) + 1) / 2;
}

}  // namespace

void Generator::fill_uniform(Tensor& t, double low, double high) {
  fill_each(t, seed_, offset_, RandomDraw::uniform, low, high, [&](PhiloxPair pair, bool odd, auto tag) {
    return uniform_from_bits<decltype(tag)>(odd ? pair.odd : pair.even, low, high);
  });
}

void Generator::fill_normal(Tensor& t, double mean, double stddev) {
  fill_each(t, seed_, offset_, RandomDraw::normal, mean, stddev, [&](PhiloxPair pair, bool odd, auto tag) {
    return normal_from_bits<decltype(tag)>(pair, odd, mean, stddev);
  });
}

void Generator::fill_bernoulli(Tensor& t, double p) {
  ERC_CHECK(p >= 0.0 && p <= 1.0, "bernoulli: p must be in [0, 1], got ", p);
  fill_each(t, seed_, offset_, RandomDraw::bernoulli, p, 0.0, [&](PhiloxPair pair, bool odd, auto tag) {
    return bernoulli_from_bits<decltype(tag)>(odd ? pair.odd : pair.even, p);
  });
}

Tensor rand(const Shape& shape, Generator& gen, DType dtype, double low, double high, Device device) {
  Tensor t = Tensor::empty(shape, dtype, device);
  gen.fill_uniform(t, low, high);
  return t;
}

Tensor randn(const Shape& shape, Generator& gen, DType dtype, double mean, double stddev, Device device) {
  Tensor t = Tensor::empty(shape, dtype, device);
  gen.fill_normal(t, mean, stddev);
  return t;
}

}  // namespace erc
