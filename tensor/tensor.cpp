#include "tensor/tensor.h"

#include <cstdlib>
#include <cstring>

namespace erc {

Storage::Storage(size_t nbytes_, Device device_) : nbytes(nbytes_), device(device_) {
  ERC_CHECK(device == Device::cpu, "a ", device_name(device), " tensor needs the CUDA backend (cuda/), which ",
            "this storage constructor does not reach yet");
  // aligned_alloc wants a multiple of the alignment; one spare block also makes 0-byte tensors valid pointers.
  size_t rounded = (nbytes + 63) / 64 * 64 + 64;
  data = std::aligned_alloc(64, rounded);
  ERC_CHECK(data != nullptr, "out of memory allocating ", nbytes, " bytes");
}

Storage::~Storage() { std::free(data); }

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

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.raw_data(), 0, size_t(t.numel()) * dtype_size(dtype));
  return t;
}

Tensor Tensor::ones(const Shape& shape, DType dtype) { return full(shape, 1.0, dtype); }

Tensor Tensor::full(const Shape& shape, double value, DType dtype) {
  Tensor t = empty(shape, dtype);
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

void* Tensor::raw_data() {
  return static_cast<char*>(impl().storage->data) + offset() * int64_t(dtype_size(dtype()));
}
const void* Tensor::raw_data() const { return const_cast<Tensor*>(this)->raw_data(); }

template <typename T>
T* Tensor::data() {
  ERC_CHECK(dtype() == dtype_of<T>(), "data<", dtype_name(dtype_of<T>()), ">() on a ", dtype_name(dtype()),
            " tensor");
  ERC_CHECK(device() == Device::cpu, "data<T>() reads host memory; this tensor is on ", device_name(device()));
  return static_cast<T*>(raw_data());
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

// Reads element at storage position `pos` of any dtype as a double: the slow, general path for conversions.
static double load_as_double(const void* base, DType dtype, int64_t pos) {
  switch (dtype) {
    case DType::f32: return static_cast<const float*>(base)[pos];
    case DType::f64: return static_cast<const double*>(base)[pos];
    case DType::i64: return double(static_cast<const int64_t*>(base)[pos]);
    case DType::bf16: return bf16_to_f32(static_cast<const uint16_t*>(base)[pos]);
    case DType::f16: return f16_to_f32(static_cast<const uint16_t*>(base)[pos]);
  }
  return 0;
}
static void store_from_double(void* base, DType dtype, int64_t pos, double v) {
  switch (dtype) {
    case DType::f32: static_cast<float*>(base)[pos] = float(v); break;
    case DType::f64: static_cast<double*>(base)[pos] = v; break;
    case DType::i64: static_cast<int64_t*>(base)[pos] = int64_t(v); break;
    case DType::bf16: static_cast<uint16_t*>(base)[pos] = f32_to_bf16(float(v)); break;
    case DType::f16: static_cast<uint16_t*>(base)[pos] = f32_to_f16(float(v)); break;
  }
}

template <typename T>
T Tensor::item() const {
  ERC_CHECK(numel() == 1, "item(): expected a one-element tensor, got shape ", shape_str(shape()));
  return data<T>()[0];
}
template float Tensor::item<float>() const;
template double Tensor::item<double>() const;
template int64_t Tensor::item<int64_t>() const;

double Tensor::item_as_double() const {
  ERC_CHECK(numel() == 1, "item(): expected a one-element tensor, got shape ", shape_str(shape()));
  return load_as_double(impl().storage->data, dtype(), offset());
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
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

template <typename T>
static void copy_typed(Tensor& dst, const Tensor& src) {
  T* d = static_cast<T*>(dst.impl().storage->data);
  const T* s = static_cast<const T*>(src.impl().storage->data);
  const Shape& dst_strides = dst.strides();
  if (dst.is_contiguous() && src.is_contiguous()) {
    std::memcpy(d + dst.offset(), s + src.offset(), size_t(src.numel()) * sizeof(T));
    return;
  }
  // Walk the source; place each element at its destination offset, computed from the row-major index.
  const Shape& shape = dst.shape();
  std::vector<int64_t> dst_offsets;  // only needed for a non-contiguous destination
  if (!dst.is_contiguous()) {
    dst_offsets.resize(size_t(dst.numel()));
    for_each_offset(shape, dst_strides, dst.offset(), [&](int64_t i, int64_t off) { dst_offsets[i] = off; });
  }
  for_each_offset(shape, src.strides(), src.offset(), [&](int64_t i, int64_t off) {
    d[dst_offsets.empty() ? dst.offset() + i : dst_offsets[i]] = s[off];
  });
}

void Tensor::copy_(const Tensor& src) {
  ERC_CHECK(shape() == src.shape(), "copy_: shape ", shape_str(src.shape()), " into shape ", shape_str(shape()));
  if (src.dtype() == dtype()) {
    switch (dtype_size(dtype())) {
      case 2: copy_typed<uint16_t>(*this, src); return;
      case 4: copy_typed<float>(*this, src); return;
      case 8: copy_typed<int64_t>(*this, src); return;
    }
  }
  // Different dtypes: convert element by element through double (exact for f32/bf16/f16, and i64 < 2^53).
  Tensor s = src.detach().contiguous();
  void* dst = impl().storage->data;
  const void* from = s.impl().storage->data;
  const DType to_type = dtype(), from_type = s.dtype();
  const int64_t n = numel(), base = s.offset();
  if (is_contiguous()) {  // the common case (a dtype conversion into a fresh tensor): no offset table
    const int64_t o = offset();
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) store_from_double(dst, to_type, o + i, load_as_double(from, from_type, base + i));
    return;
  }
  for_each_offset(shape(), strides(), offset(), [&](int64_t i, int64_t off) {
    store_from_double(dst, to_type, off, load_as_double(from, from_type, base + i));
  });
}

void Tensor::fill_(double value) {
  void* base = impl().storage->data;
  DType dt = dtype();
  for_each_offset(shape(), strides(), offset(), [&](int64_t, int64_t off) { store_from_double(base, dt, off, value); });
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == this->dtype()) return *this;
  check_no_grad("to");
  Tensor out = empty(shape(), dtype, device());
  out.copy_(*this);
  return out;
}

Tensor Tensor::to(Device device) const {
  ERC_CHECK(device == this->device(), "Tensor::to(", device_name(device), "): moving between devices needs the ",
            "CUDA backend");
  return *this;
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
