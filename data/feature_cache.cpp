#include "data/feature_cache.h"

#include <hdf5.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>

#include "io/file_lock.h"

namespace erc::data {

namespace {

constexpr const char* kFormat = "erc-features-1";
constexpr int kFlushSeconds = 5;

// Once, before any other HDF5 call:
// - HDF5 reports errors through a global stack that it prints by default; erc turns each failure into an
//   erc::Error with the file name instead, so the printing is switched off.
// - HDF5 1.10.8 closes what is still open at exit, and crashes (a null dereference in H5F__close_cb) on a file whose
//   close failed, as on a full disk. erc closes every handle itself (RAII), so that exit-time cleanup is switched off
//   and a full disk ends in an error message, not a segfault (FailingWrites.AFeatureCache... caught it).
void prepare_hdf5() {
  static bool done = [] {
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

// One hid_t with its close function: RAII for every HDF5 handle.
class Handle {
 public:
  Handle() = default;
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Handle(Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Handle& operator=(Handle&& o) noexcept {
    reset();
    id_ = o.id_;
    close_ = o.close_;
    o.id_ = -1;
    return *this;
  }
  ~Handle() { reset(); }
  void reset() {
    if (id_ >= 0 && close_) close_(id_);
    id_ = -1;
  }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

// The operating system's reason behind a failure, from HDF5's error stack (a full disk: " (No space left on
// device)"), or "" where the failure was HDF5's own.
std::string system_reason() {
  std::string reason;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_DOWNWARD,
      [](unsigned, const H5E_error2_t* error, void* out) -> herr_t {
        const std::string desc = error->desc ? error->desc : "";
        const size_t at = desc.find("error message = '");
        if (at != std::string::npos) {
          const size_t begin = at + std::strlen("error message = '");
          *static_cast<std::string*>(out) = " (" + desc.substr(begin, desc.find('\'', begin) - begin) + ")";
        }
        return 0;
      },
      &reason);
  return reason;
}

Handle checked(hid_t id, herr_t (*close)(hid_t), const std::string& path, const std::string& what) {
  ERC_CHECK(id >= 0, path, ": HDF5 could not ", what, system_reason());
  return Handle(id, close);
}

void check(herr_t status, const std::string& path, const std::string& what) {
  ERC_CHECK(status >= 0, path, ": HDF5 could not ", what, system_reason());
}

// A dataset's creation properties: one chunk holding the whole dataset, with HDF5's Fletcher-32 checksum, which every
// read verifies (so damaged feature bytes are an error, never values). A chunk must be no larger than 4 GiB: one
// utterance's features are a few MB.
Handle checksummed(int rank, const hsize_t* dims, const std::string& path) {
  Handle create(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  hsize_t chunk[2] = {std::max<hsize_t>(dims[0], 1), rank > 1 ? std::max<hsize_t>(dims[1], 1) : 1};
  check(H5Pset_chunk(create.get(), rank, chunk), path, "set a dataset's chunk");
  check(H5Pset_fletcher32(create.get()), path, "set a dataset's checksum");
  return create;
}

// IEEE binary16, which HDF5 1.10 does not predefine; laid out as h5py does, so numpy reads it as float16.
Handle f16_type() {
  hid_t t = H5Tcopy(H5T_IEEE_F32LE);
  H5Tset_fields(t, 15, 10, 5, 0, 10);
  H5Tset_size(t, 2);
  H5Tset_ebias(t, 15);
  return Handle(t, H5Tclose);
}

Handle string_type(size_t size) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, std::max<size_t>(size, 1));
  H5Tset_strpad(t, H5T_STR_NULLPAD);
  return Handle(t, H5Tclose);
}

void write_string_attr(hid_t obj, const char* name, const std::string& value, const std::string& path) {
  Handle type = string_type(value.size());
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
  Handle attr = checked(H5Acreate2(obj, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose, path,
                        std::string("create attribute ") + name);
  check(H5Awrite(attr.get(), type.get(), value.data()), path, std::string("write attribute ") + name);
}

template <typename T>
void write_number_attr(hid_t obj, const char* name, T value, const std::string& path) {
  hid_t native = std::is_same_v<T, double> ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64;
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
  Handle attr = checked(H5Acreate2(obj, name, native, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose, path,
                        std::string("create attribute ") + name);
  check(H5Awrite(attr.get(), native, &value), path, std::string("write attribute ") + name);
}

std::string read_string_attr(hid_t obj, const char* name, const std::string& path) {
  ERC_CHECK(H5Aexists(obj, name) > 0, path, ": attribute '", name, "' is missing (not an erc feature cache?)");
  Handle attr = checked(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose, path, std::string("open attribute ") + name);
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  ERC_CHECK(H5Tget_class(type.get()) == H5T_STRING && !H5Tis_variable_str(type.get()), path, ": attribute '", name,
            "' is not a fixed-length string");
  std::string value(H5Tget_size(type.get()), '\0');
  check(H5Aread(attr.get(), type.get(), value.data()), path, std::string("read attribute ") + name);
  return value.substr(0, value.find('\0'));
}

template <typename T>
T read_number_attr(hid_t obj, const char* name, const std::string& path) {
  ERC_CHECK(H5Aexists(obj, name) > 0, path, ": attribute '", name, "' is missing (not an erc feature cache?)");
  Handle attr = checked(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose, path, std::string("open attribute ") + name);
  T value{};
  check(H5Aread(attr.get(), std::is_same_v<T, double> ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64, &value), path,
        std::string("read attribute ") + name);
  return value;
}

void write_attributes(hid_t file, const CacheAttributes& a, const std::string& path) {
  write_string_attr(file, "format", kFormat, path);
  write_string_attr(file, "extractor", a.extractor, path);
  write_number_attr<int64_t>(file, "layer", a.layer, path);
  write_number_attr<int64_t>(file, "normalised", a.normalised ? 1 : 0, path);
  write_number_attr<int64_t>(file, "sample_rate", a.sample_rate, path);
  write_number_attr<double>(file, "frame_rate", a.frame_rate, path);
  write_number_attr<int64_t>(file, "feature_dim", a.feature_dim, path);
  write_string_attr(file, "dtype", dtype_name(a.dtype), path);
  write_string_attr(file, "computed_on", a.computed_on, path);
}

CacheAttributes read_attributes(hid_t file, const std::string& path) {
  ERC_CHECK(read_string_attr(file, "format", path) == kFormat, path, ": not an erc feature cache (format is not ",
            kFormat, ")");
  CacheAttributes a;
  a.extractor = read_string_attr(file, "extractor", path);
  a.layer = read_number_attr<int64_t>(file, "layer", path);
  a.normalised = read_number_attr<int64_t>(file, "normalised", path) != 0;
  a.sample_rate = read_number_attr<int64_t>(file, "sample_rate", path);
  a.frame_rate = read_number_attr<double>(file, "frame_rate", path);
  a.feature_dim = read_number_attr<int64_t>(file, "feature_dim", path);
  const std::string dtype = read_string_attr(file, "dtype", path);
  ERC_CHECK(dtype == "f16" || dtype == "f32", path, ": feature dtype must be f16 or f32, got ", dtype);
  a.dtype = dtype == "f16" ? DType::f16 : DType::f32;
  if (H5Aexists(file, "computed_on") > 0) a.computed_on = read_string_attr(file, "computed_on", path);
  return a;
}

// Per-utterance metadata lives on the utterance's dataset too, so a resumed partial file knows what it holds.
void write_info_attrs(hid_t dset, const UtteranceInfo& u, const std::string& path) {
  write_string_attr(dset, "dialogue", u.dialogue, path);
  write_number_attr<int64_t>(dset, "session", u.session, path);
  write_string_attr(dset, "speaker", u.speaker, path);
  write_string_attr(dset, "label", u.label, path);
  write_number_attr<double>(dset, "start", u.start, path);
  write_number_attr<double>(dset, "end", u.end, path);
  if (!u.split.empty()) write_string_attr(dset, "split", u.split, path);
}

UtteranceInfo read_info_attrs(hid_t dset, const std::string& utt_id, const std::string& path) {
  UtteranceInfo u;
  u.utt_id = utt_id;
  u.dialogue = read_string_attr(dset, "dialogue", path);
  u.session = read_number_attr<int64_t>(dset, "session", path);
  u.speaker = read_string_attr(dset, "speaker", path);
  u.label = read_string_attr(dset, "label", path);
  u.start = read_number_attr<double>(dset, "start", path);
  u.end = read_number_attr<double>(dset, "end", path);
  if (H5Aexists(dset, "split") > 0) u.split = read_string_attr(dset, "split", path);
  Handle space(H5Dget_space(dset), H5Sclose);
  hsize_t dims[2] = {0, 0};
  ERC_CHECK(H5Sget_simple_extent_ndims(space.get()) == 2, path, ": features of ", utt_id, " are not 2-d");
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  u.n_frames = int64_t(dims[0]);
  return u;
}

Handle open_file(const std::string& path, unsigned flags) {
  prepare_hdf5();
  ERC_CHECK(std::filesystem::exists(path), path, ": no such file");
  ERC_CHECK(H5Fis_hdf5(path.c_str()) > 0, path, ": not an HDF5 file (or truncated)");
  return checked(H5Fopen(path.c_str(), flags, H5P_DEFAULT), H5Fclose, path, "open the file (corrupt?)");
}

// Whether a computed_on value, "a" or "a + b + ...", names `one` among its parts.
bool names_computed_on(const std::string& all, const std::string& one) {
  for (size_t begin = 0;;) {
    const size_t end = all.find(" + ", begin);
    if (all.compare(begin, end == std::string::npos ? std::string::npos : end - begin, one) == 0) return true;
    if (end == std::string::npos) return false;
    begin = end + 3;
  }
}

}  // namespace

bool CacheAttributes::operator==(const CacheAttributes& o) const {
  return extractor == o.extractor && layer == o.layer && normalised == o.normalised && sample_rate == o.sample_rate &&
         frame_rate == o.frame_rate && feature_dim == o.feature_dim && dtype == o.dtype && computed_on == o.computed_on;
}

std::string CacheAttributes::describe() const {
  std::ostringstream s;
  s << "extractor " << extractor << ", layer " << layer << ", normalisation " << (normalised ? "on" : "off") << ", "
    << sample_rate << " Hz, " << frame_rate << " frames/s, " << feature_dim << "-d, " << dtype_name(dtype)
    << ", computed on " << computed_on;
  return s.str();
}

// ---------------------------------------------------------------------------------------------------- writer

struct FeatureCacheWriter::Impl {
  std::optional<FileLock> lock;  // first member, so it is released only after the file is closed
  std::string path, partial;
  CacheAttributes attributes;
  Handle file, features;  // the file and its /features group
  std::map<std::string, UtteranceInfo> written;
  std::chrono::steady_clock::time_point last_flush = std::chrono::steady_clock::now();
};

FeatureCacheWriter::FeatureCacheWriter(const std::string& path, const CacheAttributes& attributes, bool mix_computed_on)
    : impl_(std::make_unique<Impl>()) {
  prepare_hdf5();
  ERC_CHECK(attributes.dtype == DType::f16 || attributes.dtype == DType::f32, path,
            ": features are stored as f16 or f32, not ", dtype_name(attributes.dtype));
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  ERC_CHECK(parent.empty() || std::filesystem::is_directory(parent), path, ": the folder ", parent.string(),
            " does not exist");
  Impl& m = *impl_;
  m.lock.emplace(path + ".lock", "the feature cache " + path);
  m.path = path;
  m.partial = path + ".partial";
  m.attributes = attributes;
  if (std::filesystem::exists(m.partial)) {
    m.file = open_file(m.partial, H5F_ACC_RDWR);
    CacheAttributes existing = read_attributes(m.file.get(), m.partial);
    CacheAttributes compared = attributes;
    if (mix_computed_on) compared.computed_on = existing.computed_on;
    ERC_CHECK(existing == compared, m.partial, ": an interrupted run with other settings left this file (",
              existing.describe(), "; now ", attributes.describe(), "): delete it or use the same settings",
              existing.computed_on != attributes.computed_on
                  ? " (erc_extract --mix-devices resumes it on this device all the same)"
                  : "");
    if (!names_computed_on(existing.computed_on, attributes.computed_on)) {  // mixing, as asked: the file says so
      existing.computed_on += " + " + attributes.computed_on;
      write_string_attr(m.file.get(), "computed_on", existing.computed_on, m.partial);
    }
    m.attributes = existing;
    m.features = checked(H5Gopen2(m.file.get(), "features", H5P_DEFAULT), H5Gclose, m.partial, "open /features");
    H5G_info_t info;
    check(H5Gget_info(m.features.get(), &info), m.partial, "list /features");
    for (hsize_t i = 0; i < info.nlinks; ++i) {
      char name[1024];
      H5Lget_name_by_idx(m.features.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT);
      Handle dset = checked(H5Dopen2(m.features.get(), name, H5P_DEFAULT), H5Dclose, m.partial, "open a dataset");
      m.written.emplace(name, read_info_attrs(dset.get(), name, m.partial));
    }
  } else {
    // HDF5 1.10's file format checksums the file's metadata (superblock, object headers, their attributes), so
    // damaged metadata is an error on open or read rather than wrong values.
    Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    check(H5Pset_libver_bounds(access.get(), H5F_LIBVER_V110, H5F_LIBVER_LATEST), m.partial, "ask for the 1.10 format");
    m.file = checked(H5Fcreate(m.partial.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get()), H5Fclose, m.partial,
                     "create the file");
    write_attributes(m.file.get(), attributes, m.partial);
    m.features = checked(H5Gcreate2(m.file.get(), "features", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                         m.partial, "create /features");
  }
}

FeatureCacheWriter::~FeatureCacheWriter() = default;

bool FeatureCacheWriter::has(const std::string& utt_id) const { return impl_->written.count(utt_id) != 0; }
int64_t FeatureCacheWriter::n_written() const { return int64_t(impl_->written.size()); }

void FeatureCacheWriter::write(const UtteranceInfo& info, const Tensor& features) {
  Impl& m = *impl_;
  ERC_CHECK(m.file.valid(), m.path, ": write after finish()");
  ERC_CHECK(!info.utt_id.empty() && info.utt_id.find('/') == std::string::npos && info.utt_id != ".", m.path,
            ": invalid utterance id '", info.utt_id, "'");
  ERC_CHECK(!has(info.utt_id), m.path, ": utterance ", info.utt_id, " is already in the cache");
  ERC_CHECK(features.dim() == 2 && features.size(1) == m.attributes.feature_dim && features.size(0) > 0, m.path,
            ": features of ", info.utt_id, " must be [T > 0, ", m.attributes.feature_dim, "], got ",
            shape_str(features.shape()));
  Tensor f = features.detach().to(DType::f32).contiguous();
  const float* p = f.data<float>();
  for (int64_t i = 0; i < f.numel(); ++i)
    ERC_CHECK(std::isfinite(p[i]), m.path, ": features of ", info.utt_id, " are not finite (frame ", i / f.size(1),
              ", dim ", i % f.size(1), " = ", p[i], "); nothing was written for it");
  hsize_t dims[2] = {hsize_t(f.size(0)), hsize_t(f.size(1))};
  Handle space(H5Screate_simple(2, dims, nullptr), H5Sclose);
  // f16 is converted by erc (tensor/dtype.h) and written as raw 16-bit values: HDF5's own float conversion is
  // a slow soft path, three times slower than the whole f32 write.
  const bool half = m.attributes.dtype == DType::f16;
  Handle f16 = f16_type();
  Tensor stored = half ? f.to(DType::f16) : f;
  hid_t type = half ? f16.get() : H5T_IEEE_F32LE;
  Handle create = checksummed(2, dims, m.partial);
  Handle dset = checked(
      H5Dcreate2(m.features.get(), info.utt_id.c_str(), type, space.get(), H5P_DEFAULT, create.get(), H5P_DEFAULT),
      H5Dclose, m.partial, "create the dataset of " + info.utt_id);
  check(H5Dwrite(dset.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, stored.raw_data()), m.partial,
        "write the features of " + info.utt_id);
  write_info_attrs(dset.get(), info, m.partial);
  dset.reset();
  // Flushing makes the partial file resumable after a crash; its cost grows with the file, so at most every
  // few seconds (a crash loses at most that much work).
  if (std::chrono::steady_clock::now() - m.last_flush > std::chrono::seconds(kFlushSeconds)) {
    check(H5Fflush(m.file.get(), H5F_SCOPE_GLOBAL), m.partial, "flush");
    m.last_flush = std::chrono::steady_clock::now();
  }
  UtteranceInfo stored_info = info;
  stored_info.n_frames = f.size(0);
  m.written.emplace(info.utt_id, stored_info);
}

void FeatureCacheWriter::finish(const std::vector<std::string>& order) {
  Impl& m = *impl_;
  ERC_CHECK(m.file.valid(), m.path, ": finish() called twice");
  ERC_CHECK(order.size() == m.written.size(), m.path, ": the index order names ", order.size(), " utterances, ",
            m.written.size(), " were written");
  std::vector<const UtteranceInfo*> rows;
  for (const std::string& id : order) {
    auto it = m.written.find(id);
    ERC_CHECK(it != m.written.end(), m.path, ": the index names ", id, ", which was not written");
    rows.push_back(&it->second);
  }
  Handle index = checked(H5Gcreate2(m.file.get(), "index", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, m.partial,
                         "create /index");
  const hsize_t n = rows.size();
  auto write_strings = [&](const char* name, auto get) {
    size_t width = 1;
    for (auto* r : rows) width = std::max(width, get(*r).size());
    std::string buffer(n * width, '\0');
    for (size_t i = 0; i < n; ++i) buffer.replace(i * width, get(*rows[i]).size(), get(*rows[i]));
    Handle type = string_type(width);
    Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    Handle create = checksummed(1, &n, m.partial);
    Handle d = checked(H5Dcreate2(index.get(), name, type.get(), space.get(), H5P_DEFAULT, create.get(), H5P_DEFAULT),
                       H5Dclose, m.partial, std::string("create /index/") + name);
    check(H5Dwrite(d.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()), m.partial,
          std::string("write /index/") + name);
  };
  auto write_numbers = [&](const char* name, hid_t type, auto get) {
    using T = decltype(get(*rows[0]));
    std::vector<T> values;
    for (auto* r : rows) values.push_back(get(*r));
    Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    Handle create = checksummed(1, &n, m.partial);
    Handle d = checked(H5Dcreate2(index.get(), name, type, space.get(), H5P_DEFAULT, create.get(), H5P_DEFAULT),
                       H5Dclose, m.partial, std::string("create /index/") + name);
    check(H5Dwrite(d.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), m.partial,
          std::string("write /index/") + name);
  };
  write_strings("utt_id", [](const UtteranceInfo& u) { return u.utt_id; });
  write_strings("dialogue", [](const UtteranceInfo& u) { return u.dialogue; });
  write_strings("speaker", [](const UtteranceInfo& u) { return u.speaker; });
  write_strings("label", [](const UtteranceInfo& u) { return u.label; });
  write_strings("split", [](const UtteranceInfo& u) { return u.split; });
  write_numbers("session", H5T_NATIVE_INT64, [](const UtteranceInfo& u) { return u.session; });
  write_numbers("start", H5T_NATIVE_DOUBLE, [](const UtteranceInfo& u) { return u.start; });
  write_numbers("end", H5T_NATIVE_DOUBLE, [](const UtteranceInfo& u) { return u.end; });
  write_numbers("n_frames", H5T_NATIVE_INT64, [](const UtteranceInfo& u) { return u.n_frames; });
  index.reset();
  m.features.reset();
  check(H5Fflush(m.file.get(), H5F_SCOPE_GLOBAL), m.partial, "flush");
  m.file.reset();
  ERC_CHECK(std::rename(m.partial.c_str(), m.path.c_str()) == 0, m.path, ": cannot rename ", m.partial, " into place");
}

// ---------------------------------------------------------------------------------------------------- reader

struct FeatureCacheReader::Impl {
  std::string path;
  Handle file, features;
  CacheAttributes attributes;
  std::vector<UtteranceInfo> utterances;
};

FeatureCacheReader::FeatureCacheReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.path = path;
  m.file = open_file(path, H5F_ACC_RDONLY);
  m.attributes = read_attributes(m.file.get(), path);
  ERC_CHECK(H5Lexists(m.file.get(), "index", H5P_DEFAULT) > 0, path, ": no /index (an unfinished cache?)");
  m.features = checked(H5Gopen2(m.file.get(), "features", H5P_DEFAULT), H5Gclose, path, "open /features");
  Handle index = checked(H5Gopen2(m.file.get(), "index", H5P_DEFAULT), H5Gclose, path, "open /index");

  auto read_strings = [&](const char* name) {
    Handle d = checked(H5Dopen2(index.get(), name, H5P_DEFAULT), H5Dclose, path, std::string("open /index/") + name);
    Handle type(H5Dget_type(d.get()), H5Tclose);
    Handle space(H5Dget_space(d.get()), H5Sclose);
    const size_t width = H5Tget_size(type.get());
    const hssize_t n = H5Sget_simple_extent_npoints(space.get());
    std::string buffer(size_t(n) * width, '\0');
    check(H5Dread(d.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()), path,
          std::string("read /index/") + name);
    std::vector<std::string> out;
    for (hssize_t i = 0; i < n; ++i) {
      std::string s = buffer.substr(size_t(i) * width, width);
      out.push_back(s.substr(0, s.find('\0')));
    }
    return out;
  };
  auto read_numbers = [&](const char* name, hid_t type, auto zero) {
    Handle d = checked(H5Dopen2(index.get(), name, H5P_DEFAULT), H5Dclose, path, std::string("open /index/") + name);
    Handle space(H5Dget_space(d.get()), H5Sclose);
    std::vector<decltype(zero)> out(size_t(H5Sget_simple_extent_npoints(space.get())));
    check(H5Dread(d.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), path, std::string("read /index/") + name);
    return out;
  };
  auto ids = read_strings("utt_id"), dialogues = read_strings("dialogue"), speakers = read_strings("speaker"),
       labels = read_strings("label");
  auto sessions = read_numbers("session", H5T_NATIVE_INT64, int64_t(0));
  auto frames = read_numbers("n_frames", H5T_NATIVE_INT64, int64_t(0));
  auto starts = read_numbers("start", H5T_NATIVE_DOUBLE, 0.0), ends = read_numbers("end", H5T_NATIVE_DOUBLE, 0.0);
  const size_t n = ids.size();
  ERC_CHECK(dialogues.size() == n && speakers.size() == n && labels.size() == n && sessions.size() == n &&
                frames.size() == n && starts.size() == n && ends.size() == n,
            path, ": the /index columns have different lengths");
  // Caches written before splits existed have no split column: folds by session only.
  const auto splits =
      H5Lexists(index.get(), "split", H5P_DEFAULT) > 0 ? read_strings("split") : std::vector<std::string>(n);
  ERC_CHECK(splits.size() == n, path, ": the /index columns have different lengths");
  for (size_t i = 0; i < n; ++i)
    m.utterances.push_back(
        {ids[i], dialogues[i], sessions[i], speakers[i], labels[i], starts[i], ends[i], frames[i], splits[i]});
}

FeatureCacheReader::~FeatureCacheReader() = default;
const CacheAttributes& FeatureCacheReader::attributes() const { return impl_->attributes; }
const std::vector<UtteranceInfo>& FeatureCacheReader::utterances() const { return impl_->utterances; }
const std::string& FeatureCacheReader::path() const { return impl_->path; }

Tensor FeatureCacheReader::read(size_t index) const {
  const Impl& m = *impl_;
  ERC_CHECK(index < m.utterances.size(), m.path, ": utterance index ", index, " out of range (", m.utterances.size(),
            " utterances)");
  const UtteranceInfo& u = m.utterances[index];
  Handle d = checked(H5Dopen2(m.features.get(), u.utt_id.c_str(), H5P_DEFAULT), H5Dclose, m.path,
                     "open the features of " + u.utt_id);
  Handle space(H5Dget_space(d.get()), H5Sclose);
  hsize_t dims[2] = {0, 0};
  ERC_CHECK(H5Sget_simple_extent_ndims(space.get()) == 2, m.path, ": features of ", u.utt_id, " are not 2-d");
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  ERC_CHECK(int64_t(dims[0]) == u.n_frames && int64_t(dims[1]) == m.attributes.feature_dim, m.path, ": features of ",
            u.utt_id, " are [", dims[0], ", ", dims[1], "], the index says [", u.n_frames, ", ",
            m.attributes.feature_dim, "]");
  const Shape shape = {int64_t(dims[0]), int64_t(dims[1])};
  if (m.attributes.dtype == DType::f16) {  // read the raw halves, convert with erc's exact conversion
    Tensor half = Tensor::empty(shape, DType::f16);
    Handle f16 = f16_type();
    check(H5Dread(d.get(), f16.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, half.raw_data()), m.path,
          "read the features of " + u.utt_id + " (truncated file?)");
    return half.to(DType::f32);
  }
  Tensor out = Tensor::empty(shape, DType::f32);
  check(H5Dread(d.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data<float>()), m.path,
        "read the features of " + u.utt_id + " (truncated file?)");
  return out;
}

}  // namespace erc::data

// HDF5 1.10.8 (Debian 12's) leaks a few hundred bytes when it meets a damaged object header (H5Aexists ->
// H5O_protect -> H5C_protect fails the checksum and keeps what it read; found by fuzz/fuzz_feature_cache). The leak
// is the library's and bounded by the damaged files opened, so in a sanitized build LeakSanitizer is told to ignore
// allocations made inside libhdf5; leaks of erc's own memory are still reported.
#if defined(__SANITIZE_ADDRESS__)
#define ERC_LSAN_SUPPRESSIONS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ERC_LSAN_SUPPRESSIONS 1
#endif
#endif
#ifdef ERC_LSAN_SUPPRESSIONS
extern "C" const char* __lsan_default_suppressions() { return "leak:libhdf5_serial.so\n"; }
#endif
