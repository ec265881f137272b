#include "tensor/tensor.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "tensor/caching_allocator.h"
#include "tensor/convert.h"
#include "tensor/device_backend.h"

namespace erc {

namespace {

// Host blocks of this size and more come from the host cache; smaller ones from malloc, which keeps them itself.
constexpr size_t kCachedHostBytes = size_t(1) << 20;

void* aligned_block(size_t nbytes) {
  // aligned_alloc wants a multiple of the alignment; one spare block also makes 0-byte tensors valid pointers.
  return std::aligned_alloc(64, (nbytes + 63) / 64 * 64 + 64);
}

// At most a quarter of the machine's memory (and at least 1 GiB) is held free. Under AddressSanitizer nothing is:
// a reused block would hide a use after free.
CachingAllocator& host_allocator() {
#if defined(__SANITIZE_ADDRESS__)
  constexpr bool caching = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  constexpr bool caching = false;
#else
  constexpr bool caching = true;
#endif
#else
  constexpr bool caching = true;
#endif
  // Never destroyed: a static tensor elsewhere may outlive any static destroyed at exit.
  static CachingAllocator* allocator = new CachingAllocator(
      "host", aligned_block, [](void* ptr) { std::free(ptr); }, caching,
      std::max(size_t(1) << 30, size_t(sysconf(_SC_PHYS_PAGES)) * size_t(sysconf(_SC_PAGESIZE)) / 4));
  return *allocator;
}

}  // namespace

Storage::Storage(size_t nbytes_, Device device_) : nbytes(nbytes_), device(device_) {
  if (device == Device::cuda) {
    data = device_backend().allocate(nbytes);
    return;
  }
  data = nbytes >= kCachedHostBytes ? host_allocator().allocate(nbytes) : aligned_block(nbytes);
  ERC_CHECK(data != nullptr, "out of memory allocating ", nbytes, " bytes");
}

Storage::~Storage() {
  if (device == Device::cuda)
    device_backend().free(data);
  else if (nbytes >= kCachedHostBytes)
    host_allocator().free(data);
  else
    std::free(data);
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

int64_t wrap_dim(int64_t d, int64_t ndim, const char* op) {
  ERC_CHECK(d >= -ndim && d < ndim, op, ": dimension ", d, " is out of range for a ", ndim, "-d tensor");
  return d < 0 ? d + ndim : d;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t nd = std::max(a.size(), b.size());
  Shape out(nd);
  for (size_t i = 0; i < nd; ++i) {
    int64_t da = i < nd - a.size() ? 1 : a[i - (nd - a.size())];
    int64_t db = i < nd - b.size() ? 1 : b[i - (nd - b.size())];
    ERC_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", shape_str(a), " and ", shape_str(b),
              " do not broadcast (dimension ", i, ": ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t s : shape) ERC_CHECK(s >= 0, "empty: negative size in shape ", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(size_t(shape_numel(shape)) * dtype_size(dtype), device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  if (device == Device::cuda)
    t.fill_(0.0);
  else
    std::memset(t.raw_data(), 0, size_t(t.numel()) * dtype_size(dtype));
  return t;
}

Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.0, dtype, device); }

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(value);
  return t;
}

Tensor Tensor::scalar(double value, DType dtype) { return full({}, value, dtype); }

Tensor Tensor::arange(int64_t n, DType dtype) {
  Tensor t = empty({n}, DType::f64);
  double* p = t.data<double>();
  for (int64_t i = 0; i < n; ++i) p[i] = double(i);
  return t.to(dtype);
}

template <typename T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape) {
  ERC_CHECK(int64_t(values.size()) == shape_numel(shape), "from_vector: ", values.size(),
            " values do not fill shape ", shape_str(shape));
  Tensor t = empty(shape, dtype_of<T>());
  if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(T));
  return t;
}
template Tensor Tensor::from_vector(const std::vector<float>&, const Shape&);
template Tensor Tensor::from_vector(const std::vector<double>&, const Shape&);
template Tensor Tensor::from_vector(const std::vector<int64_t>&, const Shape&);

int64_t Tensor::size(int64_t d) const { return shape()[wrap_dim(d, dim(), "size")]; }

int64_t Tensor::numel() const { return shape_numel(shape()); }

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (int64_t d = dim() - 1; d >= 0; --d) {
    if (shape()[d] != 1 && strides()[d] != expected) return false;
    expected *= shape()[d];
  }
  return true;
}

void Tensor::check_on_host(const char* method) const {
  ERC_CHECK(device() == Device::cpu, "Tensor::", method, " reads host memory, and this tensor (", shape_str(shape()),
            " ", dtype_name(dtype()), ") is on ", device_name(device()),
            ": device memory is not host memory; copy it first with .to(Device::cpu)");
}

void* Tensor::element_address() const {
  return static_cast<char*>(impl().storage->data) + offset() * int64_t(dtype_size(dtype()));
}

void* Tensor::raw_data() {
  check_on_host("raw_data()");
  return element_address();
}
const void* Tensor::raw_data() const { return const_cast<Tensor*>(this)->raw_data(); }

template <typename T>
T* Tensor::data() {
  ERC_CHECK(dtype() == dtype_of<T>(), "data<", dtype_name(dtype_of<T>()), ">() on a ", dtype_name(dtype()),
            " tensor");
  check_on_host("data<T>()");
  return static_cast<T*>(element_address());
}
template <typename T>
const T* Tensor::data() const {
  return const_cast<Tensor*>(this)->data<T>();
}
template float* Tensor::data<float>();
template double* Tensor::data<double>();
template int64_t* Tensor::data<int64_t>();
template const float* Tensor::data<float>() const;
template const double* Tensor::data<double>() const;
template const int64_t* Tensor::data<int64_t>() const;

void* Tensor::device_raw_data() const {
  ERC_CHECK(device() == Device::cuda, "Tensor::device_data: this tensor (", shape_str(shape()), ") is on ",
            device_name(device()), ", not on the device a kernel reads");
  return element_address();
}

template <typename T>
T* Tensor::device_data() const {
  ERC_CHECK(dtype_size(dtype()) == sizeof(T), "device_data: a ", sizeof(T), "-byte element type for a ",
            dtype_name(dtype()), " tensor");
  return static_cast<T*>(device_raw_data());
}
template float* Tensor::device_data<float>() const;
template double* Tensor::device_data<double>() const;
template int64_t* Tensor::device_data<int64_t>() const;
template uint16_t* Tensor::device_data<uint16_t>() const;

template <typename T>
T Tensor::item() const {
  ERC_CHECK(numel() == 1, "item(): expected a one-element tensor, got shape ", shape_str(shape()));
  check_on_host("item()");
  return data<T>()[0];
}
template float Tensor::item<float>() const;
template double Tensor::item<double>() const;
template int64_t Tensor::item<int64_t>() const;

double Tensor::item_as_double() const {
  ERC_CHECK(numel() == 1, "item(): expected a one-element tensor, got shape ", shape_str(shape()));
  check_on_host("item_as_double()");
  return load_as_double(element_address(), dtype(), 0);
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  check_on_host("to_vector()");
  Tensor c = detach().contiguous();
  const T* p = c.data<T>();
  return std::vector<T>(p, p + c.numel());
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;

void Tensor::check_no_grad(const char* method) const {
  ERC_CHECK(!requires_grad(), "Tensor::", method, " records no gradient, and this tensor requires grad: ",
            "use the op of the same name in ops/shape.h, or call detach() first");
}

// A new handle on the same storage with another shape/strides/offset.
static Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.impl().storage;
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = base.dtype();
  return Tensor(std::move(impl));
}

// Resolves one -1 in a requested shape against numel.
static Shape infer_shape(const Shape& requested, int64_t numel, const Shape& from) {
  Shape shape = requested;
  int64_t known = 1, infer_at = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      ERC_CHECK(infer_at < 0, "reshape: only one dimension may be -1, got ", shape_str(requested));
      infer_at = int64_t(i);
    } else {
      ERC_CHECK(shape[i] >= 0, "reshape: invalid size in ", shape_str(requested));
      known *= shape[i];
    }
  }
  if (infer_at >= 0) {
    ERC_CHECK(known > 0 && numel % known == 0, "reshape: cannot view shape ", shape_str(from), " as ",
              shape_str(requested));
    shape[infer_at] = numel / known;
  }
  ERC_CHECK(shape_numel(shape) == numel, "reshape: shape ", shape_str(from), " (", numel, " elements) cannot be ",
            "viewed as ", shape_str(requested));
  return shape;
}

Tensor Tensor::view(const Shape& shape) const {
  check_no_grad("view");
  ERC_CHECK(is_contiguous(), "view: needs a contiguous tensor, got shape ", shape_str(this->shape()),
            " with strides ", shape_str(strides()), "; use reshape (which copies)");
  Shape s = infer_shape(shape, numel(), this->shape());
  Shape st = contiguous_strides(s);
  return make_view(*this, std::move(s), std::move(st), offset());
}

Tensor Tensor::reshape(const Shape& shape) const {
  check_no_grad("reshape");
  return is_contiguous() ? view(shape) : contiguous().view(shape);
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  Shape dims(dim());
  for (int64_t i = 0; i < dim(); ++i) dims[i] = i;
  std::swap(dims[wrap_dim(d0, dim(), "transpose")], dims[wrap_dim(d1, dim(), "transpose")]);
  return permute(dims);
}

Tensor Tensor::permute(const Shape& dims) const {
  check_no_grad("permute");
  ERC_CHECK(int64_t(dims.size()) == dim(), "permute: ", dims.size(), " dims given for a ", dim(), "-d tensor");
  Shape shape(dim()), st(dim());
  std::vector<bool> seen(dim(), false);
  for (int64_t i = 0; i < dim(); ++i) {
    int64_t d = wrap_dim(dims[i], dim(), "permute");
    ERC_CHECK(!seen[d], "permute: dimension ", d, " repeated in ", shape_str(dims));
    seen[d] = true;
    shape[i] = this->shape()[d];
    st[i] = strides()[d];
  }
  return make_view(*this, std::move(shape), std::move(st), offset());
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  check_no_grad("narrow");
  d = wrap_dim(d, dim(), "narrow");
  ERC_CHECK(start >= 0 && length >= 0 && start + length <= shape()[d], "narrow: range [", start, ", ",
            start + length, ") is outside dimension ", d, " of shape ", shape_str(shape()));
  Shape s = shape();
  s[d] = length;
  return make_view(*this, std::move(s), strides(), offset() + start * strides()[d]);
}

Tensor Tensor::expand(const Shape& shape) const {
  check_no_grad("expand");
  ERC_CHECK(shape.size() >= size_t(dim()), "expand: cannot expand shape ", shape_str(this->shape()), " to ",
            shape_str(shape));
  size_t lead = shape.size() - dim();
  Shape st(shape.size(), 0);
  for (size_t i = lead; i < shape.size(); ++i) {
    int64_t have = this->shape()[i - lead];
    ERC_CHECK(have == shape[i] || have == 1, "expand: cannot expand shape ", shape_str(this->shape()), " to ",
              shape_str(shape));
    st[i] = have == shape[i] ? strides()[i - lead] : 0;
  }
  return make_view(*this, shape, std::move(st), offset());
}

Tensor Tensor::contiguous() const {
  check_no_grad("contiguous");
  return is_contiguous() ? *this : clone();
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype(), device());
  out.copy_(detach());
  return out;
}

// Host to host, one dtype: a memcpy when both are contiguous, else a walk of the source placing each element at
// its destination offset (computed from the row-major index).
template <typename T>
static void copy_typed(Tensor& dst, const Tensor& src) {
  T* d = static_cast<T*>(dst.raw_data());
  const T* s = static_cast<const T*>(src.raw_data());
  if (dst.is_contiguous() && src.is_contiguous()) {
    std::memcpy(d, s, size_t(src.numel()) * sizeof(T));
    return;
  }
  const Shape& shape = dst.shape();
  std::vector<int64_t> dst_offsets;  // only needed for a non-contiguous destination
  if (!dst.is_contiguous()) {
    dst_offsets.resize(size_t(dst.numel()));
    for_each_offset(shape, dst.strides(), 0, [&](int64_t i, int64_t off) { dst_offsets[i] = off; });
  }
  for_each_offset(shape, src.strides(), 0,
                  [&](int64_t i, int64_t off) { d[dst_offsets.empty() ? i : dst_offsets[i]] = s[off]; });
}

// Host to host, two dtypes: element by element through double (tensor/convert.h).
static void copy_converting(Tensor& dst, const Tensor& src) {
  Tensor s = src.detach().contiguous();
  void* to = dst.raw_data();
  const void* from = s.raw_data();
  const DType to_type = dst.dtype(), from_type = s.dtype();
  const int64_t n = dst.numel();
  if (dst.is_contiguous()) {  // the common case (a dtype conversion into a fresh tensor): no offset table
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) store_from_double(to, to_type, i, load_as_double(from, from_type, i));
    return;
  }
  for_each_offset(dst.shape(), dst.strides(), 0, [&](int64_t i, int64_t off) {
    store_from_double(to, to_type, off, load_as_double(from, from_type, i));
  });
}

// Only contiguous bytes of one dtype cross between host and device; the strided or converting part of the copy
// runs on one side (the destination's).
void Tensor::copy_across_devices(const Tensor& src) {
  Tensor from = src.detach().contiguous();
  const size_t nbytes = size_t(numel()) * dtype_size(src.dtype());
  if (is_contiguous() && dtype() == src.dtype()) {
    device_backend().copy_bytes(element_address(), device(), from.element_address(), from.device(), nbytes);
    return;
  }
  Tensor staged = empty(shape(), src.dtype(), device());
  device_backend().copy_bytes(staged.element_address(), device(), from.element_address(), from.device(), nbytes);
  copy_(staged);
}

void Tensor::copy_(const Tensor& src) {
  ERC_CHECK(shape() == src.shape(), "copy_: shape ", shape_str(src.shape()), " into shape ", shape_str(shape()));
  if (device() != src.device()) return copy_across_devices(src);
  if (device() == Device::cuda) return device_backend().copy(*this, src);
  if (src.dtype() != dtype()) return copy_converting(*this, src);
  switch (dtype_size(dtype())) {
    case 2: copy_typed<uint16_t>(*this, src); return;
    case 4: copy_typed<float>(*this, src); return;
    case 8: copy_typed<int64_t>(*this, src); return;
  }
}

void Tensor::fill_(double value) {
  if (device() == Device::cuda) return device_backend().fill(*this, value);
  void* base = raw_data();
  const DType dt = dtype();
  for_each_offset(shape(), strides(), 0, [&](int64_t, int64_t off) { store_from_double(base, dt, off, value); });
}

void Tensor::add_(const Tensor& src) {
  check_no_grad("add_");
  ERC_CHECK(shape() == src.shape() && dtype() == src.dtype() && is_floating(dtype()), "add_: ", shape_str(src.shape()),
            " ", dtype_name(src.dtype()), " into ", shape_str(shape()), " ", dtype_name(dtype()),
            " (expected one shape and one floating dtype)");
  ERC_CHECK(device() == src.device(), "add_: a ", device_name(src.device()), " tensor into a ", device_name(device()),
            " tensor");
  ERC_CHECK(is_contiguous(), "add_: expected a contiguous destination, got strides ", shape_str(strides()));
  Tensor s = src.detach().contiguous();
  if (device() == Device::cuda) return device_backend().add_(*this, s);
  dispatch_float(dtype(), "add_", [&](auto tag) {
    using scalar_t = decltype(tag);
    scalar_t* d = data<scalar_t>();
    const scalar_t* p = s.data<scalar_t>();
    const int64_t n = numel();
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) d[i] += p[i];
  });
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == this->dtype()) return *this;
  check_no_grad("to");
  Tensor out = empty(shape(), dtype, device());
  out.copy_(*this);
  return out;
}

Tensor Tensor::to(Device device) const {
  if (device == this->device()) return *this;
  check_no_grad("to");
  Tensor out = empty(shape(), dtype(), device);
  out.copy_(*this);
  return out;
}

Tensor Tensor::detach() const { return make_view(*this, shape(), strides(), offset()); }

Tensor& Tensor::set_requires_grad(bool on) {
  ERC_CHECK(is_leaf(), "set_requires_grad: only a leaf tensor (one no op made) can change requires_grad");
  ERC_CHECK(!on || is_floating(dtype()), "set_requires_grad: a ", dtype_name(dtype()),
            " tensor cannot require grad");
  impl().requires_grad = on;
  return *this;
}

}  // namespace erc
