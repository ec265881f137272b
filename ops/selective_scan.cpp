#include "ops/selective_scan.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "autograd/node.h"
#include "ops/cpu_isa.h"
#include "ops/device.h"
#include "ops/selective_scan_cpu.h"
#include "ops/selective_scan_cuda.h"
#include "ops/unary_cuda.h"

namespace erc::ops {

namespace {

using scan_cpu::BackwardWork;
using scan_cpu::Grads;
using scan_cpu::Inputs;
using scan_cpu::kGroupChannels;
using scan_cpu::Kernels;
using scan_cpu::Plan;

constexpr const char* kOp = "selective_scan";

// Channels that the reference walks through time together: at frame t their u, delta and z are one or two cache
// lines of the [T, E] tensors, and their kBlock x N states stay in L1.
constexpr int64_t kBlock = 16;

// Below this many state updates (T E N) a thread team costs more than it saves.
constexpr int64_t kParallelWork = int64_t(1) << 15;

int64_t chunks_in(int64_t length, int64_t chunk_size) { return (length + chunk_size - 1) / chunk_size; }
int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Where each sequence's boundary states start in the saved [n_saved, E, N] tensor.
std::vector<int64_t> first_saved_state(const SeqOffsets& seq_offsets, int64_t chunk_size) {
  std::vector<int64_t> first(seq_offsets.size() - 1);
  int64_t next = 0;
  for (size_t s = 0; s < first.size(); ++s) {
    first[s] = next;
    next += chunks_in(seq_offsets[s + 1] - seq_offsets[s], chunk_size) - 1;
  }
  return first;
}

int scan_threads(int64_t T, int64_t E, int64_t N, int64_t n_units) {
  if (T * E * N < kParallelWork) return 1;
  return int(std::min<int64_t>(omp_get_max_threads(), n_units));
}

// One frame of the recurrence for channel e: h_t = exp(dt A[e]) h_{t-1} + dt B_t u_t over the N states, leaving
// the factors exp(dt A[e]) in `decay`. Forward and backward's recomputation both go through here, so recomputed
// states are bitwise the forward's.
template <typename scalar_t>
void advance(const Inputs<scalar_t>& in, int64_t t, int64_t e, scalar_t dt, const scalar_t* h_prev, scalar_t* h,
             scalar_t* decay) {
  const scalar_t* a = in.A + e * in.N;
  const scalar_t* b = in.B + t * in.N;
  const scalar_t dt_u = dt * in.u[t * in.E + e];
  for (int64_t n = 0; n < in.N; ++n) decay[n] = std::exp(dt * a[n]);
  for (int64_t n = 0; n < in.N; ++n) h[n] = decay[n] * h_prev[n] + dt_u * b[n];
}

// The reference forward of one block: `h` holds the block's states, channel-major, then one channel's decays.
template <typename scalar_t>
void forward_block_reference(const Inputs<scalar_t>& in, const Plan<scalar_t>& plan, int64_t e0, int64_t width,
                             scalar_t* out, scalar_t* states, scalar_t* h) {
  const int64_t E = in.E, N = in.N;
  scalar_t* decay = h + kBlock * N;
  for (int64_t s = 0; s < plan.n_seqs; ++s) {
    const int64_t begin = plan.seq_offsets[s], end = plan.seq_offsets[s + 1];
    std::fill(h, h + width * N, scalar_t(0));
    for (int64_t t = begin; t < end; ++t) {
      const scalar_t* c = in.C + t * N;
      for (int64_t j = 0; j < width; ++j) {
        const int64_t e = e0 + j, te = t * E + e;
        scalar_t* hj = h + j * N;
        advance(in, t, e, softplus_and_slope(in.delta[te] + in.delta_bias[e]).value, hj, hj, decay);
        scalar_t y = 0;
        for (int64_t n = 0; n < N; ++n) y += c[n] * hj[n];
        const scalar_t zz = in.z[te];
        out[te] = (y + in.D[e] * in.u[te]) * zz * stable_sigmoid(zz);
      }
      const int64_t done = t + 1 - begin;  // frames of this sequence scanned so far
      if (states != nullptr && done % plan.chunk_size == 0 && t + 1 < end) {
        scalar_t* saved = states + (plan.first_state[s] + done / plan.chunk_size - 1) * E * N;
        std::copy(h, h + width * N, saved + e0 * N);
      }
    }
  }
}

// The reference backward of one block, adding its terms of dB and dC into the [T, N] sums dB_sum and dC_sum, with
// `work` sized by backward_scratch_reference. docs/MODEL.md §2's reverse-time recurrence
// dh_t = g_hat_t C_t + exp(dt_{t+1} A) dh_{t+1}, walked back through each chunk of each sequence, gives every
// frame's du, d delta and dz and its terms of dA, dB, dC, dD and d delta_bias.
template <typename scalar_t>
void backward_block_reference(const Inputs<scalar_t>& in, const Plan<scalar_t>& plan, const scalar_t* states,
                              const scalar_t* g, int64_t e0, int64_t width, const Grads<scalar_t>& d, double* dB_sum,
                              double* dC_sum, const BackwardWork<scalar_t>& work) {
  const int64_t E = in.E, N = in.N, rows = plan.chunk_rows;
  // The recomputation of one chunk [c0, c1), read back in reverse time. Row r of `hist` holds the states
  // h_{c0 + r - 1} (row 0: the boundary state the chunk starts from), row r of `decays` the factors exp(dt A) of
  // frame c0 + r, and `dts` and `slopes` softplus's values and slopes: kept, so that the reverse pass evaluates no
  // exp or log1p again. These buffers, O(chunk_size kBlock N), are all the state memory backward needs.
  scalar_t* hist = work.values;
  scalar_t* decays = hist + (rows + 1) * kBlock * N;
  scalar_t* dts = decays + rows * kBlock * N;
  scalar_t* slopes = dts + rows * kBlock;
  // dh_{t+1} exp(dt_{t+1} A): what frame t + 1 passes back to frame t, per block channel and state.
  scalar_t* carry = slopes + rows * kBlock;
  double *dA_sum = work.sums, *dD_sum = dA_sum + kBlock * N, *dbias_sum = dD_sum + kBlock;
  std::fill(work.sums, work.sums + kBlock * (N + 2), 0.0);
  for (int64_t s = 0; s < plan.n_seqs; ++s) {
    std::fill(carry, carry + kBlock * N, scalar_t(0));
    const int64_t begin = plan.seq_offsets[s], end = plan.seq_offsets[s + 1];
    const int64_t n_chunks = chunks_in(end - begin, plan.chunk_size);
    for (int64_t k = n_chunks - 1; k >= 0; --k) {
      const int64_t c0 = begin + k * plan.chunk_size, c1 = std::min(c0 + plan.chunk_size, end);
      auto row = [&](int64_t t, int64_t j) { return hist + ((t - c0 + 1) * kBlock + j) * N; };  // h_t
      auto at = [&](int64_t t, int64_t j) { return (t - c0) * kBlock + j; };
      if (k == 0) {
        std::fill(hist, hist + kBlock * N, scalar_t(0));
      } else {
        const scalar_t* saved = states + (plan.first_state[s] + k - 1) * E * N + e0 * N;
        std::copy(saved, saved + width * N, hist);
      }
      for (int64_t t = c0; t < c1; ++t)
        for (int64_t j = 0; j < width; ++j) {
          const int64_t e = e0 + j;
          const SoftplusAndSlope<scalar_t> sp = softplus_and_slope(in.delta[t * E + e] + in.delta_bias[e]);
          dts[at(t, j)] = sp.value;
          slopes[at(t, j)] = sp.slope;
          advance(in, t, e, sp.value, row(t - 1, j), row(t, j), decays + at(t, j) * N);
        }
      for (int64_t t = c1 - 1; t >= c0; --t) {
        const scalar_t *b = in.B + t * N, *c = in.C + t * N;
        double *dB_t = dB_sum + t * N, *dC_t = dC_sum + t * N;
        for (int64_t j = 0; j < width; ++j) {
          const int64_t e = e0 + j, te = t * E + e;
          const scalar_t dt = dts[at(t, j)], uu = in.u[te], zz = in.z[te], sig = stable_sigmoid(zz), gg = g[te];
          const scalar_t g_hat = gg * zz * sig;  // dL/dy_t through the gate
          const scalar_t *a = in.A + e * N, *h = row(t, j), *h_prev = row(t - 1, j), *decay = decays + at(t, j) * N;
          scalar_t* dh = carry + j * N;
          double* dA = dA_sum + j * N;
          scalar_t y = 0, dh_dot_b = 0, d_dt = 0;
          for (int64_t n = 0; n < N; ++n) {
            const scalar_t dh_n = g_hat * c[n] + dh[n];
            // exp(dt A) h_{t-1} is docs/MODEL.md §2's h_t - dt B_t u_t, taken without that difference's
            // cancellation.
            const scalar_t kept = decay[n] * h_prev[n];
            y += c[n] * h[n];
            dh_dot_b += dh_n * b[n];
            d_dt += dh_n * (b[n] * uu + a[n] * kept);
            dA[n] += double(dh_n) * dt * kept;
            dB_t[n] += double(dh_n) * dt * uu;
            dC_t[n] += double(g_hat) * h[n];
            dh[n] = decay[n] * dh_n;
          }
          d.u[te] = in.D[e] * g_hat + dt * dh_dot_b;
          d.delta[te] = d_dt * slopes[at(t, j)];
          d.z[te] = gg * (y + in.D[e] * uu) * sig * (scalar_t(1) + zz * (scalar_t(1) - sig));
          dbias_sum[j] += d.delta[te];
          dD_sum[j] += double(g_hat) * uu;
        }
      }
    }
  }
  for (int64_t j = 0; j < width; ++j) {
    for (int64_t n = 0; n < N; ++n) d.A[(e0 + j) * N + n] = scalar_t(dA_sum[j * N + n]);
    d.D[e0 + j] = scalar_t(dD_sum[j]);
    d.delta_bias[e0 + j] = scalar_t(dbias_sum[j]);
  }
}

// scan_cpu::ForwardRange, ScratchSize and BackwardRange for the reference: block by block.
template <typename scalar_t>
void forward_range_reference(const Inputs<scalar_t>& in, const Plan<scalar_t>& plan, int64_t e0, int64_t e1,
                             scalar_t* out, scalar_t* states, scalar_t* scratch) {
  for (int64_t e = e0; e < e1; e += kBlock) forward_block_reference(in, plan, e, std::min(kBlock, e1 - e), out, states, scratch);
}
int64_t forward_scratch_reference(int64_t, int64_t N, int64_t) { return (kBlock + 1) * N; }
int64_t backward_scratch_reference(int64_t, int64_t N, int64_t chunk_rows) {
  return ((2 * chunk_rows + 2) * N + 2 * chunk_rows) * kBlock;
}
template <typename scalar_t>
void backward_range_reference(const Inputs<scalar_t>& in, const Plan<scalar_t>& plan, const scalar_t* states,
                              const scalar_t* g, int64_t e0, int64_t e1, const Grads<scalar_t>& d, double* dB_parts,
                              double* dC_parts, const BackwardWork<scalar_t>& work) {
  for (int64_t e = e0; e < e1; e += kBlock) {
    const int64_t offset = e / kGroupChannels * in.T * in.N;
    backward_block_reference(in, plan, states, g, e, std::min(kBlock, e1 - e), d, dB_parts + offset,
                             dC_parts + offset, work);
  }
}

// The kernels for `isa`.
template <typename scalar_t>
Kernels<scalar_t> kernels(CpuIsa isa) {
#ifdef ERC_HAVE_SLEEF
  constexpr bool f32 = std::is_same_v<scalar_t, float>;
  switch (isa) {
    case CpuIsa::avx2:
      if constexpr (f32) return scan_cpu::avx2_f32(); else return scan_cpu::avx2_f64();
    case CpuIsa::avx512:
      if constexpr (f32) return scan_cpu::avx512_f32(); else return scan_cpu::avx512_f64();
    case CpuIsa::baseline: break;
  }
#else
  (void)isa;
#endif
  return {kBlock, 0, forward_range_reference<scalar_t>, backward_range_reference<scalar_t>, forward_scratch_reference,
          backward_scratch_reference};
}

// A buffer whose start is aligned for the widest vector, as the fast paths' scratch vectors need.
template <typename T>
struct AlignedBuffer {
  explicit AlignedBuffer(size_t n) : storage(n + 64 / sizeof(T)) {}
  T* data() {
    const uintptr_t p = reinterpret_cast<uintptr_t>(storage.data());
    return reinterpret_cast<T*>((p + 63) & ~uintptr_t(63));
  }
  std::vector<T> storage;
};

// Everything the blocks share, and A transposed to [N, E] for the vector kernels.
template <typename scalar_t>
struct PlanStorage {
  PlanStorage(const Inputs<scalar_t>& in, const SeqOffsets& seq_offsets, int64_t chunk_size)
      : first_state(first_saved_state(seq_offsets, chunk_size)), A_by_state(size_t(in.E * in.N)) {
    for (int64_t e = 0; e < in.E; ++e)
      for (int64_t n = 0; n < in.N; ++n) A_by_state[n * in.E + e] = in.A[e * in.N + n];
    int64_t longest = 0;
    for (size_t s = 0; s + 1 < seq_offsets.size(); ++s)
      longest = std::max(longest, seq_offsets[s + 1] - seq_offsets[s]);
    plan = {seq_offsets.data(),          int64_t(seq_offsets.size()) - 1, first_state.data(), chunk_size,
            std::min(chunk_size, longest), A_by_state.data()};
  }
  std::vector<int64_t> first_state;
  std::vector<scalar_t> A_by_state;
  Plan<scalar_t> plan;
};

// Thread `tid`'s share of `n_units` units: contiguous, sizes differing by at most one.
std::pair<int64_t, int64_t> share(int64_t n_units, int tid, int n_threads) {
  return {n_units * tid / n_threads, n_units * (tid + 1) / n_threads};
}

// The chunk that `isa`'s kernels save states at, given the op's chunk_size.
int64_t saving_chunk(CpuIsa isa, DType dtype, int64_t chunk_size) {
  return dispatch_float(dtype, kOp, [&](auto tag) {
    const int64_t fixed = kernels<decltype(tag)>(isa).chunk;
    return fixed > 0 ? fixed : chunk_size;
  });
}

// out [T, E]; states [n_saved, E, N] (saving_chunk) or null when no backward will run. Each thread takes a
// contiguous range of blocks.
template <typename scalar_t>
void scan_forward(const Kernels<scalar_t>& k, const Inputs<scalar_t>& in, const SeqOffsets& seq_offsets,
                  int64_t chunk_size, scalar_t* out, scalar_t* states) {
  const PlanStorage<scalar_t> shared(in, seq_offsets, chunk_size);
  const int64_t n_blocks = ceil_div(in.E, k.block);
#pragma omp parallel num_threads(scan_threads(in.T, in.E, in.N, n_blocks))
  {
    const auto [first, last] = share(n_blocks, omp_get_thread_num(), omp_get_num_threads());
    const int64_t e0 = first * k.block, e1 = std::min(in.E, last * k.block);
    if (e0 < e1) {
      AlignedBuffer<scalar_t> scratch(size_t(k.forward_scratch(e1 - e0, in.N, shared.plan.chunk_rows)));
      k.forward(in, shared.plan, e0, e1, out, states, scratch.data());
    }
  }
}

// Every gradient, written (not added to). g [T, E] is dL/d(out). Each thread takes a contiguous range of channel
// groups; the groups' dB and dC partials are added in group order.
template <typename scalar_t>
void scan_backward(const Kernels<scalar_t>& k, const Inputs<scalar_t>& in, const scalar_t* states,
                   const SeqOffsets& seq_offsets, int64_t chunk_size, const scalar_t* g, const Grads<scalar_t>& d) {
  const int64_t T = in.T, E = in.E, N = in.N;
  const PlanStorage<scalar_t> shared(in, seq_offsets, chunk_size);
  const int64_t n_groups = ceil_div(E, kGroupChannels);
  // A tensor, not a std::vector: at 14,776 frames these are 60 MB, which the host cache keeps between steps
  // (malloc would map and fault them in afresh on every call).
  Tensor parts = Tensor::zeros({2, n_groups, T, N}, DType::f64);
  double *dB_part = parts.data<double>(), *dC_part = dB_part + n_groups * T * N;
  const int n_threads = scan_threads(T, E, N, n_groups);
#pragma omp parallel num_threads(n_threads)
  {
    const auto [first, last] = share(n_groups, omp_get_thread_num(), omp_get_num_threads());
    const int64_t e0 = first * kGroupChannels, e1 = std::min(E, last * kGroupChannels);
    if (e0 < e1) {
      AlignedBuffer<scalar_t> values(size_t(k.backward_scratch(e1 - e0, N, shared.plan.chunk_rows)));
      std::vector<double> sums(size_t((N + 2) * (e1 - e0 + k.block)));
      k.backward(in, shared.plan, states, g, e0, e1, d, dB_part, dC_part,
                 BackwardWork<scalar_t>{values.data(), sums.data()});
    }
  }
#pragma omp parallel for schedule(static) num_threads(n_threads)
  for (int64_t i = 0; i < T * N; ++i) {
    double sum_b = 0, sum_c = 0;
    for (int64_t group = 0; group < n_groups; ++group) {
      sum_b += dB_part[group * T * N + i];
      sum_c += dC_part[group * T * N + i];
    }
    d.B[i] = scalar_t(sum_b);
    d.C[i] = scalar_t(sum_c);
  }
}

template <typename scalar_t>
Inputs<scalar_t> inputs_of(const std::vector<Tensor>& t) {
  return {t[0].data<scalar_t>(), t[1].data<scalar_t>(), t[2].data<scalar_t>(), t[3].data<scalar_t>(),
          t[4].data<scalar_t>(), t[5].data<scalar_t>(), t[6].data<scalar_t>(), t[7].data<scalar_t>(),
          t[0].size(0),          t[0].size(1),          t[2].size(1)};
}

struct SelectiveScanBackward : autograd::Node {
  std::vector<Tensor> inputs;  // u, delta, A, B, C, D, z, delta_bias: detached, contiguous
  // The states forward saved: on the CPU [n_saved, E, N], the state at each boundary of chunk_size (the op's
  // argument for the reference loops, 32 frames for the fast paths); on the device [n_chunks, E, N], the start
  // state of each of its chunks.
  Tensor states;
  SeqOffsets seq_offsets;
  int64_t chunk_size = 0;
  CpuIsa isa = CpuIsa::baseline;  // forward's kernels, which backward must match
  const char* name() const override { return kOp; }
  std::vector<Tensor> backward(const Tensor& grad_output) override {
    Tensor g = grad_output.contiguous();
    std::vector<Tensor> grads;
    if (g.device() == Device::cuda) {
      ERC_CUDA_CALL(grads = cuda::selective_scan_backward(inputs, states, seq_offsets, g));
    } else {
      for (const Tensor& t : inputs) grads.push_back(Tensor::empty(t.shape(), t.dtype()));
      backward_cpu(g, grads);
    }
    for (size_t i = 0; i < grads.size(); ++i)
      if (!needs_input_grad(i)) grads[i] = Tensor();
    return grads;
  }
  void backward_cpu(const Tensor& g, std::vector<Tensor>& grads) {
    dispatch_float(g.dtype(), kOp, [&](auto tag) {
      using scalar_t = decltype(tag);
      Grads<scalar_t> d{grads[0].data<scalar_t>(), grads[1].data<scalar_t>(), grads[2].data<scalar_t>(),
                            grads[3].data<scalar_t>(), grads[4].data<scalar_t>(), grads[5].data<scalar_t>(),
                            grads[6].data<scalar_t>(), grads[7].data<scalar_t>()};
      scan_backward(kernels<scalar_t>(isa), inputs_of<scalar_t>(inputs), states.data<scalar_t>(), seq_offsets,
                    chunk_size, g.data<scalar_t>(), d);
    });
  }
};

void check_shape(const Tensor& t, const char* name, const Shape& expected, const std::string& whence) {
  ERC_CHECK(t.shape() == expected, kOp, ": ", name, " must be ", whence, " = ", shape_str(expected), ", got ",
            shape_str(t.shape()));
}

}  // namespace

int64_t selective_scan_saved_states(const SeqOffsets& seq_offsets, int64_t chunk_size) {
  ERC_CHECK(chunk_size >= 1, kOp, ": chunk_size must be at least 1, got ", chunk_size);
  check_seq_offsets(seq_offsets, seq_offsets.empty() ? 0 : seq_offsets.back(), kOp);
  int64_t n = 0;
  for (size_t s = 0; s + 1 < seq_offsets.size(); ++s)
    n += chunks_in(seq_offsets[s + 1] - seq_offsets[s], chunk_size) - 1;
  return n;
}

Tensor selective_scan(const Tensor& u, const Tensor& delta, const Tensor& A, const Tensor& B, const Tensor& C,
                      const Tensor& D, const Tensor& z, const Tensor& delta_bias, const SeqOffsets& seq_offsets,
                      int64_t chunk_size) {
  const Device device = device_of(kOp, {u, delta, A, B, C, D, z, delta_bias});
  ERC_CHECK(u.dim() == 2, kOp, ": u must be [T, E], got ", shape_str(u.shape()));
  ERC_CHECK(A.dim() == 2, kOp, ": A must be [E, N], got ", shape_str(A.shape()));
  const int64_t T = u.size(0), E = u.size(1), N = A.size(1);
  const std::string from_u = "[T, E] as u " + shape_str(u.shape());
  const std::string from_u_a = "[T, N] (T from u " + shape_str(u.shape()) + ", N from A " + shape_str(A.shape()) + ")";
  check_shape(delta, "delta", {T, E}, from_u);
  check_shape(z, "z", {T, E}, from_u);
  check_shape(A, "A", {E, N}, "[E, N] (E from u " + shape_str(u.shape()) + ")");
  check_shape(B, "B", {T, N}, from_u_a);
  check_shape(C, "C", {T, N}, from_u_a);
  check_shape(D, "D", {E}, "[E] (E from u " + shape_str(u.shape()) + ")");
  check_shape(delta_bias, "delta_bias", {E}, "[E] (E from u " + shape_str(u.shape()) + ")");
  const std::vector<Tensor> args{u, delta, A, B, C, D, z, delta_bias};
  const char* names[] = {"u", "delta", "A", "B", "C", "D", "z", "delta_bias"};
  for (size_t i = 1; i < args.size(); ++i)
    ERC_CHECK(args[i].dtype() == u.dtype(), kOp, ": ", names[i], " is ", dtype_name(args[i].dtype()), " but u is ",
              dtype_name(u.dtype()), "; all inputs must share one dtype");
  check_seq_offsets(seq_offsets, T, kOp);
  ERC_CHECK(chunk_size >= 1, kOp, ": chunk_size must be at least 1, got ", chunk_size);
  const CpuIsa isa = cpu_isa();
  const int64_t saved_every = saving_chunk(isa, u.dtype(), chunk_size);

  std::vector<Tensor> inputs;
  for (const Tensor& t : args) inputs.push_back(t.detach().contiguous());
  const bool record = autograd::needs_grad(args);
  Tensor out = Tensor::empty({T, E}, u.dtype(), device);
  Tensor states;
  if (device == Device::cuda) {
    ERC_CUDA_CALL(states = cuda::selective_scan_forward(inputs, seq_offsets, out));
  } else {
    states = Tensor::empty({record ? selective_scan_saved_states(seq_offsets, saved_every) : 0, E, N}, u.dtype());
    dispatch_float(u.dtype(), kOp, [&](auto tag) {
      using scalar_t = decltype(tag);
      scan_forward(kernels<scalar_t>(isa), inputs_of<scalar_t>(inputs), seq_offsets, saved_every,
                   out.data<scalar_t>(), record ? states.data<scalar_t>() : nullptr);
    });
  }
  if (!record) return out;
  auto node = std::make_shared<SelectiveScanBackward>();
  node->inputs = std::move(inputs);
  node->states = states;
  node->seq_offsets = seq_offsets;
  node->chunk_size = saved_every;
  node->isa = isa;
  return autograd::record(out, node, args);
}

}  // namespace erc::ops
