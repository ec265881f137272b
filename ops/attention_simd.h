// The attention op's probability row over a vector type V (ops/simd_avx2.h, ops/simd_avx512.h): the reference loop
// of ops/attention.cpp with W keys at a time. Its three passes over the row (scores and their max, exponentials and
// their sum, the division) stay in L1, so what the scalar loop spent was the scalar exp, 0.25M of them per head
// of a 10 s clip. It differs from the reference by the vector exp (ops/simd_exp.h, within 1 ulp of expf), an FMA
// where the reference multiplies and adds, and the order of the sum, which runs per lane in double and then adds
// the lanes in lane order. Included only by the per-ISA files, and calls no std:: template: an instance of one compiled
// here for a wide ISA could be the one the linker keeps for the baseline code.
#pragma once
#include <cmath>
#include <cstdint>

#include "ops/attention_cpu.h"

namespace erc::ops::attention_cpu {

template <typename V>
void probability_row(float* row, const float* bias, float scale, float gate, int64_t n) {
  const int64_t whole = n - n % V::W, tail = n - whole;
  const V vscale = V::set(scale), vgate = V::set(gate);
  alignas(64) float lanes[V::W];
  V vmax = V::set(-INFINITY);
  for (int64_t j = 0; j < whole; j += V::W) {
    const V s = V::fma(vscale, V::load(row + j), vgate * V::load(bias + j));
    V::store(row + j, s);
    vmax = V::max(vmax, s);
  }
  V::store(lanes, vmax);
  float m = lanes[0];
  for (int64_t l = 1; l < V::W; ++l) m = lanes[l] > m ? lanes[l] : m;
  for (int64_t j = whole; j < n; ++j) {
    row[j] = scale * row[j] + gate * bias[j];
    m = row[j] > m ? row[j] : m;
  }
  const V vm = V::set(m);
  alignas(64) double sums[V::W] = {};
  typename V::Acc acc = V::acc_load(sums);
  for (int64_t j = 0; j < whole; j += V::W) {
    const V e = V::exp(V::load(row + j) - vm);
    V::store(row + j, e);
    acc = V::acc_add(acc, e);
  }
  V::acc_store(sums, acc);
  double total = 0;
  for (double s : sums) total += s;
  if (tail > 0) {
    V::store_n(row + whole, V::exp(V::load_n(row + whole, tail) - vm), tail);
    for (int64_t j = whole; j < n; ++j) total += double(row[j]);
  }
  const V inv = V::set(float(1.0 / total));
  for (int64_t j = 0; j < whole; j += V::W) V::store(row + j, V::load(row + j) * inv);
  if (tail > 0) V::store_n(row + whole, V::load_n(row + whole, tail) * inv, tail);
}

}  // namespace erc::ops::attention_cpu
