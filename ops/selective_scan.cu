#include "cuda/kernel.h"
#include "ops/selective_scan_cuda.h"
#include "ops/unary_cuda.h"

namespace erc::ops::cuda {

ScanChunks scan_chunks(const SeqOffsets& seq_offsets) {
  ScanChunks chunks;
  for (size_t s = 0; s + 1 < seq_offsets.size(); ++s) {
    chunks.first_chunk.push_back(int64_t(chunks.begin.size()));
    for (int64_t t = seq_offsets[s]; t < seq_offsets[s + 1]; t += kScanChunk) chunks.begin.push_back(t);
  }
  chunks.first_chunk.push_back(int64_t(chunks.begin.size()));
  chunks.begin.push_back(seq_offsets.back());
  return chunks;
}

namespace {

// A block is one chunk of kChannels consecutive channels, a thread per channel: the chunk's B and C, shared by every
// channel, are read from global memory once per block into shared memory. Each thread walks the states n of its
// channel one after another (any N), keeping per-frame values of its chunk in arrays of kScanChunk.
constexpr unsigned kChannels = 64;
static_assert(kChannels >= 2 * kScanChunk, "backward reduces dB and dC of a chunk's frames with one thread each");
constexpr unsigned kThreads = 256;  // the kernels over (sequence, channel, state)

template <typename T>
struct ScanArgs {
  const T *u, *delta, *A, *B, *C, *D, *z, *delta_bias;
  const int64_t* chunk_begin;
  int64_t T_frames, E, N;
};

template <typename T>
struct ScanGrads {
  T *u, *delta, *A, *B, *C, *D, *z, *delta_bias;
};

// The thread's chunk, channel and frames.
struct ChunkThread {
  int64_t chunk, e, c0, len;
  bool active;  // e < E: the last block of channels may have idle threads, which still meet every barrier
  template <typename T>
  __device__ explicit ChunkThread(const ScanArgs<T>& in)
      : chunk(blockIdx.x),
        e(int64_t(blockIdx.y) * kChannels + threadIdx.x),
        c0(in.chunk_begin[blockIdx.x]),
        len(in.chunk_begin[blockIdx.x + 1] - in.chunk_begin[blockIdx.x]),
        active(e < in.E) {}
};

// Copies the chunk's rows of a [T, N] input into shared memory (the block together), then waits for all of it.
template <typename T>
__device__ void stage_rows(const T* rows, const ChunkThread& at, int64_t N, T* shared) {
  for (int64_t i = threadIdx.x; i < at.len * N; i += blockDim.x) shared[i] = rows[at.c0 * N + i];
}

// dt_t = softplus(delta_t + delta_bias) and dt_t u_t for the chunk's frames.
template <typename T>
__device__ void chunk_steps(const ScanArgs<T>& in, const ChunkThread& at, T* dt, T* dt_u) {
  for (int64_t l = 0; l < at.len; ++l) {
    const int64_t te = (at.c0 + l) * in.E + at.e;
    dt[l] = softplus_and_slope(in.delta[te] + in.delta_bias[at.e]).value;
    dt_u[l] = dt[l] * in.u[te];
  }
}

// Pass 1: each chunk's end state from zero and the product of its decays, per state.
template <typename T>
__global__ void scan_chunk_local_kernel(ScanArgs<T> in, T* h_local, T* decay_product) {
  ERC_DYNAMIC_SHARED(T, shared_B);
  const ChunkThread at(in);
  const int64_t N = in.N;
  stage_rows(in.B, at, N, shared_B);
  __syncthreads();
  if (!at.active) return;
  T dt[kScanChunk], dt_u[kScanChunk];
  chunk_steps(in, at, dt, dt_u);
  for (int64_t n = 0; n < N; ++n) {
    const T a = in.A[at.e * N + n];
    T h = 0, product = 1;
    for (int64_t l = 0; l < at.len; ++l) {
      const T decay = std::exp(dt[l] * a);
      h = decay * h + dt_u[l] * shared_B[l * N + n];
      product *= decay;
    }
    h_local[(at.chunk * in.E + at.e) * N + n] = h;
    decay_product[(at.chunk * in.E + at.e) * N + n] = product;
  }
}

// Pass 2: a thread per (sequence, channel, state) walks the sequence's chunks in order, giving each its start state.
template <typename T>
__global__ void scan_chunk_starts_kernel(const T* h_local, const T* decay_product, const int64_t* first_chunk,
                                         int64_t n_seqs, int64_t EN, T* states) {
  for (int64_t i = global_thread(); i < n_seqs * EN; i += grid_threads()) {
    const int64_t s = i / EN, en = i % EN;
    T h = 0;
    for (int64_t k = first_chunk[s]; k < first_chunk[s + 1]; ++k) {
      states[k * EN + en] = h;
      h = decay_product[k * EN + en] * h + h_local[k * EN + en];
    }
  }
}

// Pass 3: each chunk again from its start state: y_t = sum_n C_t[n] h_t[n], out_t = (y_t + D u_t) SiLU(z_t).
template <typename T>
__global__ void scan_chunk_output_kernel(ScanArgs<T> in, const T* states, T* out) {
  ERC_DYNAMIC_SHARED(T, shared_B);
  const ChunkThread at(in);
  const int64_t N = in.N;
  T* shared_C = shared_B + kScanChunk * N;
  stage_rows(in.B, at, N, shared_B);
  stage_rows(in.C, at, N, shared_C);
  __syncthreads();
  if (!at.active) return;
  T dt[kScanChunk], dt_u[kScanChunk], y[kScanChunk];
  chunk_steps(in, at, dt, dt_u);
  for (int64_t l = 0; l < at.len; ++l) y[l] = 0;
  for (int64_t n = 0; n < N; ++n) {
    const T a = in.A[at.e * N + n];
    T h = states[(at.chunk * in.E + at.e) * N + n];
    for (int64_t l = 0; l < at.len; ++l) {
      h = std::exp(dt[l] * a) * h + dt_u[l] * shared_B[l * N + n];
      y[l] += shared_C[l * N + n] * h;
    }
  }
  for (int64_t l = 0; l < at.len; ++l) {
    const int64_t te = (at.c0 + l) * in.E + at.e;
    const T zz = in.z[te];
    out[te] = (y[l] + in.D[at.e] * in.u[te]) * zz * stable_sigmoid(zz);
  }
}

// dL/dy_t through the gate at element te: g z sigmoid(z).
template <typename T>
__device__ T gated_grad(const ScanArgs<T>& in, const T* g, int64_t te) {
  const T zz = in.z[te];
  return g[te] * zz * stable_sigmoid(zz);
}

// Backward pass 1: the reverse-time recurrence dh_t = g_hat_t C_t + exp(dt_{t+1} A) dh_{t+1} is linear too. Each
// chunk's carry out of its first frame (exp(dt A) dh there) from a zero carry into its last, and the product of its
// decays.
template <typename T>
__global__ void scan_chunk_carry_kernel(ScanArgs<T> in, const T* g, T* carry_local, T* decay_product) {
  ERC_DYNAMIC_SHARED(T, shared_C);
  const ChunkThread at(in);
  const int64_t N = in.N;
  stage_rows(in.C, at, N, shared_C);
  __syncthreads();
  if (!at.active) return;
  T dt[kScanChunk], g_hat[kScanChunk];
  for (int64_t l = 0; l < at.len; ++l) {
    const int64_t te = (at.c0 + l) * in.E + at.e;
    dt[l] = softplus_and_slope(in.delta[te] + in.delta_bias[at.e]).value;
    g_hat[l] = gated_grad(in, g, te);
  }
  for (int64_t n = 0; n < N; ++n) {
    const T a = in.A[at.e * N + n];
    T carry = 0, product = 1;
    for (int64_t l = at.len - 1; l >= 0; --l) {
      const T decay = std::exp(dt[l] * a);
      carry = decay * (g_hat[l] * shared_C[l * N + n] + carry);
      product *= decay;
    }
    carry_local[(at.chunk * in.E + at.e) * N + n] = carry;
    decay_product[(at.chunk * in.E + at.e) * N + n] = product;
  }
}

// Backward pass 2: each sequence's chunks in reverse order give each chunk the carry into its last frame.
template <typename T>
__global__ void scan_chunk_carry_in_kernel(const T* carry_local, const T* decay_product, const int64_t* first_chunk,
                                           int64_t n_seqs, int64_t EN, T* carry_in) {
  for (int64_t i = global_thread(); i < n_seqs * EN; i += grid_threads()) {
    const int64_t s = i / EN, en = i % EN;
    T carry = 0;
    for (int64_t k = first_chunk[s + 1] - 1; k >= first_chunk[s]; --k) {
      carry_in[k * EN + en] = carry;
      carry = decay_product[k * EN + en] * carry + carry_local[k * EN + en];
    }
  }
}

// Where backward pass 3 puts what sums over channels or frames: per chunk (dA [n_chunks, E, N], dD and d delta_bias
// [n_chunks, E]) and per block of channels (dB, dC [n_channel_blocks, T, N]), all in double, added up afterwards in a
// fixed order.
struct ScanPartials {
  double *dA, *dD, *delta_bias, *dB, *dC;
};

// Backward pass 3: each chunk's states again from its start state (bitwise the forward's), then back through the
// chunk from its carry, as the CPU's backward does per frame. dB_t and dC_t sum the block's channels in shared
// memory, in channel order.
template <typename T>
__global__ void scan_chunk_backward_kernel(ScanArgs<T> in, const T* states, const T* carry_in, const T* g,
                                           ScanGrads<T> d, ScanPartials partial) {
  ERC_DYNAMIC_SHARED(double, shared_sums);  // [kChannels, kScanChunk] each for dB and dC, then B and C of the chunk
  double* sum_B = shared_sums;
  double* sum_C = shared_sums + kChannels * kScanChunk;
  const ChunkThread at(in);
  const int64_t N = in.N, E = in.E;
  T* shared_B = reinterpret_cast<T*>(shared_sums + 2 * kChannels * kScanChunk);
  T* shared_C = shared_B + kScanChunk * N;
  stage_rows(in.B, at, N, shared_B);
  stage_rows(in.C, at, N, shared_C);
  __syncthreads();
  const int64_t width =
      E - int64_t(blockIdx.y) * kChannels < kChannels ? E - int64_t(blockIdx.y) * kChannels : int64_t(kChannels);
  T dt[kScanChunk], slope[kScanChunk], uu[kScanChunk], g_hat[kScanChunk];
  T y[kScanChunk], dh_dot_b[kScanChunk], d_dt[kScanChunk], h[kScanChunk + 1], decay[kScanChunk];
  if (at.active)
    for (int64_t l = 0; l < at.len; ++l) {
      const int64_t te = (at.c0 + l) * E + at.e;
      const SoftplusAndSlope<T> sp = softplus_and_slope(in.delta[te] + in.delta_bias[at.e]);
      dt[l] = sp.value, slope[l] = sp.slope, uu[l] = in.u[te], g_hat[l] = gated_grad(in, g, te);
      y[l] = 0, dh_dot_b[l] = 0, d_dt[l] = 0;
    }
  for (int64_t n = 0; n < N; ++n) {
    if (at.active) {
      const T a = in.A[at.e * N + n];
      const int64_t en = (at.chunk * E + at.e) * N + n;
      h[0] = states[en];  // h[l + 1] is the state after frame l
      for (int64_t l = 0; l < at.len; ++l) {
        decay[l] = std::exp(dt[l] * a);
        h[l + 1] = decay[l] * h[l] + (dt[l] * uu[l]) * shared_B[l * N + n];
      }
      T carry = carry_in[en];
      double dA = 0;
      for (int64_t l = at.len - 1; l >= 0; --l) {
        const T b = shared_B[l * N + n], c = shared_C[l * N + n];
        const T dh = g_hat[l] * c + carry;
        // exp(dt A) h_{t-1} is h_t - dt B_t u_t, taken without that difference's cancellation.
        const T kept = decay[l] * h[l];
        y[l] += c * h[l + 1];
        dh_dot_b[l] += dh * b;
        d_dt[l] += dh * (b * uu[l] + a * kept);
        dA += double(dh) * dt[l] * kept;
        sum_B[threadIdx.x * kScanChunk + l] = double(dh) * dt[l] * uu[l];
        sum_C[threadIdx.x * kScanChunk + l] = double(g_hat[l]) * h[l + 1];
        carry = decay[l] * dh;
      }
      partial.dA[en] = dA;
    }
    __syncthreads();
    const bool sums_B = threadIdx.x < kScanChunk;
    const int64_t l = sums_B ? threadIdx.x : int64_t(threadIdx.x) - kScanChunk;
    if (l < at.len) {
      const double* terms = sums_B ? sum_B : sum_C;
      double total = 0;
      for (int64_t j = 0; j < width; ++j) total += terms[j * kScanChunk + l];
      (sums_B ? partial.dB : partial.dC)[(int64_t(blockIdx.y) * in.T_frames + at.c0 + l) * N + n] = total;
    }
    __syncthreads();  // the terms are rewritten for the next state
  }
  if (!at.active) return;
  double dD = 0, d_delta_bias = 0;
  for (int64_t l = 0; l < at.len; ++l) {
    const int64_t te = (at.c0 + l) * E + at.e;
    const T zz = in.z[te], sig = stable_sigmoid(zz);
    d.u[te] = in.D[at.e] * g_hat[l] + dt[l] * dh_dot_b[l];
    d.delta[te] = d_dt[l] * slope[l];
    d.z[te] = g[te] * (y[l] + in.D[at.e] * uu[l]) * sig * (T(1) + zz * (T(1) - sig));
    d_delta_bias += double(d.delta[te]);
    dD += double(g_hat[l]) * uu[l];
  }
  partial.dD[at.chunk * E + at.e] = dD;
  partial.delta_bias[at.chunk * E + at.e] = d_delta_bias;
}

// out[i] = the sum of partial[p][i] over p in order.
template <typename T>
__global__ void sum_partials_kernel(const double* partial, int64_t n_parts, int64_t width, T* out) {
  for (int64_t i = global_thread(); i < width; i += grid_threads()) {
    double total = 0;
    for (int64_t p = 0; p < n_parts; ++p) total += partial[p * width + i];
    out[i] = T(total);
  }
}

std::string scan_needs(int64_t N) { return "selective_scan with N = " + std::to_string(N) + " states"; }

template <typename T>
ScanArgs<T> args_of(const std::vector<Tensor>& t, const Tensor& chunk_begin) {
  return {t[0].device_data<T>(), t[1].device_data<T>(), t[2].device_data<T>(),
          t[3].device_data<T>(), t[4].device_data<T>(), t[5].device_data<T>(),
          t[6].device_data<T>(), t[7].device_data<T>(), chunk_begin.device_data<int64_t>(),
          t[0].size(0),          t[0].size(1),          t[2].size(1)};
}

// The chunk tables on the device.
struct DeviceChunks {
  int64_t count, n_seqs;
  Tensor begin, first_chunk;
  explicit DeviceChunks(const SeqOffsets& seq_offsets) {
    const ScanChunks chunks = scan_chunks(seq_offsets);
    count = chunks.count(), n_seqs = int64_t(seq_offsets.size()) - 1;
    begin = Tensor::from_vector(chunks.begin, {count + 1}).to(Device::cuda);
    first_chunk = Tensor::from_vector(chunks.first_chunk, {n_seqs + 1}).to(Device::cuda);
  }
};

dim3 chunk_grid(int64_t n_chunks, int64_t E) {
  return dim3(unsigned(n_chunks), unsigned((E + kChannels - 1) / kChannels));
}

}  // namespace

Tensor selective_scan_forward(const std::vector<Tensor>& inputs, const SeqOffsets& seq_offsets, const Tensor& out) {
  const int64_t E = inputs[0].size(1), N = inputs[2].size(1);
  const DeviceChunks chunks(seq_offsets);
  Tensor states = Tensor::empty({chunks.count, E, N}, inputs[0].dtype(), Device::cuda);
  dispatch_float(inputs[0].dtype(), "selective_scan", [&](auto tag) {
    using scalar_t = decltype(tag);
    const ScanArgs<scalar_t> in = args_of<scalar_t>(inputs, chunks.begin);
    const Shape per_chunk{chunks.count, E, N};
    Tensor h_local = Tensor::empty(per_chunk, inputs[0].dtype(), Device::cuda);
    Tensor decay_product = Tensor::empty(per_chunk, inputs[0].dtype(), Device::cuda);
    const dim3 grid = chunk_grid(chunks.count, E);
    const size_t rows = kScanChunk * N * sizeof(scalar_t);
    launch<scan_chunk_local_kernel<scalar_t>>(
        ERC_HERE, grid, kChannels, dynamic_shared_memory<scan_chunk_local_kernel<scalar_t>>(rows, scan_needs(N)), in,
        h_local.device_data<scalar_t>(), decay_product.device_data<scalar_t>());
    launch<scan_chunk_starts_kernel<scalar_t>>(ERC_HERE, grid_for(chunks.n_seqs * E * N, kThreads), kThreads, 0,
                                               h_local.device_data<scalar_t>(), decay_product.device_data<scalar_t>(),
                                               chunks.first_chunk.device_data<int64_t>(), chunks.n_seqs, E * N,
                                               states.device_data<scalar_t>());
    launch<scan_chunk_output_kernel<scalar_t>>(
        ERC_HERE, grid, kChannels, dynamic_shared_memory<scan_chunk_output_kernel<scalar_t>>(2 * rows, scan_needs(N)),
        in, states.device_data<scalar_t>(), out.device_data<scalar_t>());
  });
  return states;
}

std::vector<Tensor> selective_scan_backward(const std::vector<Tensor>& inputs, const Tensor& states,
                                            const SeqOffsets& seq_offsets, const Tensor& g) {
  const int64_t T_frames = inputs[0].size(0), E = inputs[0].size(1), N = inputs[2].size(1);
  const DeviceChunks chunks(seq_offsets);
  std::vector<Tensor> grads;
  for (const Tensor& t : inputs) grads.push_back(Tensor::empty(t.shape(), t.dtype(), Device::cuda));
  dispatch_float(inputs[0].dtype(), "selective_scan backward", [&](auto tag) {
    using scalar_t = decltype(tag);
    const ScanArgs<scalar_t> in = args_of<scalar_t>(inputs, chunks.begin);
    const DType dtype = inputs[0].dtype();
    const Shape per_chunk{chunks.count, E, N};
    Tensor carry_local = Tensor::empty(per_chunk, dtype, Device::cuda);
    Tensor decay_product = Tensor::empty(per_chunk, dtype, Device::cuda);
    Tensor carry_in = Tensor::empty(per_chunk, dtype, Device::cuda);
    const dim3 grid = chunk_grid(chunks.count, E);
    const size_t rows = kScanChunk * N * sizeof(scalar_t);
    const scalar_t* pg = g.device_data<scalar_t>();
    launch<scan_chunk_carry_kernel<scalar_t>>(
        ERC_HERE, grid, kChannels, dynamic_shared_memory<scan_chunk_carry_kernel<scalar_t>>(rows, scan_needs(N)), in,
        pg, carry_local.device_data<scalar_t>(), decay_product.device_data<scalar_t>());
    launch<scan_chunk_carry_in_kernel<scalar_t>>(
        ERC_HERE, grid_for(chunks.n_seqs * E * N, kThreads), kThreads, 0, carry_local.device_data<scalar_t>(),
        decay_product.device_data<scalar_t>(), chunks.first_chunk.device_data<int64_t>(), chunks.n_seqs, E * N,
        carry_in.device_data<scalar_t>());
    const int64_t n_channel_blocks = grid.y;
    Tensor dA_part = Tensor::empty(per_chunk, DType::f64, Device::cuda);
    Tensor dD_part = Tensor::empty({chunks.count, E}, DType::f64, Device::cuda);
    Tensor dbias_part = Tensor::empty({chunks.count, E}, DType::f64, Device::cuda);
    Tensor dB_part = Tensor::empty({n_channel_blocks, T_frames, N}, DType::f64, Device::cuda);
    Tensor dC_part = Tensor::empty({n_channel_blocks, T_frames, N}, DType::f64, Device::cuda);
    const ScanGrads<scalar_t> d{grads[0].device_data<scalar_t>(), grads[1].device_data<scalar_t>(),
                                grads[2].device_data<scalar_t>(), grads[3].device_data<scalar_t>(),
                                grads[4].device_data<scalar_t>(), grads[5].device_data<scalar_t>(),
                                grads[6].device_data<scalar_t>(), grads[7].device_data<scalar_t>()};
    const ScanPartials partial{dA_part.device_data<double>(), dD_part.device_data<double>(),
                               dbias_part.device_data<double>(), dB_part.device_data<double>(),
                               dC_part.device_data<double>()};
    const size_t sums = 2 * kChannels * kScanChunk * sizeof(double);
    launch<scan_chunk_backward_kernel<scalar_t>>(
        ERC_HERE, grid, kChannels,
        dynamic_shared_memory<scan_chunk_backward_kernel<scalar_t>>(sums + 2 * rows, scan_needs(N)), in,
        states.device_data<scalar_t>(), carry_in.device_data<scalar_t>(), pg, d, partial);
    auto sum = [&](const Tensor& part, int64_t n_parts, int64_t width, const Tensor& grad) {
      launch<sum_partials_kernel<scalar_t>>(ERC_HERE, grid_for(width, kThreads), kThreads, 0,
                                            part.device_data<double>(), n_parts, width, grad.device_data<scalar_t>());
    };
    sum(dA_part, chunks.count, E * N, grads[2]);
    sum(dB_part, n_channel_blocks, T_frames * N, grads[3]);
    sum(dC_part, n_channel_blocks, T_frames * N, grads[4]);
    sum(dD_part, chunks.count, E, grads[5]);
    sum(dbias_part, chunks.count, E, grads[7]);
  });
  return grads;
}

}  // namespace erc::ops::cuda
