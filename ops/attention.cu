#include <cmath>
#include <type_traits>
#include <vector>

#include "cuda/kernel.h"
#include "ops/attention_cuda.h"
#include "ops/block_reduce.cuh"
#include "ops/packed_cuda.h"

namespace erc::ops::cuda {

namespace {

constexpr unsigned kRows = 8;       // query rows per forward block, a warp each
constexpr unsigned kKeys = 64;      // keys per tile; lane l takes keys l and l + 32
constexpr int64_t kMaxDh = 128;     // dimensions of a head the kernels take (WavLM's: 64)
constexpr unsigned kThreads = 128;  // of the backward's one-thread-per-row kernels

template <typename T>
struct Pointers {
  const T *q, *k, *v, *gate, *rel_embed;
  const int64_t *offsets, *distance_bucket;
  int64_t n_seqs, H, Dh;
  int64_t reach;  // distances at or beyond reach share one bucket per side
  int64_t half;   // num_buckets / 2: the buckets of j > i start here
};

template <typename T>
Pointers<T> pointers_of(const AttentionArgs& a) {
  const int64_t H = a.gate.size(1);
  return {a.q.device_data<T>(),
          a.k.device_data<T>(),
          a.v.device_data<T>(),
          a.gate.device_data<T>(),
          a.rel_embed.device_data<T>(),
          a.offsets.device_data<int64_t>(),
          a.distance_bucket.device_data<int64_t>(),
          a.offsets.size(0) - 1,
          H,
          a.q.size(1) / H,
          a.distance_bucket.size(0) - 1,
          a.num_buckets / 2};
}

// The bucket of relative position r = j - i, from the table of distances.
template <typename T>
__device__ int64_t bucket_of(const Pointers<T>& p, int64_t r) {
  const int64_t d = r < 0 ? -r : r;
  return (r > 0 ? p.half : 0) + p.distance_bucket[d < p.reach ? d : p.reach];
}

// Block (tile, h) computes rows tile_first[tile] .. + kRows - 1 (within one sequence) of head h; warp w owns row
// first + w. Each lane keeps a softmax of its own over the keys it takes (l, l + 32, ... of every tile): its running
// maximum, its sum and its share of the output over all Dh dimensions, rescaled when its maximum moves (the online
// softmax). The 32 lanes' shares meet once, at the end, in a butterfly: no lane waits for another within a tile.
// Shared memory: the head's bias for r = -reach .. reach, the rows' queries, and a tile of keys and of values (rows
// padded by one element, so that the lanes, each on its own key, fall in distinct banks).
template <typename T, int64_t MaxDh>
__global__ void attention_forward_kernel(Pointers<T> p, const int64_t* tile_first, T scale, T* out) {
  ERC_DYNAMIC_SHARED(T, shared);
  const int64_t Dh = p.Dh, HD = p.H * Dh, h = blockIdx.y, reach = p.reach;
  T* bias = shared;                       // [2 reach + 1]
  T* q_rows = bias + 2 * reach + 1;       // [kRows, Dh]
  T* k_tile = q_rows + kRows * Dh;        // [kKeys, Dh + 1]
  T* v_tile = k_tile + kKeys * (Dh + 1);  // [kKeys, Dh + 1]
  const int64_t first = tile_first[blockIdx.x];
  const int64_t s = sequence_of(p.offsets, p.n_seqs, first), begin = p.offsets[s], end = p.offsets[s + 1];
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int64_t i = first + warp;
  const bool has_row = i < end;  // the same for the whole warp, so its shuffles have every lane
  for (int64_t e = threadIdx.x; e < 2 * reach + 1; e += blockDim.x)
    bias[e] = p.rel_embed[bucket_of(p, e - reach) * p.H + h];
  for (int64_t e = threadIdx.x; e < int64_t(kRows) * Dh; e += blockDim.x) {
    const int64_t row = first + e / Dh;
    q_rows[e] = row < end ? p.q[row * HD + h * Dh + e % Dh] : T(0);
  }
  const T gate = has_row ? p.gate[i * p.H + h] : T(0);
  T m = -INFINITY, total = 0, acc[MaxDh] = {};
  for (int64_t j0 = begin; j0 < end; j0 += kKeys) {
    const int64_t keys = end - j0 < int64_t(kKeys) ? end - j0 : int64_t(kKeys);
    __syncthreads();  // the last tile is read by every warp (and, the first time, the bias and queries are written)
    for (int64_t e = threadIdx.x; e < keys * Dh; e += blockDim.x) {
      const int64_t jj = e / Dh, d = e % Dh, at = (j0 + jj) * HD + h * Dh + d;
      k_tile[jj * (Dh + 1) + d] = p.k[at];
      v_tile[jj * (Dh + 1) + d] = p.v[at];
    }
    __syncthreads();
    if (!has_row) continue;
    for (int64_t jj = lane; jj < keys; jj += 32) {
      T dot = 0;
      for (int64_t d = 0; d < Dh; ++d) dot += q_rows[warp * Dh + d] * k_tile[jj * (Dh + 1) + d];
      int64_t r = j0 + jj - i;
      r = r < -reach ? -reach : (r > reach ? reach : r);
      const T score = scale * dot + gate * bias[r + reach];
      if (score > m) {  // the maximum moves: what was summed under the old one is rescaled
        const T rescale = std::exp(m - score);
        total *= rescale;
        ERC_UNROLL
        for (int64_t d = 0; d < MaxDh; ++d) acc[d] *= rescale;
        m = score;
      }
      const T prob = std::exp(score - m);
      total += prob;
      // Over MaxDh, unrolled: acc's indices are constants, so it lives in registers.
      ERC_UNROLL
      for (int64_t d = 0; d < MaxDh; ++d)
        if (d < Dh) acc[d] += prob * v_tile[jj * (Dh + 1) + d];
    }
  }
  if (!has_row) return;
  // A lane without keys (a row of fewer than 32) has m = -inf and weighs 0.
  const T m_row = warp_all_reduce(m, Max{});
  const T weight = m == -INFINITY ? T(0) : std::exp(m - m_row);
  const T inv_total = T(1) / warp_all_reduce(total * weight, Plus{});
  ERC_UNROLL
  for (int64_t d = 0; d < MaxDh; ++d) {
    if (d >= Dh) break;
    const T value = warp_all_reduce(acc[d] * weight, Plus{});
    if (d % 32 == lane) out[i * HD + h * Dh + d] = value * inv_total;
  }
}

// The backward, in double, a thread per row: a query row (i, h) for dq, dgate and the bias partials, a key row
// (j, h) for dk and dv. score(i, j) = scale q_i . k_j + gate_i bias(j - i), p = exp(score - m_i) / l_i and
// dscore = p (g_i . v_j - g_i . out_i). A thread holds its own row's vectors; the others' it reads as it goes.
template <typename T>
struct RowOf {
  double x[kMaxDh];
  __device__ RowOf(const T* row, int64_t Dh) {
    for (int64_t d = 0; d < Dh; ++d) x[d] = double(row[d]);
  }
};

template <typename T>
__device__ double dot_of(const double* a, const T* b, int64_t n) {
  double dot = 0;
  for (int64_t d = 0; d < n; ++d) dot += a[d] * double(b[d]);
  return dot;
}

template <typename T>
__device__ double bias_of(const Pointers<T>& p, int64_t r, int64_t h) {
  return double(p.rel_embed[bucket_of(p, r) * p.H + h]);
}

// stats[(i H + h) 3 + {0, 1, 2}] = the row's maximum score m, its sum of exp(score - m) l (one pass, the sum
// rescaled as the maximum moves), and g_i . out_i.
template <typename T>
__global__ void attention_stats_kernel(Pointers<T> p, const T* out, const T* g, double scale, double* stats,
                                       int64_t n_rows) {
  for (int64_t e = global_thread(); e < n_rows; e += grid_threads()) {
    const int64_t i = e / p.H, h = e % p.H, s = sequence_of(p.offsets, p.n_seqs, i), at = i * p.H * p.Dh + h * p.Dh;
    const RowOf<T> q(p.q + at, p.Dh);
    const double gate = double(p.gate[e]);
    double m = -INFINITY, l = 0;
    for (int64_t j = p.offsets[s]; j < p.offsets[s + 1]; ++j) {
      const double score = scale * dot_of(q.x, p.k + j * p.H * p.Dh + h * p.Dh, p.Dh) + gate * bias_of(p, j - i, h);
      if (score > m) l *= std::exp(m - score), m = score;
      l += std::exp(score - m);
    }
    const RowOf<T> gi(g + at, p.Dh);
    stats[e * 3] = m, stats[e * 3 + 1] = l, stats[e * 3 + 2] = dot_of(gi.x, out + at, p.Dh);
  }
}

// A thread per (i, h), j ascending: dq_i = scale sum_j dscore k_j, dgate_i = sum_j dscore bias(j - i), and
// bias_part[(i H + h) num_buckets + b] = gate_i sum of dscore over the j in bucket b (each bucket is one run of j).
template <typename T>
__global__ void attention_dq_kernel(Pointers<T> p, const double* stats, const T* g, double scale, T* dq, T* dgate,
                                    double* bias_part, int64_t n_rows) {
  for (int64_t e = global_thread(); e < n_rows; e += grid_threads()) {
    const int64_t i = e / p.H, h = e % p.H, s = sequence_of(p.offsets, p.n_seqs, i), HD = p.H * p.Dh;
    const RowOf<T> q(p.q + i * HD + h * p.Dh, p.Dh), gi(g + i * HD + h * p.Dh, p.Dh);
    const double gate = double(p.gate[e]), m = stats[e * 3], l = stats[e * 3 + 1], g_out = stats[e * 3 + 2];
    double acc[kMaxDh] = {}, dg = 0, run = 0;
    int64_t run_bucket = -1;
    for (int64_t j = p.offsets[s]; j < p.offsets[s + 1]; ++j) {
      const RowOf<T> kj(p.k + j * HD + h * p.Dh, p.Dh);
      const int64_t bucket = bucket_of(p, j - i);
      const double bias = double(p.rel_embed[bucket * p.H + h]);
      const double prob = std::exp(scale * dot_of(q.x, kj.x, p.Dh) + gate * bias - m) / l;
      const double ds = prob * (dot_of(gi.x, p.v + j * HD + h * p.Dh, p.Dh) - g_out);
      dg += ds * bias;
      for (int64_t d = 0; d < p.Dh; ++d) acc[d] += ds * kj.x[d];
      if (bucket != run_bucket) {
        if (run_bucket >= 0) bias_part[e * 2 * p.half + run_bucket] = gate * run;
        run_bucket = bucket, run = 0;
      }
      run += ds;
    }
    if (run_bucket >= 0) bias_part[e * 2 * p.half + run_bucket] = gate * run;
    for (int64_t d = 0; d < p.Dh; ++d) dq[i * HD + h * p.Dh + d] = T(scale * acc[d]);
    dgate[e] = T(dg);
  }
}

// A thread per (j, h), i ascending: dk_j = scale sum_i dscore q_i and dv_j = sum_i p g_i.
template <typename T>
__global__ void attention_dkv_kernel(Pointers<T> p, const double* stats, const T* g, double scale, T* dk, T* dv,
                                     int64_t n_rows) {
  for (int64_t e = global_thread(); e < n_rows; e += grid_threads()) {
    const int64_t j = e / p.H, h = e % p.H, s = sequence_of(p.offsets, p.n_seqs, j), HD = p.H * p.Dh;
    const RowOf<T> k(p.k + j * HD + h * p.Dh, p.Dh), v(p.v + j * HD + h * p.Dh, p.Dh);
    double acc_k[kMaxDh] = {}, acc_v[kMaxDh] = {};
    for (int64_t i = p.offsets[s]; i < p.offsets[s + 1]; ++i) {
      const double* st = stats + (i * p.H + h) * 3;
      const RowOf<T> qi(p.q + i * HD + h * p.Dh, p.Dh), gi(g + i * HD + h * p.Dh, p.Dh);
      const double score = scale * dot_of(k.x, qi.x, p.Dh) + double(p.gate[i * p.H + h]) * bias_of(p, j - i, h);
      const double prob = std::exp(score - st[0]) / st[1];
      const double ds = prob * (dot_of(v.x, gi.x, p.Dh) - st[2]);
      for (int64_t d = 0; d < p.Dh; ++d) {
        acc_k[d] += ds * qi.x[d];
        acc_v[d] += prob * gi.x[d];
      }
    }
    for (int64_t d = 0; d < p.Dh; ++d) {
      dk[j * HD + h * p.Dh + d] = T(scale * acc_k[d]);
      dv[j * HD + h * p.Dh + d] = T(acc_v[d]);
    }
  }
}

// A thread per (bucket, h): drel_embed[b, h] = the sum over i ascending of bias_part.
template <typename T>
__global__ void attention_drel_kernel(Pointers<T> p, const double* bias_part, int64_t n_frames, T* drel) {
  const int64_t num_buckets = 2 * p.half;
  for (int64_t e = global_thread(); e < num_buckets * p.H; e += grid_threads()) {
    const int64_t b = e / p.H, h = e % p.H;
    double acc = 0;
    for (int64_t i = 0; i < n_frames; ++i) acc += bias_part[(i * p.H + h) * num_buckets + b];
    drel[e] = T(acc);
  }
}

void check_head_width(int64_t Dh) {
  ERC_CHECK(Dh <= kMaxDh, "relative_position_attention: the device kernels take heads of at most ", kMaxDh,
            " dimensions, got ", Dh);
}

}  // namespace

void relative_position_attention_forward(const AttentionArgs& args, const Tensor& out) {
  const int64_t T = args.q.size(0), H = args.gate.size(1), Dh = args.q.size(1) / H;
  if (T == 0 || Dh == 0) return;
  check_head_width(Dh);
  // The first row of each block: every sequence cut into runs of kRows rows.
  std::vector<int64_t> firsts;
  const SeqOffsets& offsets = args.seq_offsets;
  for (size_t s = 0; s + 1 < offsets.size(); ++s)
    for (int64_t i = offsets[s]; i < offsets[s + 1]; i += kRows) firsts.push_back(i);
  const Tensor tile_first = Tensor::from_vector(firsts, {int64_t(firsts.size())}).to(Device::cuda);
  dispatch_float(args.q.dtype(), "relative_position_attention", [&](auto tag) {
    using scalar_t = decltype(tag);
    const Pointers<scalar_t> p = pointers_of<scalar_t>(args);
    const size_t bytes = size_t(2 * p.reach + 1 + kRows * Dh + 2 * kKeys * (Dh + 1)) * sizeof(scalar_t);
    const dim3 grid(unsigned(firsts.size()), unsigned(H));
    auto run = [&](auto kernel_tag) {  // each lane's share of a row in registers: 64 of them for WavLM's heads
      constexpr auto kernel = attention_forward_kernel<scalar_t, decltype(kernel_tag)::value>;
      launch<kernel>(ERC_HERE, grid, kRows * 32, dynamic_shared_memory<kernel>(bytes, "relative_position_attention"), p,
                     tile_first.device_data<int64_t>(), scalar_t(1) / std::sqrt(scalar_t(Dh)),
                     out.device_data<scalar_t>());
    };
    if (Dh <= 64)
      run(std::integral_constant<int64_t, 64>{});
    else
      run(std::integral_constant<int64_t, kMaxDh>{});
  });
}

std::vector<Tensor> relative_position_attention_backward(const AttentionArgs& args, const Tensor& out,
                                                         const Tensor& g) {
  const DType dtype = args.q.dtype();
  const int64_t T = args.q.size(0), H = args.gate.size(1), Dh = args.q.size(1) / H;
  Tensor dq = Tensor::zeros(args.q.shape(), dtype, Device::cuda),
         dk = Tensor::zeros(args.k.shape(), dtype, Device::cuda),
         dv = Tensor::zeros(args.v.shape(), dtype, Device::cuda),
         dgate = Tensor::zeros(args.gate.shape(), dtype, Device::cuda),
         drel = Tensor::zeros(args.rel_embed.shape(), dtype, Device::cuda);
  if (T == 0 || Dh == 0) return {dq, dk, dv, dgate, drel};
  check_head_width(Dh);
  Tensor stats = Tensor::empty({T, H, 3}, DType::f64, Device::cuda);
  Tensor bias_part = Tensor::zeros({T, H, args.num_buckets}, DType::f64, Device::cuda);
  dispatch_float(dtype, "relative_position_attention backward", [&](auto tag) {
    using scalar_t = decltype(tag);
    const Pointers<scalar_t> p = pointers_of<scalar_t>(args);
    const double scale = 1.0 / std::sqrt(double(Dh));
    const scalar_t* pg = g.device_data<scalar_t>();
    const unsigned grid = grid_for(T * H, kThreads);
    launch<attention_stats_kernel<scalar_t>>(ERC_HERE, grid, kThreads, 0, p, out.device_data<scalar_t>(), pg, scale,
                                             stats.device_data<double>(), T * H);
    launch<attention_dq_kernel<scalar_t>>(ERC_HERE, grid, kThreads, 0, p, stats.device_data<double>(), pg, scale,
                                          dq.device_data<scalar_t>(), dgate.device_data<scalar_t>(),
                                          bias_part.device_data<double>(), T * H);
    launch<attention_dkv_kernel<scalar_t>>(ERC_HERE, grid, kThreads, 0, p, stats.device_data<double>(), pg, scale,
                                           dk.device_data<scalar_t>(), dv.device_data<scalar_t>(), T * H);
    launch<attention_drel_kernel<scalar_t>>(ERC_HERE, grid_for(args.num_buckets * H, kThreads), kThreads, 0, p,
                                            bias_part.device_data<double>(), T, drel.device_data<scalar_t>());
  });
  return {dq, dk, dv, dgate, drel};
}

}  // namespace erc::ops::cuda
