// What the tests of the CPU fast paths share (ops/cpu_isa.h): the ISAs to run each under, and the error measure
// their bounds are written in (docs/TESTING.md).
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/cpu_isa.h"
#include "tensor/tensor.h"

namespace erc::test {

// Every ISA this build and CPU can run: baseline (the reference loops) first.
inline std::vector<ops::CpuIsa> available_isas() {
  std::vector<ops::CpuIsa> isas;
  for (ops::CpuIsa isa : {ops::CpuIsa::baseline, ops::CpuIsa::avx2, ops::CpuIsa::avx512})
    if (ops::cpu_isa_available(isa)) isas.push_back(isa);
  return isas;
}

// max |a - b| over max |b|: the error of a tensor relative to its own scale, so that sums over frames or channels
// (which may be large) and per-element values are judged alike; max |a - b| where b is all zeros.
inline double scaled_error(const Tensor& actual, const Tensor& expected) {
  const std::vector<double> a = actual.to(DType::f64).to_vector<double>(),
                            e = expected.to(DType::f64).to_vector<double>();
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(a[i] - e[i]));
    scale = std::max(scale, std::abs(e[i]));
  }
  return scale > 0 ? diff / scale : diff;
}

}  // namespace erc::test
