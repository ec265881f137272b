// ops/selective_scan against a sequential PyTorch loop (tools/fixtures/selective_scan.py), forward and every
// gradient, at lengths around and across the default chunk of 2048 frames.
#include <nlohmann/json.hpp>

#include "golden_util.h"
#include "ops/selective_scan.h"
#include "test_util.h"

using namespace erc;
using erc::test::expect_golden_case;
using erc::test::fixture;
using Inputs = std::vector<Tensor>;

namespace {

const std::vector<std::string> kArgs = {"u", "delta", "A", "B", "C", "D", "z", "delta_bias"};

void check(const std::string& name, DType dtype, double atol, double rtol, int64_t chunk_size = 2048) {
  SCOPED_TRACE("chunk_size " + std::to_string(chunk_size));
  const SafeTensors& fx = fixture("selective_scan");
  const auto seq_offsets = nlohmann::json::parse(fx.metadata.at(name))["seq_offsets"].get<ops::SeqOffsets>();
  expect_golden_case(
      fx, name, kArgs,
      [&](const Inputs& in) {
        return ops::selective_scan(in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], seq_offsets, chunk_size);
      },
      dtype, atol, rtol);
}

// f64: the same formulas as the reference, so agreement to rounding.
void check_f64(const std::string& name, int64_t chunk_size = 2048) {
  check(name, DType::f64, 1e-12, 1e-10, chunk_size);
}

// f32 against the f64 reference (inputs rounded to f32). Errors are a few f32 ulps (6e-8 relative) of the largest
// terms involved. Per frame, values reach ~40 in the threshold case (delta_eff ~ 22), measured error 7e-6 on dB.
// The gradients of A, D and delta_bias sum T per-frame terms computed in f32; summed in double, their rounding
// errors still add up like a random walk, sqrt(T) ulps of a term: at T = 5000 about 70 x 6e-8 x |term| with terms
// up to ~10, measured 7e-6 on dD. atol 2e-5 (+ rtol 1e-5) bounds both with a margin of about 3.
void check_f32(const std::string& name, int64_t chunk_size = 2048) { check(name, DType::f32, 2e-5, 1e-5, chunk_size); }

}  // namespace

TEST(Golden, SelectiveScanShort) {
  for (const char* name : {"len1", "len2", "len7", "len127"}) {
    check_f64(name);
    check_f32(name);
  }
}

TEST(Golden, SelectiveScanAcrossChunks) {
  for (const char* name : {"len2047", "len2048", "len2049", "len5000"}) {
    check_f64(name);
    check_f32(name);
  }
}

TEST(Golden, SelectiveScanPacked) {
  for (int64_t chunk : {2048, 16}) {
    check_f64("packed", chunk);
    check_f32("packed", chunk);
  }
}

TEST(Golden, SelectiveScanSoftplusThreshold) {
  check_f64("threshold");
  check_f32("threshold");
}
