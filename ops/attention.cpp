#include "ops/attention.h"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "autograd/node.h"
#include "ops/attention_cpu.h"
#include "ops/attention_cuda.h"
#include "ops/blas.h"
#include "ops/cpu_isa.h"
#include "ops/device.h"
#include "ops/packed_cuda.h"

namespace erc::ops {

int64_t relative_bucket(int64_t rel, const RelativeBuckets& buckets) {
  const int64_t half = buckets.num_buckets / 2, max_exact = half / 2;
  const int64_t base = rel > 0 ? half : 0, distance = rel < 0 ? -rel : rel;
  if (distance < max_exact) return base + distance;
  // float32 throughout, the scalars rounded to float first, as PyTorch evaluates tensor-by-Python-number ops.
  float large = std::log(float(distance) / float(max_exact));
  large = large / float(std::log(double(buckets.max_distance) / double(max_exact)));
  large = large * float(half - max_exact);
  return base + std::min(int64_t(float(max_exact) + large), half - 1);
}

namespace {

// Query rows are processed in blocks whose [rows, T_s] score matrix stays near 1M elements; 16 rows at least.
constexpr int64_t kScoreBudget = int64_t(1) << 20;

// Score elements over all sequences and heads: the work, which decides whether a parallel region is worth opening.
int64_t score_count(const SeqOffsets& seq_offsets, int64_t H) {
  int64_t count = 0;
  for (size_t s = 0; s + 1 < seq_offsets.size(); ++s) {
    const int64_t n = seq_offsets[s + 1] - seq_offsets[s];
    count += n * n * H;
  }
  return count;
}

struct Geometry {
  int64_t T, H, Dh;
  int64_t HD() const { return H * Dh; }
  static int64_t block_rows(int64_t n) {
    return std::min(n, std::max<int64_t>(16, kScoreBudget / std::max<int64_t>(n, 1)));
  }
};

// bias[r + n - 1] = rel_embed[bucket(r), h] for r = j - i in (-n, n): the bias of any (i, j) of one sequence.
template <typename T>
void head_bias_table(const T* rel_embed, int64_t H, int64_t h, int64_t n, const RelativeBuckets& buckets,
                     std::vector<T>& table) {
  table.resize(size_t(2 * n - 1));
  for (int64_t r = -(n - 1); r < n; ++r) table[size_t(r + n - 1)] = rel_embed[relative_bucket(r, buckets) * H + h];
}

// In place, row[j] = softmax_j(scale row[j] + gate bias[j]) for j < n: the reference loop (the sum in double).
template <typename T>
void probability_row_reference(T* row, const T* bias, T scale, T gate, int64_t n) {
  T m = -INFINITY;
  for (int64_t j = 0; j < n; ++j) {
    row[j] = scale * row[j] + gate * bias[j];
    m = std::max(m, row[j]);
  }
  double total = 0;
  for (int64_t j = 0; j < n; ++j) {
    row[j] = std::exp(row[j] - m);
    total += double(row[j]);
  }
  const T inv = T(1.0 / total);
  for (int64_t j = 0; j < n; ++j) row[j] *= inv;
}

// attention_cpu::ProbabilityRow, for either dtype.
template <typename T>
using ProbabilityRow = void (*)(T* row, const T* bias, T scale, T gate, int64_t n);

// The vector row of ops/attention_cpu.h where ops::cpu_isa() has one (float32 only), else the reference.
template <typename T>
ProbabilityRow<T> probability_row() {
#ifdef ERC_HAVE_SLEEF
  if constexpr (std::is_same_v<T, float>) {
    switch (cpu_isa()) {
      case CpuIsa::avx2: return attention_cpu::avx2();
      case CpuIsa::avx512: return attention_cpu::avx512();
      case CpuIsa::baseline: break;
    }
  }
#endif
  return probability_row_reference<T>;
}

// p [rows, n] = softmax over each row of scale q_blk k^T + gate[i] table[j - i]: rows i0 .. i0 + rows - 1 of a
// sequence of n frames. q and k point at the sequence's first frame, head h's columns.
template <typename T>
void block_probabilities(const Geometry& geo, const T* q, const T* k, const T* gate, int64_t h,
                         const std::vector<T>& table, int64_t n, int64_t i0, int64_t rows, ProbabilityRow<T> row_of,
                         T* p) {
  const T scale = T(1) / std::sqrt(T(geo.Dh));
  blas::gemm<T>("attention", false, true, rows, n, geo.Dh, q + i0 * geo.HD(), geo.HD(), k, geo.HD(), T(0), p, n);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t i = i0 + r;
    row_of(p + r * n, table.data() + (n - 1 - i), scale, gate[i * geo.H + h], n);  // bias[j] = table[j - i + n - 1]
  }
}

// The device kernels' inputs: the tensors on the device and the bucket of every distance they can meet, from
// relative_bucket itself, so that each boundary falls exactly where it does on the CPU (a device's logf may differ
// from the host's by an ulp). Distances from max_distance on are all in a side's last bucket, so the table stops
// there, or at the longest sequence.
cuda::AttentionArgs device_args(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& gate,
                                const Tensor& rel_embed, const SeqOffsets& seq_offsets,
                                const RelativeBuckets& buckets) {
  cuda::AttentionArgs args{q,        k,          v, gate, rel_embed, seq_offsets_tensor(seq_offsets, Device::cuda),
                           Tensor(), seq_offsets};
  int64_t longest = 0;
  for (size_t s = 0; s + 1 < seq_offsets.size(); ++s) longest = std::max(longest, seq_offsets[s + 1] - seq_offsets[s]);
  const int64_t reach = std::min(buckets.max_distance, std::max<int64_t>(longest - 1, 0));
  std::vector<int64_t> distance_bucket(size_t(reach + 1));
  for (int64_t d = 0; d <= reach; ++d) distance_bucket[size_t(d)] = relative_bucket(-d, buckets);
  args.distance_bucket = Tensor::from_vector(distance_bucket, {reach + 1}).to(Device::cuda);
  args.num_buckets = buckets.num_buckets;
  return args;
}

struct AttentionBackward : autograd::Node {
  Tensor q, k, v, gate, rel_embed, out;  // detached, contiguous
  SeqOffsets seq_offsets;
  RelativeBuckets buckets;
  Geometry geo;
  const char* name() const override { return "relative_position_attention"; }
  std::vector<Tensor> backward(const Tensor& grad_output) override;
};

std::vector<Tensor> AttentionBackward::backward(const Tensor& grad_output) {
  Tensor g = grad_output.detach().contiguous();
  if (g.device() == Device::cuda) {
    std::vector<Tensor> grads;
    ERC_CUDA_CALL(grads = cuda::relative_position_attention_backward(
                      device_args(q, k, v, gate, rel_embed, seq_offsets, buckets), out, g));
    return grads;
  }
  const DType dtype = q.dtype();
  Tensor dq = Tensor::zeros(q.shape(), dtype), dk = Tensor::zeros(k.shape(), dtype),
         dv = Tensor::zeros(v.shape(), dtype), dgate = Tensor::zeros(gate.shape(), dtype),
         dembed = Tensor::zeros(rel_embed.shape(), dtype);
  dispatch_float(dtype, "relative_position_attention backward", [&](auto tag) {
    using scalar_t = decltype(tag);
    const int64_t H = geo.H, Dh = geo.Dh, HD = geo.HD(), S = int64_t(seq_offsets.size()) - 1;
    const scalar_t scale = scalar_t(1) / std::sqrt(scalar_t(Dh));
    const ProbabilityRow<scalar_t> row_of = probability_row<scalar_t>();
    // One thread per head: every gradient element of a head (its bucket column of dembed included) is summed by
    // one thread in sequence and block order.
#pragma omp parallel for schedule(dynamic) if (score_count(seq_offsets, H) > 16384)
    for (int64_t h = 0; h < H; ++h) {
      std::vector<scalar_t> table, dtable, p, dp;
      for (int64_t s = 0; s < S; ++s) {
        const int64_t t0 = seq_offsets[size_t(s)], n = seq_offsets[size_t(s) + 1] - t0;
        const int64_t off = t0 * HD + h * Dh;
        const scalar_t *qs = q.data<scalar_t>() + off, *ks = k.data<scalar_t>() + off, *vs = v.data<scalar_t>() + off,
                       *os = out.data<scalar_t>() + off, *gs = g.data<scalar_t>() + off,
                       *gate_s = gate.data<scalar_t>() + t0 * H;
        scalar_t *dqs = dq.data<scalar_t>() + off, *dks = dk.data<scalar_t>() + off, *dvs = dv.data<scalar_t>() + off,
                 *dgate_s = dgate.data<scalar_t>() + t0 * H;
        head_bias_table(rel_embed.data<scalar_t>(), H, h, n, buckets, table);
        dtable.assign(size_t(2 * n - 1), scalar_t(0));
        const int64_t block = Geometry::block_rows(n);
        p.resize(size_t(block * n));
        dp.resize(size_t(block * n));
        for (int64_t i0 = 0; i0 < n; i0 += block) {
          const int64_t rows = std::min(block, n - i0);
          block_probabilities(geo, qs, ks, gate_s, h, table, n, i0, rows, row_of, p.data());
          // dp = g_blk v^T; dv += p^T g_blk
          blas::gemm<scalar_t>("attention backward", false, true, rows, n, Dh, gs + i0 * HD, HD, vs, HD, scalar_t(0),
                               dp.data(), n);
          blas::gemm<scalar_t>("attention backward", true, false, n, Dh, rows, p.data(), n, gs + i0 * HD, HD,
                               scalar_t(1), dvs, HD);
          // dscore = p (dp - g_i . out_i), kept in dp; then the bias terms of row i.
          for (int64_t r = 0; r < rows; ++r) {
            const int64_t i = i0 + r;
            double dot = 0;
            for (int64_t d = 0; d < Dh; ++d) dot += double(gs[i * HD + d]) * double(os[i * HD + d]);
            scalar_t* ds = dp.data() + r * n;
            const scalar_t* pr = p.data() + r * n;
            const scalar_t* bias = table.data() + (n - 1 - i);
            scalar_t* dbias = dtable.data() + (n - 1 - i);
            const scalar_t gi = gate_s[i * H + h];
            double dgi = 0;
            for (int64_t j = 0; j < n; ++j) {
              ds[j] = pr[j] * (ds[j] - scalar_t(dot));
              dgi += double(ds[j]) * double(bias[j]);
              dbias[j] += ds[j] * gi;
            }
            dgate_s[i * H + h] = scalar_t(dgi);
          }
          // dq_blk = scale dscore k; dk += scale dscore^T q_blk
          blas::gemm<scalar_t>("attention backward", false, false, rows, Dh, n, dp.data(), n, ks, HD, scalar_t(0),
                               dqs + i0 * HD, HD);
          blas::gemm<scalar_t>("attention backward", true, false, n, Dh, rows, dp.data(), n, qs + i0 * HD, HD,
                               scalar_t(1), dks, HD);
        }
        for (int64_t i = 0; i < n; ++i)
          for (int64_t d = 0; d < Dh; ++d) dqs[i * HD + d] *= scale, dks[i * HD + d] *= scale;
        scalar_t* de = dembed.data<scalar_t>();
        for (int64_t r = -(n - 1); r < n; ++r) de[relative_bucket(r, buckets) * H + h] += dtable[size_t(r + n - 1)];
      }
    }
  });
  return {dq, dk, dv, dgate, dembed};
}

}  // namespace

Tensor relative_position_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& gate,
                                   const Tensor& rel_embed, const SeqOffsets& seq_offsets,
                                   const RelativeBuckets& buckets) {
  const Device device = device_of("relative_position_attention", {q, k, v, gate, rel_embed});
  ERC_CHECK(q.dim() == 2 && gate.dim() == 2 && rel_embed.dim() == 2,
            "relative_position_attention: expected q [T, H Dh], gate [T, H], rel_embed [buckets, H], got q ",
            shape_str(q.shape()), ", gate ", shape_str(gate.shape()), ", rel_embed ", shape_str(rel_embed.shape()));
  ERC_CHECK(k.shape() == q.shape() && v.shape() == q.shape(),
            "relative_position_attention: q, k and v must have one shape, got q ", shape_str(q.shape()), ", k ",
            shape_str(k.shape()), ", v ", shape_str(v.shape()));
  const int64_t T = q.size(0), H = gate.size(1);
  ERC_CHECK(gate.size(0) == T && H > 0 && q.size(1) % H == 0,
            "relative_position_attention: gate must be [T, H] with H dividing q's width, got q ", shape_str(q.shape()),
            ", gate ", shape_str(gate.shape()));
  ERC_CHECK(
      buckets.num_buckets >= 4 && buckets.num_buckets % 2 == 0 && buckets.max_distance > buckets.num_buckets / 4,
      "relative_position_attention: num_buckets must be even and >= 4 and max_distance above a quarter of it, got ",
      buckets.num_buckets, " and ", buckets.max_distance);
  ERC_CHECK(rel_embed.size(0) == buckets.num_buckets && rel_embed.size(1) == H,
            "relative_position_attention: rel_embed must be [", buckets.num_buckets, ", ", H, "], got ",
            shape_str(rel_embed.shape()));
  for (const Tensor* t : {&k, &v, &gate, &rel_embed})
    ERC_CHECK(t->dtype() == q.dtype(), "relative_position_attention: every input must have q's dtype ",
              dtype_name(q.dtype()), ", got ", dtype_name(t->dtype()));
  check_seq_offsets(seq_offsets, T, "relative_position_attention");

  const Geometry geo{T, H, q.size(1) / H};
  Tensor qc = q.detach().contiguous(), kc = k.detach().contiguous(), vc = v.detach().contiguous(),
         gc = gate.detach().contiguous(), ec = rel_embed.detach().contiguous();
  Tensor out = Tensor::empty(q.shape(), q.dtype(), device);
  if (device == Device::cuda)
    ERC_CUDA_CALL(
        cuda::relative_position_attention_forward(device_args(qc, kc, vc, gc, ec, seq_offsets, buckets), out));
  else
    dispatch_float(q.dtype(), "relative_position_attention", [&](auto tag) {
      using scalar_t = decltype(tag);
      const int64_t S = int64_t(seq_offsets.size()) - 1, HD = geo.HD(), Dh = geo.Dh;
      const ProbabilityRow<scalar_t> row_of = probability_row<scalar_t>();
      // Tasks (sequence, head) own disjoint outputs; BLAS runs single-threaded inside the parallel region. A thread's
      // buffers serve all its tasks: a fresh [rows, n] block per task would be zeroed once more per head.
#pragma omp parallel if (score_count(seq_offsets, geo.H) > 16384)
      {
        std::vector<scalar_t> table, p;
#pragma omp for schedule(dynamic)
        for (int64_t task = 0; task < S * H; ++task) {
          const int64_t s = task / H, h = task % H;
          const int64_t t0 = seq_offsets[size_t(s)], n = seq_offsets[size_t(s) + 1] - t0;
          const int64_t off = t0 * HD + h * Dh;
          head_bias_table(ec.data<scalar_t>(), H, h, n, buckets, table);
          const int64_t block = Geometry::block_rows(n);
          p.resize(std::max(p.size(), size_t(block * n)));
          for (int64_t i0 = 0; i0 < n; i0 += block) {
            const int64_t rows = std::min(block, n - i0);
            block_probabilities(geo, qc.data<scalar_t>() + off, kc.data<scalar_t>() + off, gc.data<scalar_t>() + t0 * H,
                                h, table, n, i0, rows, row_of, p.data());
            blas::gemm<scalar_t>("attention", false, false, rows, Dh, n, p.data(), n, vc.data<scalar_t>() + off, HD,
                                 scalar_t(0), out.data<scalar_t>() + off + i0 * HD, HD);
          }
        }
      }
    });
  if (autograd::needs_grad({q, k, v, gate, rel_embed})) {
    auto node = std::make_shared<AttentionBackward>();
    node->q = qc, node->k = kc, node->v = vc, node->gate = gc, node->rel_embed = ec, node->out = out.detach();
    node->seq_offsets = seq_offsets, node->buckets = buckets, node->geo = geo;
    return autograd::record(out, node, {q, k, v, gate, rel_embed});
  }
  return out;
}

}  // namespace erc::ops
