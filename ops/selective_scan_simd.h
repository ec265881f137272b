// The selective scan's vector fast path: ops/selective_scan.cpp's reference loops with the channels of one block in
// the lanes of a vector V (ops/simd_avx2.h, ops/simd_avx512.h), so that softplus, SiLU and the N exponentials of a
// frame are V::W channels at once and the read-out y = C h needs no sum across lanes. Included only by the per-ISA
// files.
//
// The loops run state by state over pieces of kPiece frames (ops/selective_scan_cpu.h): for one state n the
// recurrence h_t = exp(dt_t A_n) h_{t-1} + dt_t B_t[n] u_t, and backward's dh_t and dA_n, are then chains in
// registers, where frame by frame over all N states they would pass through memory at every frame (N vectors of
// states, carries and sums are more than the 16 registers hold). Per-frame values (dt, y, the sums over states) wait
// in piece-sized buffers that stay in L1 or L2. A piece's rows are read and written in memory order, across the
// thread's whole range of channels: a block walking down its own column of a [T, E] tensor would miss the cache at
// every frame, one row (E values) apart, with nothing for the prefetcher to follow.
//
// The same operations in the same order as the reference, frame by frame and state by state, up to the exp and
// log1p of V (within 1 ulp of libm's), an FMA where the reference multiplies and adds, and the order of some sums:
// dB and dC add a block's lanes in the vector's precision, then in double; dA adds a piece's frames in the
// vector's precision, then in double.
#pragma once
#include <cstdint>

#include "ops/selective_scan_cpu.h"
#include "ops/simd_math.h"

namespace erc::ops::scan_cpu {

// Loads and stores of a block's `width` channels: a whole vector, or its first lanes (the rest read as 0, which
// gives those lanes zero states and zero terms of every sum).
template <typename V>
struct Lanes {
  using S = typename V::scalar;
  int64_t width;
  V load(const S* p) const { return width == V::W ? V::load(p) : V::load_n(p, width); }
  void store(S* p, V x) const { width == V::W ? V::store(p, x) : V::store_n(p, x, width); }
};

// Calls body.template operator()<U>(n0) for the states n0 .. n0 + U - 1, U at a time and the last N % U one by one.
// A state's recurrence is one long chain (the exponential's polynomial, then an FMA into the state), so a loop runs
// U states side by side for the CPU to overlap. Their loops over i < U are unrolled by pragma: left as loops, the
// compiler keeps the U states in memory, and each frame then waits on a store of the one before. A body copies what
// it reads into locals first: the vector types may alias anything, so after every vector store the compiler would
// reload each captured value through its reference.
template <int U, typename Body>
void by_states(int64_t N, Body&& body) {
  int64_t n0 = 0;
  for (; n0 + U <= N; n0 += U) body.template operator()<U>(n0);
  for (; n0 < N; ++n0) body.template operator()<1>(n0);
}

// A range's channels, as blocks of one vector (the last one possibly partial).
template <typename V>
struct Blocks {
  int64_t e0, e1, count;
  Blocks(int64_t e0_, int64_t e1_) : e0(e0_), e1(e1_), count((e1_ - e0_ + V::W - 1) / V::W) {}
  Lanes<V> lanes(int64_t b) const { return {e1 - e0 - b * V::W < V::W ? e1 - e0 - b * V::W : V::W}; }
  int64_t first(int64_t b) const { return e0 + b * V::W; }  // the block's first channel
};

// Lays out one piece's per-frame vectors block by block: at(b, r) is frame r of block b.
template <typename S, int64_t W>
struct PieceBuffer {
  S* data;
  S* at(int64_t b, int64_t r) const { return data + (b * kPiece + r) * W; }
};

// A ([block][n] vectors), delta_bias and D ([block] vectors) of a range's blocks.
template <typename V>
void load_block_constants(const Inputs<typename V::scalar>& in, const Plan<typename V::scalar>& plan,
                          const Blocks<V>& blocks, typename V::scalar* a, typename V::scalar* biases,
                          typename V::scalar* d_skips) {
  constexpr int64_t W = V::W;
  const int64_t E = in.E, N = in.N;
  for (int64_t b = 0; b < blocks.count; ++b) {
    const Lanes<V> lanes = blocks.lanes(b);
    const int64_t e = blocks.first(b);
    for (int64_t n = 0; n < N; ++n) V::store(a + (b * N + n) * W, lanes.load(plan.A_by_state + n * E + e));
    V::store(biases + b * W, lanes.load(in.delta_bias + e));
    V::store(d_skips + b * W, lanes.load(in.D + e));
  }
}

template <typename V>
int64_t forward_scratch(int64_t channels, int64_t N, int64_t) {
  return (channels + V::W - 1) / V::W * V::W * (2 * N + 5 * kPiece + 2);
}

// ForwardRange (ops/selective_scan_cpu.h), saving the state at the end of every piece (the vector kernels' chunks
// are pieces: Kernels::chunk). A piece at a time: the rows of the piece are read in memory order (the
// whole range of each row, so that the hardware prefetcher streams them), then each block runs its states one by
// one through the piece, then the outputs are written row by row.
template <typename V>
void forward_range(const Inputs<typename V::scalar>& in, const Plan<typename V::scalar>& plan, int64_t e0, int64_t e1,
                   typename V::scalar* out, typename V::scalar* states, typename V::scalar* scratch) {
  using S = typename V::scalar;
  constexpr int64_t W = V::W;
  const int64_t E = in.E, N = in.N;
  const Blocks<V> blocks(e0, e1);
  const int64_t nb = blocks.count;
  S* h = scratch;                // [block][n] vectors: the states
  S* a = h + nb * N * W;         // [block][n] vectors: A
  S* biases = a + nb * N * W;    // [block]
  S* d_skips = biases + nb * W;  // [block]
  S* piece = d_skips + nb * W;
  const PieceBuffer<S, W> dts{piece}, us{piece + nb * kPiece * W}, dt_us{piece + 2 * nb * kPiece * W},
      zs{piece + 3 * nb * kPiece * W}, ys{piece + 4 * nb * kPiece * W};
  load_block_constants(in, plan, blocks, a, biases, d_skips);
  for (int64_t s = 0; s < plan.n_seqs; ++s) {
    const int64_t begin = plan.seq_offsets[s], end = plan.seq_offsets[s + 1];
    for (int64_t i = 0; i < nb * N * W; ++i) h[i] = 0;
    for (int64_t p0 = begin, p1; p0 < end; p0 = p1) {
      p1 = p0 + kPiece < end ? p0 + kPiece : end;
      for (int64_t t = p0; t < p1; ++t)
        for (int64_t b = 0; b < nb; ++b) {
          const Lanes<V> lanes = blocks.lanes(b);
          const int64_t r = t - p0, te = t * E + blocks.first(b);
          const V dt = simd::softplus_and_slope(lanes.load(in.delta + te) + V::load(biases + b * W)).value;
          const V uu = lanes.load(in.u + te);
          V::store(dts.at(b, r), dt);
          V::store(us.at(b, r), uu);
          V::store(dt_us.at(b, r), dt * uu);
          V::store(zs.at(b, r), lanes.load(in.z + te));
          V::store(ys.at(b, r), V::zero());
        }
      for (int64_t b = 0; b < nb; ++b)
        by_states<4>(N, [&]<int U>(int64_t n0) {
          const int64_t n_states = N, frames = p1 - p0;
          const S *B = in.B + p0 * N + n0, *C = in.C + p0 * N + n0, *dt_b = dts.at(b, 0), *dt_u_b = dt_us.at(b, 0);
          S *h_b = h + (b * N + n0) * W, *y_b = ys.at(b, 0);
          V a_n[U], state[U];
#pragma GCC unroll 4
          for (int i = 0; i < U; ++i) {
            a_n[i] = V::load(a + (b * N + n0 + i) * W);
            state[i] = V::load(h_b + i * W);
          }
          for (int64_t r = 0; r < frames; ++r) {
            const V dt = V::load(dt_b + r * W), dt_u = V::load(dt_u_b + r * W);
            V y = V::load(y_b + r * W);
#pragma GCC unroll 4
            for (int i = 0; i < U; ++i) {
              state[i] = V::fma(V::exp(dt * a_n[i]), state[i], dt_u * V::set(B[r * n_states + i]));
              y = V::fma(V::set(C[r * n_states + i]), state[i], y);
            }
            V::store(y_b + r * W, y);
          }
#pragma GCC unroll 4
          for (int i = 0; i < U; ++i) V::store(h_b + i * W, state[i]);
        });
      for (int64_t t = p0; t < p1; ++t)
        for (int64_t b = 0; b < nb; ++b) {
          const int64_t r = t - p0;
          const V zz = V::load(zs.at(b, r));
          blocks.lanes(b).store(out + t * E + blocks.first(b),
                                V::fma(V::load(d_skips + b * W), V::load(us.at(b, r)), V::load(ys.at(b, r))) * zz *
                                    simd::stable_sigmoid(zz));
        }
      if (states != nullptr && p1 < end) {
        S* saved = states + (plan.first_state[s] + (p1 - begin) / kPiece - 1) * E * N;
        for (int64_t e = e0; e < e1; ++e) {
          const int64_t b = (e - e0) / W, j = (e - e0) % W;
          for (int64_t n = 0; n < N; ++n) saved[e * N + n] = h[(b * N + n) * W + j];
        }
      }
    }
  }
}

template <typename V>
int64_t backward_scratch(int64_t channels, int64_t N, int64_t) {
  constexpr int64_t W = V::W, P = kPiece;
  const int64_t nb = (channels + W - 1) / W;
  return W * (2 * N * P + (2 * P + 1) * N + 11 * nb * P + 2 * nb * N + 2 * nb);
}

// BackwardRange (ops/selective_scan_cpu.h): the reference's reverse-time walk, chunk by chunk from the last. The
// vector kernels' chunks are pieces (Kernels::chunk), so the state each piece starts from was saved by forward:
// each piece has its rows read in memory order, then each block recomputes its states and decays through the
// piece (2 N kPiece vectors, in L1 or L2) and walks back through it state by state.
template <typename V>
void backward_range(const Inputs<typename V::scalar>& in, const Plan<typename V::scalar>& plan,
                    const typename V::scalar* states, const typename V::scalar* g, int64_t e0, int64_t e1,
                    const Grads<typename V::scalar>& d, double* dB_parts, double* dC_parts,
                    const BackwardWork<typename V::scalar>& work) {
  using S = typename V::scalar;
  constexpr int64_t W = V::W, P = kPiece;
  const int64_t T = in.T, E = in.E, N = in.N;
  const Blocks<V> blocks(e0, e1);
  const int64_t nb = blocks.count;
  // The terms of dB and dC of each frame of the piece, summed over the blocks of one channel group so far: 2 N
  // vectors per frame (first in the buffer: vector-aligned). Each group's lanes are summed once it is complete.
  V* terms = reinterpret_cast<V*>(work.values);
  // hist row r: one block's states after frame r - 1 of the piece (row 0: the state it starts from); decays row r:
  // the factors exp(dt A) of frame r.
  S* hist = work.values + 2 * N * P * W;
  S* decays = hist + (P + 1) * N * W;
  S* piece = decays + P * N * W;
  // Per block and frame of the piece: softplus's value and slope, u, dt u, z, g, SiLU's sigmoid, dL/dy through the
  // gate, and the sums over states y, dh.B and dL/d(dt).
  PieceBuffer<S, W> buf[11];
  for (int i = 0; i < 11; ++i) buf[i] = {piece + i * nb * P * W};
  const PieceBuffer<S, W>&dts = buf[0], &slopes = buf[1], &us = buf[2], &dt_us = buf[3], &zs = buf[4], &gs = buf[5],
                       &sigs = buf[6], &g_hats = buf[7], &ys = buf[8], &dh_dot_bs = buf[9], &d_dts = buf[10];
  S* carry = piece + 11 * nb * P * W;  // [block][n]: dh_{t+1} exp(dt_{t+1} A), what frame t + 1 passes back
  S* a = carry + nb * N * W;           // [block][n]: A
  S* biases = a + nb * N * W;
  S* d_skips = biases + nb * W;
  double *dA = work.sums, *dD = dA + nb * N * W, *dbias = dD + nb * W;  // per block
  for (int64_t i = 0; i < nb * (N + 2) * W; ++i) work.sums[i] = 0;
  load_block_constants(in, plan, blocks, a, biases, d_skips);
  const V one = V::set(S(1));
  for (int64_t s = 0; s < plan.n_seqs; ++s) {
    const int64_t begin = plan.seq_offsets[s], end = plan.seq_offsets[s + 1];
    for (int64_t i = 0; i < nb * N * W; ++i) carry[i] = 0;
    for (int64_t k = (end - begin + P - 1) / P - 1; k >= 0; --k) {
      const int64_t p0 = begin + k * P, p1 = p0 + P < end ? p0 + P : end;
      for (int64_t t = p0; t < p1; ++t)
        for (int64_t b = 0; b < nb; ++b) {
          const Lanes<V> lanes = blocks.lanes(b);
          const int64_t r = t - p0, te = t * E + blocks.first(b);
          const simd::Softplus<V> sp = simd::softplus_and_slope(lanes.load(in.delta + te) + V::load(biases + b * W));
          const V uu = lanes.load(in.u + te), zz = lanes.load(in.z + te), gg = lanes.load(g + te);
          const V sig = simd::stable_sigmoid(zz);
          V::store(dts.at(b, r), sp.value);
          V::store(slopes.at(b, r), sp.slope);
          V::store(us.at(b, r), uu);
          V::store(dt_us.at(b, r), sp.value * uu);
          V::store(zs.at(b, r), zz);
          V::store(gs.at(b, r), gg);
          V::store(sigs.at(b, r), sig);
          V::store(g_hats.at(b, r), gg * zz * sig);
          V::store(ys.at(b, r), V::zero());
          V::store(dh_dot_bs.at(b, r), V::zero());
          V::store(d_dts.at(b, r), V::zero());
        }
      for (int64_t b = 0; b < nb; ++b) {
        for (int64_t i = 0; i < N * W; ++i) hist[i] = 0;
        if (k > 0) {
          const S* saved = states + (plan.first_state[s] + k - 1) * E * N + blocks.first(b) * N;
          for (int64_t j = 0; j < blocks.lanes(b).width; ++j)
            for (int64_t n = 0; n < N; ++n) hist[n * W + j] = saved[j * N + n];
        }
        by_states<4>(N, [&]<int U>(int64_t n0) {
          const int64_t n_states = N, frames = p1 - p0;
          const S *B = in.B + p0 * N + n0, *dt_b = dts.at(b, 0), *dt_u_b = dt_us.at(b, 0);
          S *hist_n = hist + n0 * W, *decays_n = decays + n0 * W;
          V a_n[U], state[U];
#pragma GCC unroll 4
          for (int i = 0; i < U; ++i) {
            a_n[i] = V::load(a + (b * N + n0 + i) * W);
            state[i] = V::load(hist_n + i * W);
          }
          for (int64_t r = 0; r < frames; ++r) {
            const V dt = V::load(dt_b + r * W), dt_u = V::load(dt_u_b + r * W);
#pragma GCC unroll 4
            for (int i = 0; i < U; ++i) {
              const V decay = V::exp(dt * a_n[i]);
              V::store(decays_n + (r * n_states + i) * W, decay);
              state[i] = V::fma(decay, state[i], dt_u * V::set(B[r * n_states + i]));
              V::store(hist_n + ((r + 1) * n_states + i) * W, state[i]);
            }
          }
        });
        by_states<2>(N, [&]<int U>(int64_t n0) {
          const int64_t n_states = N, frames = p1 - p0;
          const S *B = in.B + p0 * N + n0, *C = in.C + p0 * N + n0, *hist_n = hist + n0 * W;
          const S *decays_n = decays + n0 * W, *g_hat_b = g_hats.at(b, 0), *dt_b = dts.at(b, 0);
          const S *dt_u_b = dt_us.at(b, 0), *u_b = us.at(b, 0);
          S *y_b = ys.at(b, 0), *dh_dot_b_b = dh_dot_bs.at(b, 0), *d_dt_b = d_dts.at(b, 0);
          V* terms_n = terms + n0;
          const bool first_of_group = blocks.first(b) % kGroupChannels == 0;
          V a_n[U], dh_next[U], dA_n[U];  // dA over the piece, in the vector's precision, then added in double
#pragma GCC unroll 4
          for (int i = 0; i < U; ++i) {
            a_n[i] = V::load(a + (b * N + n0 + i) * W);
            dh_next[i] = V::load(carry + (b * N + n0 + i) * W);
            dA_n[i] = V::zero();
          }
          for (int64_t r = frames - 1; r >= 0; --r) {
            const V g_hat = V::load(g_hat_b + r * W), dt = V::load(dt_b + r * W), dt_u = V::load(dt_u_b + r * W);
            const V uu = V::load(u_b + r * W);
            V y = V::load(y_b + r * W), dh_dot_b = V::load(dh_dot_b_b + r * W), d_dt = V::load(d_dt_b + r * W);
#pragma GCC unroll 4
            for (int i = 0; i < U; ++i) {
              const V bn = V::set(B[r * n_states + i]), cn = V::set(C[r * n_states + i]);
              const V h = V::load(hist_n + ((r + 1) * n_states + i) * W);
              const V decay = V::load(decays_n + (r * n_states + i) * W);
              const V dh = V::fma(g_hat, cn, dh_next[i]);
              const V kept =
                  decay * V::load(hist_n + (r * n_states + i) * W);  // exp(dt A) h_{t-1}, as in the reference
              y = V::fma(cn, h, y);
              dh_dot_b = V::fma(dh, bn, dh_dot_b);
              d_dt = V::fma(dh, V::fma(bn, uu, a_n[i] * kept), d_dt);
              dA_n[i] = V::fma(dh * dt, kept, dA_n[i]);
              V& dB_term = terms_n[r * 2 * n_states + i];
              V& dC_term = terms_n[r * 2 * n_states + n_states + i];
              dB_term = first_of_group ? dh * dt_u : dB_term + dh * dt_u;
              dC_term = first_of_group ? g_hat * h : dC_term + g_hat * h;
              dh_next[i] = decay * dh;
            }
            V::store(y_b + r * W, y);
            V::store(dh_dot_b_b + r * W, dh_dot_b);
            V::store(d_dt_b + r * W, d_dt);
          }
#pragma GCC unroll 4
          for (int i = 0; i < U; ++i) {
            V::store(carry + (b * N + n0 + i) * W, dh_next[i]);
            V::acc_store(dA + (b * N + n0 + i) * W, V::acc_add(V::acc_load(dA + (b * N + n0 + i) * W), dA_n[i]));
          }
        });
        const int64_t group = blocks.first(b) / kGroupChannels;
        if (b + 1 < nb && blocks.first(b + 1) / kGroupChannels == group) continue;
        for (int64_t t = p1 - 1; t >= p0; --t) {
          const int64_t r = t - p0;
          V::add_lane_sums(terms + r * 2 * N, N, dB_parts + (group * T + t) * N);
          V::add_lane_sums(terms + r * 2 * N + N, N, dC_parts + (group * T + t) * N);
        }
      }
      for (int64_t t = p1 - 1; t >= p0; --t)
        for (int64_t b = 0; b < nb; ++b) {
          const Lanes<V> lanes = blocks.lanes(b);
          const int64_t r = t - p0, te = t * E + blocks.first(b);
          const V uu = V::load(us.at(b, r)), zz = V::load(zs.at(b, r)), sig = V::load(sigs.at(b, r));
          const V g_hat = V::load(g_hats.at(b, r)), d_skip = V::load(d_skips + b * W);
          const V d_delta = V::load(d_dts.at(b, r)) * V::load(slopes.at(b, r));
          lanes.store(d.u + te, V::fma(d_skip, g_hat, V::load(dts.at(b, r)) * V::load(dh_dot_bs.at(b, r))));
          lanes.store(d.delta + te, d_delta);
          lanes.store(d.z + te,
                      V::load(gs.at(b, r)) * V::fma(d_skip, uu, V::load(ys.at(b, r))) * sig * (one + zz * (one - sig)));
          V::acc_store(dbias + b * W, V::acc_add(V::acc_load(dbias + b * W), d_delta));
          V::acc_store(dD + b * W, V::acc_add(V::acc_load(dD + b * W), g_hat * uu));
        }
    }
  }
  for (int64_t e = e0; e < e1; ++e) {
    const int64_t b = (e - e0) / W, j = (e - e0) % W;
    for (int64_t n = 0; n < N; ++n) d.A[e * N + n] = S(dA[(b * N + n) * W + j]);
    d.D[e] = S(dD[b * W + j]);
    d.delta_bias[e] = S(dbias[b * W + j]);
  }
}

}  // namespace erc::ops::scan_cpu
