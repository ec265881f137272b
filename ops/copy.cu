#include "cuda/kernel.h"
#include "ops/copy_cuda.h"
#include "ops/strided.h"
#include "tensor/convert.h"

namespace erc::ops::cuda {

namespace {

constexpr unsigned kThreads = 256;

// One dtype: elements move as bytes of their size (T is uint16_t, float or int64_t by element size).
template <typename T>
__global__ void copy_kernel(T* dst, const T* src, StridedLayout<2> layout, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    int64_t at[2];
    layout.offsets(i, at);
    dst[at[0]] = src[at[1]];
  }
}

// Two dtypes: through double, as the CPU converts.
__global__ void convert_kernel(void* dst, DType dst_type, const void* src, DType src_type, StridedLayout<2> layout,
                               int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    int64_t at[2];
    layout.offsets(i, at);
    store_from_double(dst, dst_type, at[0], load_as_double(src, src_type, at[1]));
  }
}

__global__ void fill_kernel(void* dst, DType type, double value, StridedLayout<1> layout, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    int64_t at[1];
    layout.offsets(i, at);
    store_from_double(dst, type, at[0], value);
  }
}

template <typename T>
void copy_typed(const Tensor& dst, const Tensor& src, const StridedLayout<2>& layout, int64_t n) {
  launch<copy_kernel<T>>(ERC_HERE, grid_for(n, kThreads), kThreads, 0, static_cast<T*>(dst.device_raw_data()),
                         static_cast<const T*>(src.device_raw_data()), layout, n);
}

}  // namespace

void copy(const Tensor& dst, const Tensor& src) {
  const int64_t n = dst.numel();
  if (n == 0) return;
  const StridedLayout<2> layout = strided_layout<2>(dst.shape(), {&dst.strides(), &src.strides()}, "copy_");
  if (dst.dtype() != src.dtype()) {
    launch<convert_kernel>(ERC_HERE, grid_for(n, kThreads), kThreads, 0, dst.device_raw_data(), dst.dtype(),
                           src.device_raw_data(), src.dtype(), layout, n);
    return;
  }
  switch (dtype_size(dst.dtype())) {
    case 2: copy_typed<uint16_t>(dst, src, layout, n); break;
    case 4: copy_typed<float>(dst, src, layout, n); break;
    case 8: copy_typed<int64_t>(dst, src, layout, n); break;
  }
}

void fill(const Tensor& dst, double value) {
  const int64_t n = dst.numel();
  if (n == 0) return;
  const StridedLayout<1> layout = strided_layout<1>(dst.shape(), {&dst.strides()}, "fill_");
  launch<fill_kernel>(ERC_HERE, grid_for(n, kThreads), kThreads, 0, dst.device_raw_data(), dst.dtype(), value, layout,
                      n);
}

}  // namespace erc::ops::cuda
