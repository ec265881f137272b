// The selective scan's vector fast path: ops/selective_scan.cpp's reference loops with the channels of one block in
// the lanes of a vector V (ops/simd_avx2.h, ops/simd_avx512.h), so that softplus, SiLU and the N exponentials of a
// frame are V::W channels at once and the read-out y = C h needs no sum across lanes. The same operations in the
// same order as the reference, up to SLEEF's exp and log1p (1.0 ulp against libm's) and the order in which dB and
// dC add a block's channels (lanes summed in float, then added in double). Included only by the per-ISA files.
#pragma once
#include <cstdint>

#include "ops/selective_scan_cpu.h"

namespace erc::ops::scan_cpu {

// Lane by lane, the reference's softplus_and_slope (threshold 20) and stable_sigmoid (ops/unary_cuda.h).
template <typename V>
struct Softplus {
  V value, slope;
};
template <typename V>
Softplus<V> softplus_and_slope(V x) {
  using S = typename V::scalar;
  const V one = V::set(S(1)), above = V::greater(x, V::set(S(20)));
  const V e = V::exp(V::min(x, V::set(S(20))));
  return {V::where(above, x, V::log1p(e)), V::where(above, one, e / (e + one))};
}
template <typename V>
V stable_sigmoid(V x) {
  using S = typename V::scalar;
  const V one = V::set(S(1)), e = V::exp(V::zero() - V::abs(x));
  return V::where(V::greater_equal(x, V::zero()), one / (one + e), e / (one + e));
}

// Loads and stores of vector q of a block of K vectors holding `width` channels: whole vectors, or the first lanes
// of a partial one (the rest read as 0, which gives those lanes zero states and zero terms of every sum).
template <typename V>
struct Lanes {
  using S = typename V::scalar;
  int64_t width;
  int64_t in(int64_t q) const { return width - q * V::W; }  // channels of vector q (V::W or more: all of it)
  V load(const S* p, int64_t q) const {
    const int64_t n = in(q);
    return n >= V::W ? V::load(p + q * V::W) : n > 0 ? V::load_n(p + q * V::W, n) : V::zero();
  }
  void store(S* p, int64_t q, V x) const {
    const int64_t n = in(q);
    if (n >= V::W) {
      V::store(p + q * V::W, x);
    } else if (n > 0) {
      V::store_n(p + q * V::W, x, n);
    }
  }
};

// A block reads one cache line of each [T, E] tensor per frame, E values apart: a miss every frame, which the
// N exponentials in between are too long for the CPU to look past. So the lines kAhead frames on are asked for
// early. (A frame of a sequence is as far from the end as the prefetch may look, but not farther.)
constexpr int64_t kAhead = 4;
template <typename S>
void prefetch_rows(int64_t t, int64_t lo, int64_t hi, int64_t E, int64_t e0, const S* a, const S* b, const S* c,
                   const S* w) {
  if (t < lo || t >= hi) return;
  __builtin_prefetch(a + t * E + e0);
  __builtin_prefetch(b + t * E + e0);
  __builtin_prefetch(c + t * E + e0);
  __builtin_prefetch(w + t * E + e0, 1);
}

// ForwardBlock (ops/selective_scan_cpu.h) for blocks of K vectors (one cache line of each [T, E] tensor per frame,
// so that no line is fetched twice). `h` holds 2 N K V::W values: the states, state-major, then the block's A.
template <typename V, int K>
void forward_block(const Inputs<typename V::scalar>& in, const Plan<typename V::scalar>& plan, int64_t e0,
                   int64_t width, typename V::scalar* out, typename V::scalar* states, typename V::scalar* h) {
  using S = typename V::scalar;
  constexpr int64_t W = V::W, BW = K * V::W;
  const int64_t E = in.E, N = in.N;
  const Lanes<V> lanes{width};
  S* a = h + N * BW;
  V bias[K], d_skip[K];
  for (int q = 0; q < K; ++q) {
    for (int64_t n = 0; n < N; ++n) V::store(a + n * BW + q * W, lanes.load(plan.A_by_state + n * E + e0, q));
    bias[q] = lanes.load(in.delta_bias + e0, q);
    d_skip[q] = lanes.load(in.D + e0, q);
  }
  for (int64_t s = 0; s < plan.n_seqs; ++s) {
    const int64_t begin = plan.seq_offsets[s], end = plan.seq_offsets[s + 1];
    for (int64_t i = 0; i < N * BW; ++i) h[i] = 0;
    for (int64_t t = begin; t < end; ++t) {
      const int64_t te = t * E + e0;
      const S *b = in.B + t * N, *c = in.C + t * N;
      prefetch_rows(t + kAhead, begin, end, E, e0, in.delta, in.u, in.z, static_cast<const S*>(out));
      V dt[K], uu[K], dt_u[K], y[K];
      for (int q = 0; q < K; ++q) {
        dt[q] = softplus_and_slope(lanes.load(in.delta + te, q) + bias[q]).value;
        uu[q] = lanes.load(in.u + te, q);
        dt_u[q] = dt[q] * uu[q];
        y[q] = V::zero();
      }
      for (int64_t n = 0; n < N; ++n) {
        const V bn = V::set(b[n]), cn = V::set(c[n]);
        for (int q = 0; q < K; ++q) {
          S* hn = h + n * BW + q * W;
          const V state = V::fma(V::exp(dt[q] * V::load(a + n * BW + q * W)), V::load(hn), dt_u[q] * bn);
          V::store(hn, state);
          y[q] = V::fma(cn, state, y[q]);
        }
      }
      for (int q = 0; q < K; ++q) {
        const V zz = lanes.load(in.z + te, q);
        lanes.store(out + te, q, V::fma(d_skip[q], uu[q], y[q]) * zz * stable_sigmoid(zz));
      }
      const int64_t done = t + 1 - begin;
      if (states != nullptr && done % plan.chunk_size == 0 && t + 1 < end) {
        S* saved = states + (plan.first_state[s] + done / plan.chunk_size - 1) * E * N + e0 * N;
        for (int64_t j = 0; j < width; ++j)
          for (int64_t n = 0; n < N; ++n) saved[j * N + n] = h[n * BW + j];
      }
    }
  }
}

// Frames that backward recomputes and walks back at a time: their states and decays, 2 N kSubChunk vectors, stay in
// L1 or L2, where the reference's whole chunk would stream through memory twice.
constexpr int64_t kSubChunk = 32;

// BackwardBlock (ops/selective_scan_cpu.h): the reference's reverse-time walk, K vectors at a time, with one more
// level of recomputation: each chunk is first walked forward keeping only the state at every kSubChunk-th frame,
// then each piece of kSubChunk frames, last first, is recomputed from its state and walked back. The exponentials
// are computed twice; the bytes moved are a chunk's states instead of all of them.
template <typename V, int K>
void backward_block(const Inputs<typename V::scalar>& in, const Plan<typename V::scalar>& plan,
                    const typename V::scalar* states, const typename V::scalar* g, int64_t e0, int64_t width,
                    const Grads<typename V::scalar>& d, double* dB_sum, double* dC_sum,
                    const BackwardWork<typename V::scalar>& work) {
  using S = typename V::scalar;
  constexpr int64_t W = V::W, BW = K * V::W;
  const int64_t E = in.E, N = in.N;
  const int64_t sub = plan.chunk_rows < kSubChunk ? plan.chunk_rows : kSubChunk;
  const Lanes<V> lanes{width};
  // Row r of `hist` holds the states of frame p0 + r - 1 for the piece [p0, p1) (row 0: the state it starts from),
  // row r of `decays` the factors exp(dt A) of frame p0 + r; each row is N blocks, state-major. marks[m] is the
  // state before frame c0 + m sub of the chunk.
  S* hist = work.values;
  S* decays = hist + (sub + 1) * N * BW;
  S* dts = decays + sub * N * BW;
  S* slopes = dts + sub * BW;
  S* carry = slopes + sub * BW;
  S* a = carry + N * BW;
  V* terms = reinterpret_cast<V*>(a + N * BW);  // 2 N vectors: this frame's dB and dC terms; aligned by its owner
  S* marks = a + 3 * N * BW;
  double *dA = work.sums, *dD = dA + N * BW, *dbias = dD + BW;
  for (int64_t i = 0; i < (N + 2) * BW; ++i) work.sums[i] = 0;
  V bias[K], d_skip[K];
  for (int q = 0; q < K; ++q) {
    for (int64_t n = 0; n < N; ++n) V::store(a + n * BW + q * W, lanes.load(plan.A_by_state + n * E + e0, q));
    bias[q] = lanes.load(in.delta_bias + e0, q);
    d_skip[q] = lanes.load(in.D + e0, q);
  }
  const V one = V::set(S(1));
  // Frame t's softplus and decays from the state in `from` to the state in `to` (`decay_row` may be null).
  auto advance = [&](int64_t t, const S* from, S* to, S* decay_row, S* dt_out, S* slope_out) {
    const int64_t te = t * E + e0;
    const S* b = in.B + t * N;
    V dt[K], dt_u[K];
    for (int q = 0; q < K; ++q) {
      const Softplus<V> sp = softplus_and_slope(lanes.load(in.delta + te, q) + bias[q]);
      if (dt_out != nullptr) {
        V::store(dt_out + q * W, sp.value);
        V::store(slope_out + q * W, sp.slope);
      }
      dt[q] = sp.value;
      dt_u[q] = sp.value * lanes.load(in.u + te, q);
    }
    for (int64_t n = 0; n < N; ++n) {
      const V bn = V::set(b[n]);
      for (int q = 0; q < K; ++q) {
        const int64_t at = n * BW + q * W;
        const V decay = V::exp(dt[q] * V::load(a + at));
        if (decay_row != nullptr) V::store(decay_row + at, decay);
        V::store(to + at, V::fma(decay, V::load(from + at), dt_u[q] * bn));
      }
    }
  };
  for (int64_t s = 0; s < plan.n_seqs; ++s) {
    const int64_t begin = plan.seq_offsets[s], end = plan.seq_offsets[s + 1];
    for (int64_t i = 0; i < N * BW; ++i) carry[i] = 0;
    const int64_t n_chunks = (end - begin + plan.chunk_size - 1) / plan.chunk_size;
    for (int64_t k = n_chunks - 1; k >= 0; --k) {
      const int64_t c0 = begin + k * plan.chunk_size;
      const int64_t c1 = c0 + plan.chunk_size < end ? c0 + plan.chunk_size : end;
      for (int64_t i = 0; i < N * BW; ++i) marks[i] = 0;
      if (k > 0) {
        const S* saved = states + (plan.first_state[s] + k - 1) * E * N + e0 * N;
        for (int64_t j = 0; j < width; ++j)
          for (int64_t n = 0; n < N; ++n) marks[n * BW + j] = saved[j * N + n];
      }
      const int64_t n_pieces = (c1 - c0 + sub - 1) / sub;
      for (int64_t m = 1; m < n_pieces; ++m) {
        const S* from = marks + (m - 1) * N * BW;
        S* to = marks + m * N * BW;
        for (int64_t t = c0 + (m - 1) * sub; t < c0 + m * sub; ++t) {
          prefetch_rows(t + kAhead, c0, c1, E, e0, in.delta, in.u, in.u, in.u);
          advance(t, t == c0 + (m - 1) * sub ? from : to, to, nullptr, nullptr, nullptr);
        }
      }
      for (int64_t m = n_pieces - 1; m >= 0; --m) {
        const int64_t p0 = c0 + m * sub, p1 = p0 + sub < c1 ? p0 + sub : c1;
        for (int64_t i = 0; i < N * BW; ++i) hist[i] = marks[m * N * BW + i];
        for (int64_t t = p0; t < p1; ++t) {
          const int64_t r = t - p0;
          prefetch_rows(t + kAhead, p0, p1, E, e0, in.delta, in.u, in.z, g);
          advance(t, hist + r * N * BW, hist + (r + 1) * N * BW, decays + r * N * BW, dts + r * BW, slopes + r * BW);
        }
        for (int64_t t = p1 - 1; t >= p0; --t) {
          const int64_t r = t - p0, te = t * E + e0;
          const S *b = in.B + t * N, *c = in.C + t * N;
          V dt[K], uu[K], zz[K], gg[K], sig[K], g_hat[K], dt_u[K], y[K], dh_dot_b[K], d_dt[K];
          for (int q = 0; q < K; ++q) {
            dt[q] = V::load(dts + r * BW + q * W);
            uu[q] = lanes.load(in.u + te, q);
            zz[q] = lanes.load(in.z + te, q);
            gg[q] = lanes.load(g + te, q);
            sig[q] = stable_sigmoid(zz[q]);
            g_hat[q] = gg[q] * zz[q] * sig[q];
            dt_u[q] = dt[q] * uu[q];
            y[q] = dh_dot_b[q] = d_dt[q] = V::zero();
          }
          for (int64_t n = 0; n < N; ++n) {
            const V bn = V::set(b[n]), cn = V::set(c[n]);
            V dB_term = V::zero(), dC_term = V::zero();
            for (int q = 0; q < K; ++q) {
              const int64_t at = (r * N + n) * BW + q * W;
              const V h = V::load(hist + at + N * BW), decay = V::load(decays + at);
              const V dh = V::fma(g_hat[q], cn, V::load(carry + n * BW + q * W));
              const V kept = decay * V::load(hist + at);
              y[q] = V::fma(cn, h, y[q]);
              dh_dot_b[q] = V::fma(dh, bn, dh_dot_b[q]);
              d_dt[q] = V::fma(dh, V::fma(bn, uu[q], V::load(a + n * BW + q * W) * kept), d_dt[q]);
              V::add_to(dA + n * BW + q * W, dh * dt[q] * kept);
              dB_term = dB_term + dh * dt_u[q];
              dC_term = dC_term + g_hat[q] * h;
              V::store(carry + n * BW + q * W, decay * dh);
            }
            terms[n] = dB_term;
            terms[N + n] = dC_term;
          }
          V::add_lane_sums(terms, N, dB_sum + t * N);
          V::add_lane_sums(terms + N, N, dC_sum + t * N);
          for (int q = 0; q < K; ++q) {
            const V d_delta = d_dt[q] * V::load(slopes + r * BW + q * W);
            lanes.store(d.u + te, q, V::fma(d_skip[q], g_hat[q], dt[q] * dh_dot_b[q]));
            lanes.store(d.delta + te, q, d_delta);
            lanes.store(d.z + te, q, gg[q] * V::fma(d_skip[q], uu[q], y[q]) * sig[q] * (one + zz[q] * (one - sig[q])));
            V::add_to(dbias + q * W, d_delta);
            V::add_to(dD + q * W, g_hat[q] * uu[q]);
          }
        }
      }
    }
  }
  for (int64_t j = 0; j < width; ++j) {
    for (int64_t n = 0; n < N; ++n) d.A[(e0 + j) * N + n] = S(dA[n * BW + j]);
    d.D[e0 + j] = S(dD[j]);
    d.delta_bias[e0 + j] = S(dbias[j]);
  }
}

}  // namespace erc::ops::scan_cpu
