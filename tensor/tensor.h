// Tensor: a shared, strided view of typed storage, plus the autograd fields a define-by-run graph needs.
//
// A Tensor is a handle: copies share one TensorImpl, so a gradient accumulated into a leaf is seen through every
// handle. Shapes and strides are in elements, row-major, last dimension contiguous (PyTorch's conventions).
// The view methods here record no gradient; ops/shape.h has the differentiable versions.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "tensor/check.h"
#include "tensor/dtype.h"

namespace erc {

namespace autograd {
struct Node;
}

using Shape = std::vector<int64_t>;

// One allocation, in host memory or on the device. Host memory is 64-byte aligned so that OpenBLAS and the
// vectoriser get aligned rows; device memory comes from the CUDA backend (tensor/device_backend.h), whose caching
// allocator keeps freed blocks for the next tensor.
struct Storage {
  Storage(size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data = nullptr;  // a device address when device is cuda: never dereferenced by host code
  size_t nbytes = 0;
  Device device = Device::cpu;
};

class Tensor;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;
  int64_t offset = 0;  // in elements, into storage
  DType dtype = DType::f32;
  // Autograd. A leaf that requires grad has no grad_fn and receives its gradient in `grad`;
  // an op's output that requires grad carries the node that computes its inputs' gradients.
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<autograd::Node> grad_fn;
};

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor: "no value" (e.g. no gradient yet)
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // Construction, on the host unless a device is given. Memory from empty() is uninitialised.
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu);
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu);
  static Tensor ones(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::f32, Device device = Device::cpu);
  static Tensor scalar(double value, DType dtype = DType::f32);  // 0-d
  static Tensor arange(int64_t n, DType dtype = DType::i64);
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape);

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Shape& strides() const { return impl().strides; }
  int64_t dim() const { return int64_t(impl().shape.size()); }
  int64_t size(int64_t d) const;  // d may be negative, counted from the end
  int64_t numel() const;
  int64_t offset() const { return impl().offset; }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device; }
  bool is_contiguous() const;
  bool shares_storage_with(const Tensor& other) const { return impl().storage == other.impl().storage; }

  // Host access: a pointer to the element at `offset` (the dtype must match T), a value, a row-major copy. Each
  // refuses a device tensor: device memory is not host memory (copy it first with to(Device::cpu)).
  template <typename T> T* data();
  template <typename T> const T* data() const;
  void* raw_data();
  const void* raw_data() const;
  template <typename T> T item() const;                   // the value of a one-element tensor
  template <typename T> std::vector<T> to_vector() const;  // row-major copy of the values
  double item_as_double() const;
  // Device access, for the launchers that hand it to a kernel: the device address of the element at `offset`.
  // Refuses a host tensor.
  template <typename T>
  T* device_data() const;
  void* device_raw_data() const;

  // Views and copies that record no gradient. On a tensor that requires grad they refuse: silently dropping
  // the graph would be a wrong gradient, not an error. Call x.detach() first, or use ops/shape.h.
  Tensor view(const Shape& shape) const;        // needs a contiguous tensor; one dim may be -1
  Tensor reshape(const Shape& shape) const;     // view when contiguous, else a copy
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor permute(const Shape& dims) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor expand(const Shape& shape) const;      // size-1 dims (and new leading dims) become stride 0
  Tensor contiguous() const;                    // itself when already contiguous
  Tensor clone() const;                         // a contiguous copy with its own storage
  Tensor to(DType dtype) const;                 // itself when the dtype already matches
  Tensor to(Device device) const;               // itself when already there, else a contiguous copy there
  void copy_(const Tensor& src);                // element-wise copy of a same-shape tensor, from any device and dtype
  void fill_(double value);
  void add_(const Tensor& src);                 // this += src: same shape, device and floating dtype; this contiguous
  Tensor detach() const;                        // same storage and view, no autograd

  // Autograd fields (the algorithms live in autograd/).
  bool requires_grad() const { return impl().requires_grad; }
  Tensor& set_requires_grad(bool on);     // only on leaves
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  Tensor grad() const { return Tensor(impl().grad); }
  void set_grad(const Tensor& grad) const { impl().grad = grad.impl_; }
  const std::shared_ptr<autograd::Node>& grad_fn() const { return impl().grad_fn; }

  TensorImpl& impl() const {
    ERC_CHECK(impl_ != nullptr, "use of an undefined tensor");
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  void check_no_grad(const char* method) const;
  void check_on_host(const char* method) const;
  void copy_across_devices(const Tensor& src);
  void* element_address() const;  // the element at `offset`, on whichever device holds it
  std::shared_ptr<TensorImpl> impl_;
};

// Row-major contiguous strides for a shape.
Shape contiguous_strides(const Shape& shape);
int64_t shape_numel(const Shape& shape);
// A dimension index in [0, ndim), from one that may be negative; errors name the op.
int64_t wrap_dim(int64_t d, int64_t ndim, const char* op);
// The broadcast shape of two shapes (NumPy rules), or an error naming both.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// Calls f(i, offset) for each element of a strided layout, i counting row-major from 0 and offset being the
// element's position relative to `offset` (0 for a walk from data<T>()). The inner loop runs over the last dim.
template <typename F>
void for_each_offset(const Shape& shape, const Shape& strides, int64_t offset, F&& f) {
  const int64_t nd = int64_t(shape.size());
  const int64_t n = shape_numel(shape);
  if (n == 0) return;
  if (nd == 0) {
    f(int64_t(0), offset);
    return;
  }
  const int64_t inner = shape[nd - 1], inner_stride = strides[nd - 1];
  std::vector<int64_t> index(nd, 0);
  int64_t base = offset;
  for (int64_t i = 0; i < n; i += inner) {
    for (int64_t j = 0; j < inner; ++j) f(i + j, base + j * inner_stride);
    for (int64_t d = nd - 2; d >= 0; --d) {  // advance the outer index like an odometer
      base += strides[d];
      if (++index[d] < shape[d]) break;
      base -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
}

// The same walk over two layouts of one shape at once: f(i, offset_a, offset_b). Broadcasting passes stride 0.
template <typename F>
void for_each_offset2(const Shape& shape, const Shape& strides_a, int64_t offset_a, const Shape& strides_b,
                      int64_t offset_b, F&& f) {
  const int64_t nd = int64_t(shape.size());
  const int64_t n = shape_numel(shape);
  if (n == 0) return;
  if (nd == 0) {
    f(int64_t(0), offset_a, offset_b);
    return;
  }
  const int64_t inner = shape[nd - 1], sa = strides_a[nd - 1], sb = strides_b[nd - 1];
  std::vector<int64_t> index(nd, 0);
  int64_t a = offset_a, b = offset_b;
  for (int64_t i = 0; i < n; i += inner) {
    for (int64_t j = 0; j < inner; ++j) f(i + j, a + j * sa, b + j * sb);
    for (int64_t d = nd - 2; d >= 0; --d) {
      a += strides_a[d];
      b += strides_b[d];
      if (++index[d] < shape[d]) break;
      a -= strides_a[d] * shape[d];
      b -= strides_b[d] * shape[d];
      index[d] = 0;
    }
  }
}

}  // namespace erc
