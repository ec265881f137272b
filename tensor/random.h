// A seeded generator whose streams are the same on every platform, every thread count and every device.
//
// Philox4x32-10 (tensor/philox.h) is counter based: element i of a draw is a pure function of (seed, offset + i / 2).
// That makes results independent of how the work is split over threads, and lets a CUDA kernel draw the CPU's
// dropout masks bit for bit. The transforms to uniform, normal and Bernoulli are erc's own (tensor/philox.h);
// std:: distributions differ between standard libraries.
#pragma once
#include <cstdint>

#include "tensor/philox.h"
#include "tensor/tensor.h"

namespace erc {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}

  // Every fill consumes ceil(numel / 2) counters: element i reads the 64 bits of half (i % 2) of block i / 2.
  // The tensor must be contiguous and floating; a device tensor is filled on the device with the same values.
  void fill_uniform(Tensor& t, double low = 0.0, double high = 1.0);  // [low, high)
  void fill_normal(Tensor& t, double mean = 0.0, double stddev = 1.0);  // Box-Muller, both outputs of a pair used
  void fill_bernoulli(Tensor& t, double p);                            // 1 with probability p, else 0

  // Scalar draws on the host (each 64-bit draw consumes one counter): for shuffles, sampling and the corpora.
  uint64_t next_u64() { return philox_bits64(seed_, offset_++, 0); }
  double next_uniform() { return unit_double(next_u64()); }  // [0, 1)
  double next_uniform(double low, double high) { return low + (high - low) * next_uniform(); }
  double next_normal() {  // the first normal of a Box-Muller pair (two draws)
    const double u1 = 1.0 - next_uniform();
    return box_muller(u1, next_uniform(), false);
  }
  // Uniform in [0, n), n > 0; the modulo bias (n / 2^64) is far below anything a shuffle can show.
  uint64_t next_index(uint64_t n) { return next_u64() % n; }

  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }  // with seed(), the whole state: save both to resume a stream
  void set_state(uint64_t seed, uint64_t offset) {
    seed_ = seed;
    offset_ = offset;
  }

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
};

// Fresh tensors drawn from a generator (on the host unless a device is given).
Tensor rand(const Shape& shape, Generator& gen, DType dtype = DType::f32, double low = 0.0, double high = 1.0,
            Device device = Device::cpu);
Tensor randn(const Shape& shape, Generator& gen, DType dtype = DType::f32, double mean = 0.0, double stddev = 1.0,
             Device device = Device::cpu);

}  // namespace erc
