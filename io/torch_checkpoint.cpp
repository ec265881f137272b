// torch.save's zip checkpoints: a zip reader (stored entries, ZIP64, each entry's CRC-32 checked), a pickle interpreter
// that builds plain values and calls nothing, and the tensor rebuild torch.load would do, with every offset checked
// against the file.
#include "io/torch_checkpoint.h"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <unordered_map>

namespace erc {

static_assert(std::endian::native == std::endian::little, "checkpoint bytes are copied as they lie in the file");

namespace {

uint16_t u16(const char* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
uint32_t u32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
uint64_t u64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Random access into the checkpoint. Each read is one seek and one read straight into its destination, so a
// 1.3 GB checkpoint passes through memory once, into its tensors.
class File {
 public:
  explicit File(const std::string& path) : path_(path), in_(path, std::ios::binary | std::ios::ate) {
    ERC_CHECK(in_.good(), path, ": cannot open torch checkpoint (no such file, or not readable)");
    size_ = int64_t(in_.tellg());
  }
  const std::string& path() const { return path_; }
  int64_t size() const { return size_; }

  void read(uint64_t offset, void* dst, uint64_t n, const std::string& what) {
    ERC_CHECK(offset <= uint64_t(size_) && n <= uint64_t(size_) - offset, path_, ": ", what, " (", n,
              " bytes at offset ", offset, ") runs past the end of the file (", size_, " bytes; truncated?)");
    in_.seekg(int64_t(offset));
    ERC_CHECK(in_.read(static_cast<char*>(dst), int64_t(n)), path_, ": read failed for ", what);
  }
  std::string read(uint64_t offset, uint64_t n, const std::string& what) {
    ERC_CHECK(n <= uint64_t(size_), path_, ": ", what, " claims ", n, " bytes, more than the file's ", size_);
    std::string bytes(n, '\0');
    read(offset, bytes.data(), n, what);
    return bytes;
  }

 private:
  std::string path_;
  std::ifstream in_;
  int64_t size_ = 0;
};

struct ZipEntry {
  uint64_t local_header = 0, size = 0, compressed_size = 0;
  uint16_t method = 0, flags = 0;
  uint32_t crc = 0;  // CRC-32 of the entry's bytes, from the central directory
};

// The central directory, found from the end-of-central-directory record (and its ZIP64 twin, which torch always
// writes). Sizes come from the central directory: torch's local headers defer them to data descriptors.
class Zip {
 public:
  explicit Zip(File& file) : file_(file) {
    const std::string& path = file.path();
    const int64_t tail_n = std::min<int64_t>(file.size(), 22 + 0xFFFF);  // the record, then a comment up to 64 KiB
    const std::string tail = file.read(uint64_t(file.size() - tail_n), uint64_t(tail_n), "the end of the file");
    int64_t eocd = -1;
    for (int64_t i = tail_n - 22; i >= 0 && eocd < 0; --i)
      if (u32(&tail[i]) == 0x06054b50 && i + 22 + u16(&tail[i + 20]) == tail_n) eocd = i;
    ERC_CHECK(eocd >= 0, path, ": not a zip archive (no end-of-central-directory record), so not a torch.save "
              "checkpoint; or the file is truncated");
    uint64_t count = u16(&tail[eocd + 10]), cd_size = u32(&tail[eocd + 12]), cd_offset = u32(&tail[eocd + 16]);
    const int64_t eocd_at = file.size() - tail_n + eocd;
    if (eocd_at >= 20) {
      const std::string locator = file.read(uint64_t(eocd_at - 20), 20, "the ZIP64 locator");
      if (u32(locator.data()) == 0x07064b50) {
        const std::string rec = file.read(u64(&locator[8]), 56, "the ZIP64 end-of-central-directory record");
        ERC_CHECK(u32(rec.data()) == 0x06064b50, path,
                  ": the ZIP64 locator points at no ZIP64 end-of-central-directory record");
        count = u64(&rec[32]), cd_size = u64(&rec[40]), cd_offset = u64(&rec[48]);
      }
    }
    const std::string cd = file.read(cd_offset, cd_size, "the zip central directory");
    size_t at = 0;
    for (uint64_t i = 0; i < count; ++i) {
      ERC_CHECK(at + 46 <= cd.size() && u32(&cd[at]) == 0x02014b50, path, ": zip central directory entry ", i,
                " of ", count, " is malformed");
      const char* h = &cd[at];
      ZipEntry e{u32(h + 42), u32(h + 24), u32(h + 20), u16(h + 10), u16(h + 8), u32(h + 16)};
      const size_t name_n = u16(h + 28), extra_n = u16(h + 30), comment_n = u16(h + 32);
      ERC_CHECK(at + 46 + name_n + extra_n + comment_n <= cd.size(), path, ": zip central directory entry ", i,
                " runs past the directory's end");
      const std::string name = cd.substr(at + 46, name_n);
      // The ZIP64 extra field holds the 64-bit value of each field saturated above, in this order.
      const size_t extra_end = at + 46 + name_n + extra_n;
      for (size_t x = at + 46 + name_n; x + 4 <= extra_end;) {
        const size_t id = u16(&cd[x]), len = u16(&cd[x + 2]);
        ERC_CHECK(x + 4 + len <= extra_end, path, ": zip entry '", name, "' has a malformed extra field");
        size_t p = x + 4;
        auto next = [&](uint64_t& field) {
          if (field != 0xFFFFFFFF) return;
          ERC_CHECK(p + 8 <= x + 4 + len, path, ": zip entry '", name, "' has a short ZIP64 extra field");
          field = u64(&cd[p]);
          p += 8;
        };
        if (id == 0x0001) {
          next(e.size);
          next(e.compressed_size);
          next(e.local_header);
        }
        x += 4 + len;
      }
      entries_.emplace(name, e);
      at = extra_end + comment_n;
    }
  }

  const std::map<std::string, ZipEntry>& entries() const { return entries_; }

  // The entry, checked to be stored as torch.save writes it: uncompressed, unencrypted.
  const ZipEntry& stored(const std::string& name) const {
    const std::string& path = file_.path();
    auto it = entries_.find(name);
    ERC_CHECK(it != entries_.end(), path, ": the zip archive has no entry '", name, "'");
    const ZipEntry& e = it->second;
    ERC_CHECK(!(e.flags & 1), path, ": zip entry '", name, "' is encrypted");
    ERC_CHECK(e.method == 0, path, ": zip entry '", name, "' is compressed (method ", e.method,
              e.method == 8 ? ", deflate" : "", "); torch.save stores entries uncompressed, so the file was "
              "repacked: re-save it with torch.save(torch.load(f), f2)");
    ERC_CHECK(e.compressed_size == e.size, path, ": stored zip entry '", name, "' has ", e.compressed_size,
              " bytes in the archive but ", e.size, " uncompressed");
    return e;
  }

  // Bytes [begin, begin + n) of a stored entry into dst. Every entry read is checked against its CRC-32 once: on
  // the bytes read when they are the whole entry (a tensor that is its whole storage), else by a pass over it.
  void read(const std::string& name, uint64_t begin, void* dst, uint64_t n) {
    const ZipEntry& e = stored(name);
    ERC_CHECK(begin <= e.size && n <= e.size - begin, file_.path(), ": bytes [", begin, ", ", begin + n,
              ") of zip entry '", name, "' are past its ", e.size, " bytes");
    const uint64_t data = data_start(name, e);
    file_.read(data + begin, dst, n, "zip entry '" + name + "'");
    if (verified_.count(name)) return;
    uint32_t crc = 0;
    if (begin == 0 && n == e.size) {
      crc = crc32_of(0, dst, n);
    } else {
      std::string chunk;
      for (uint64_t at = 0; at < e.size; at += chunk.size()) {
        chunk.resize(size_t(std::min<uint64_t>(e.size - at, uint64_t(1) << 24)));
        file_.read(data + at, chunk.data(), chunk.size(), "zip entry '" + name + "'");
        crc = crc32_of(crc, chunk.data(), chunk.size());
      }
    }
    ERC_CHECK(crc == e.crc, file_.path(), ": zip entry '", name, "' is corrupt: its bytes' CRC-32 is ", crc,
              ", the archive records ", e.crc, " (the file was damaged after it was written)");
    verified_.insert(name);
  }
  std::string read_all(const std::string& name) {
    std::string bytes(stored(name).size, '\0');
    read(name, 0, bytes.data(), bytes.size());
    return bytes;
  }

 private:
  uint64_t data_start(const std::string& name, const ZipEntry& e) {
    const std::string header = file_.read(e.local_header, 30, "the local header of zip entry '" + name + "'");
    ERC_CHECK(u32(header.data()) == 0x04034b50, file_.path(), ": zip entry '", name,
              "' has no local header where the central directory says");
    return e.local_header + 30 + u16(&header[26]) + u16(&header[28]);
  }
  static uint32_t crc32_of(uint32_t crc, const void* bytes, uint64_t n) {
    for (uint64_t at = 0; at < n; at += 1u << 30)  // zlib takes 32-bit lengths
      crc = uint32_t(crc32(crc, static_cast<const Bytef*>(bytes) + at, uInt(std::min<uint64_t>(n - at, 1u << 30))));
    return crc;
  }

  File& file_;
  std::map<std::string, ZipEntry> entries_;
  std::set<std::string> verified_;  // entries whose CRC-32 was checked
};

// ---- The pickle interpreter. Values carry only what reading tensors needs; everything else is `other`, with a
// description for messages (and, for a call's result, the callable's dotted name).
struct Value;
using Ref = std::shared_ptr<Value>;

struct Value {
  enum class Kind { other, integer, string, tuple, list, dict, global, storage, tensor } kind = Kind::other;
  int64_t integer = 0;
  std::string text;                          // string; global: "module.name"; storage: class; other: description
  std::vector<Ref> items;                    // tuple, list
  std::vector<std::pair<Ref, Ref>> entries;  // dict, in insertion order
  // storage: its zip key and element count. tensor: the storage and the view's layout, in elements.
  std::string key;
  int64_t numel = 0;
  Ref storage;
  int64_t offset = 0;
  Shape size, stride;
};

std::string describe(const Value& v) {
  switch (v.kind) {
    case Value::Kind::integer: return "int";
    case Value::Kind::string: return "str";
    case Value::Kind::tuple: return "tuple";
    case Value::Kind::list: return "list";
    case Value::Kind::dict: return "dict";
    case Value::Kind::global: return v.text;
    case Value::Kind::storage: return "torch." + v.text;
    case Value::Kind::tensor: return "tensor";
    case Value::Kind::other: return v.text;
  }
  return "?";
}

bool is_int_tuple(const Value& v) {
  if (v.kind != Value::Kind::tuple) return false;
  for (const Ref& item : v.items)
    if (item->kind != Value::Kind::integer) return false;
  return true;
}

class Unpickler {
 public:
  Unpickler(const std::string& path, const std::string& where, std::string bytes)
      : path_(path), where_(where), bytes_(std::move(bytes)) {}
  Unpickler(const Unpickler&) = delete;
  Unpickler& operator=(const Unpickler&) = delete;
  // A pickle can build a container that holds itself (a list appended to itself through DUP or the memo), a cycle
  // that shared ownership never frees: every value this unpickler made and that is still alive has its links cut,
  // so nothing outlives the checkpoint's loading. Values run() returned must not be used after this.
  ~Unpickler() {
    for (const std::weak_ptr<Value>& made : made_)
      if (Ref v = made.lock()) {
        v->items.clear();
        v->entries.clear();
        v->storage.reset();
      }
  }

  Ref run() {
    for (;;) {
      op_at_ = pos_;
      const uint8_t op = uint8_t(*take(1));
      switch (op) {
        case 0x80: take(1); break;  // PROTO
        case 0x95: take(8); break;  // FRAME: a read-ahead hint
        case '.': return pop();     // STOP
        case '(':                   // MARK: the stack so far is set aside until the matching pop_mark
          metastack_.push_back(std::move(stack_));
          stack_.clear();
          break;
        case '0': pop(); break;        // POP
        case '1': pop_mark(); break;   // POP_MARK
        case '2': push(top()); break;  // DUP
        case 'N': push(make(Value::Kind::other, "None")); break;
        case 0x88:
        case 0x89: push(make(Value::Kind::other, "bool")); break;
        case 'J': push(integer(int32_t(u32(take(4))))); break;                // BININT
        case 'K': push(integer(uint8_t(*take(1)))); break;                     // BININT1
        case 'M': push(integer(u16(take(2)))); break;                          // BININT2
        case 0x8a: push(long_integer(uint8_t(*take(1)))); break;               // LONG1
        case 0x8b: push(long_integer(length(int32_t(u32(take(4)))))); break;  // LONG4
        case 'G': push(skipped(8, "float")); break;                            // BINFLOAT
        case 'X': push(string(u32(take(4)))); break;                           // BINUNICODE
        case 0x8c: push(string(uint8_t(*take(1)))); break;                     // SHORT_BINUNICODE
        case 0x8d: push(string(u64(take(8)))); break;                          // BINUNICODE8
        case 'T': push(string(length(int32_t(u32(take(4)))))); break;         // BINSTRING
        case 'U': push(string(uint8_t(*take(1)))); break;                      // SHORT_BINSTRING
        case 'B': push(skipped(u32(take(4)), "bytes")); break;                 // BINBYTES
        case 'C': push(skipped(uint8_t(*take(1)), "bytes")); break;            // SHORT_BINBYTES
        case 0x8e:                                                             // BINBYTES8
        case 0x96: push(skipped(u64(take(8)), "bytes")); break;                // BYTEARRAY8
        case ')': push(make(Value::Kind::tuple)); break;
        case 't': push(tuple(pop_mark())); break;
        case 0x85:
        case 0x86:
        case 0x87: {  // TUPLE1, TUPLE2, TUPLE3
          std::vector<Ref> items(op - 0x84);
          for (size_t i = items.size(); i-- > 0;) items[i] = pop();
          push(tuple(std::move(items)));
          break;
        }
        case ']': push(make(Value::Kind::list)); break;
        case 'l': {
          Ref list = make(Value::Kind::list);
          list->items = pop_mark();
          push(list);
          break;
        }
        case 'a': {  // APPEND
          Ref item = pop();
          append(top(), {item});
          break;
        }
        case 'e': {  // APPENDS
          std::vector<Ref> items = pop_mark();
          append(top(), std::move(items));
          break;
        }
        case '}': push(make(Value::Kind::dict)); break;
        case 'd': {
          Ref dict = make(Value::Kind::dict);
          set_items(dict, pop_mark());
          push(dict);
          break;
        }
        case 's': {  // SETITEM
          Ref value = pop(), key = pop();
          set_items(top(), {key, value});
          break;
        }
        case 'u': {  // SETITEMS
          std::vector<Ref> items = pop_mark();
          set_items(top(), std::move(items));
          break;
        }
        case 0x8f: push(make(Value::Kind::other, "set")); break;  // EMPTY_SET
        case 0x90:  // ADDITEMS: a set's items are never needed
          pop_mark();
          top();
          break;
        case 0x91:  // FROZENSET
          pop_mark();
          push(make(Value::Kind::other, "frozenset"));
          break;
        case 'q': memo_[uint8_t(*take(1))] = top(); break;  // BINPUT
        case 'r': memo_[u32(take(4))] = top(); break;       // LONG_BINPUT
        case 0x94: memo_[memo_.size()] = top(); break;      // MEMOIZE
        case 'h': push(memo(uint8_t(*take(1)))); break;     // BINGET
        case 'j': push(memo(u32(take(4)))); break;          // LONG_BINGET
        case 'c': {                                         // GLOBAL
          std::string module = line();
          push(make(Value::Kind::global, module + "." + line()));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          Ref name = pop(), module = pop();
          check(name->kind == Value::Kind::string && module->kind == Value::Kind::string,
                "STACK_GLOBAL needs two strings, got ", describe(*module), " and ", describe(*name));
          push(make(Value::Kind::global, module->text + "." + name->text));
          break;
        }
        case 'R': {  // REDUCE
          Ref args = pop(), callable = pop();
          push(reduce(*callable, *args));
          break;
        }
        case 'b':  // BUILD: an object's state, which nothing read here needs
          pop();
          top();
          break;
        case 0x81: {                    // NEWOBJ
          pop();
          push(make(Value::Kind::other, describe(*pop()) + " object"));
          break;
        }
        case 0x92: {  // NEWOBJ_EX
          pop(), pop();
          push(make(Value::Kind::other, describe(*pop()) + " object"));
          break;
        }
        case 'Q': push(persistent_load(*pop())); break;  // BINPERSID
        default: check(false, "unknown or unsupported pickle opcode 0x", hex(op));
      }
    }
  }

 private:
  template <typename... Parts>
  void check(bool ok, const Parts&... parts) const {
    if (!ok) ERC_CHECK(false, path_, ": malformed pickle in '", where_, "' at byte ", op_at_, ": ", parts...);
  }

  static std::string hex(uint8_t byte) {
    const char* digits = "0123456789abcdef";
    return {digits[byte >> 4], digits[byte & 15]};
  }

  const char* take(uint64_t n) {
    check(n <= bytes_.size() - pos_, "truncated (", n, " more bytes needed, ", bytes_.size() - pos_, " left)");
    const char* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }
  uint64_t length(int32_t n) {
    check(n >= 0, "negative length ", n);
    return uint64_t(n);
  }
  std::string line() {
    const size_t end = bytes_.find('\n', pos_);
    check(end != std::string::npos, "truncated (a GLOBAL name has no newline)");
    std::string s = bytes_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }

  void push(Ref v) { stack_.push_back(std::move(v)); }
  Ref pop() {
    check(!stack_.empty(), "stack underflow");
    Ref v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  const Ref& top() {
    check(!stack_.empty(), "stack underflow");
    return stack_.back();
  }
  std::vector<Ref> pop_mark() {
    check(!metastack_.empty(), "no MARK to pop to");
    std::vector<Ref> items = std::move(stack_);
    stack_ = std::move(metastack_.back());
    metastack_.pop_back();
    return items;
  }
  Ref memo(uint64_t index) {
    auto it = memo_.find(index);
    check(it != memo_.end(), "memo index ", index, " was never stored");
    return it->second;
  }

  Ref make(Value::Kind kind, std::string text = {}) {
    auto v = std::make_shared<Value>();
    v->kind = kind;
    v->text = std::move(text);
    made_.push_back(v);
    return v;
  }

  Ref integer(int64_t v) {
    Ref r = make(Value::Kind::integer);
    r->integer = v;
    return r;
  }
  // Little-endian two's complement; anything wider than 64 bits is no offset, size or count of ours.
  Ref long_integer(uint64_t n) {
    const char* p = take(n);
    if (n > 8) return make(Value::Kind::other, "int wider than 64 bits");
    uint64_t v = 0;
    for (uint64_t i = 0; i < n; ++i) v |= uint64_t(uint8_t(p[i])) << (8 * i);
    if (n > 0 && n < 8 && (uint8_t(p[n - 1]) & 0x80)) v |= ~uint64_t(0) << (8 * n);  // sign-extend
    return integer(int64_t(v));
  }
  Ref string(uint64_t n) {
    const char* p = take(n);
    return make(Value::Kind::string, std::string(p, n));
  }
  Ref skipped(uint64_t n, const char* what) {
    take(n);
    return make(Value::Kind::other, what);
  }
  Ref tuple(std::vector<Ref> items) {
    Ref t = make(Value::Kind::tuple);
    t->items = std::move(items);
    return t;
  }

  // Containers of ours grow; additions to an opaque object (which Python would hand to its own methods) are dropped.
  void append(const Ref& list, std::vector<Ref> items) {
    if (list->kind == Value::Kind::other) return;
    check(list->kind == Value::Kind::list, "APPEND to a ", describe(*list));
    for (Ref& item : items) list->items.push_back(std::move(item));
  }
  void set_items(const Ref& dict, std::vector<Ref> items) {
    if (dict->kind == Value::Kind::other) return;
    check(dict->kind == Value::Kind::dict, "SETITEM on a ", describe(*dict));
    check(items.size() % 2 == 0, "SETITEMS with an odd number (", items.size(), ") of keys and values");
    for (size_t i = 0; i < items.size(); i += 2) dict->entries.emplace_back(items[i], items[i + 1]);
  }

  // ('storage', torch.<Type>Storage, key, location, numel): a storage blob, data/<key> in the archive.
  Ref persistent_load(const Value& pid) {
    const auto& it = pid.items;
    check(pid.kind == Value::Kind::tuple && it.size() == 5 && it[0]->kind == Value::Kind::string &&
              it[0]->text == "storage" && it[1]->kind == Value::Kind::global &&
              it[2]->kind == Value::Kind::string && it[4]->kind == Value::Kind::integer,
          "a persistent id that is not ('storage', type, key, location, numel)");
    const std::string& cls = it[1]->text;
    check(cls.starts_with("torch.") && cls.ends_with("Storage"), "persistent id names ", cls,
          ", not a torch storage class");
    check(it[4]->integer >= 0, "storage '", it[2]->text, "' has negative size ", it[4]->integer);
    Ref s = make(Value::Kind::storage, cls.substr(6));
    s->key = it[2]->text;
    s->numel = it[4]->integer;
    return s;
  }

  // What calling `callable(*args)` would give, for the few callables that build what we read; any other call is
  // recorded as an opaque result named after its callable and never made.
  Ref reduce(const Value& callable, const Value& args) {
    if (callable.kind != Value::Kind::global) return make(Value::Kind::other, "result of a " + describe(callable));
    const std::string& name = callable.text;
    const bool is_tuple = args.kind == Value::Kind::tuple;
    if (name == "collections.OrderedDict" && is_tuple && args.items.empty()) return make(Value::Kind::dict);
    if (name == "torch._utils._rebuild_tensor_v2") return rebuild_tensor(args);
    // A Parameter pickles as a call wrapping its data tensor.
    if ((name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") &&
        is_tuple && !args.items.empty())
      return args.items[0];
    // A tensor with Python attributes: (rebuild function, type, its arguments, attributes).
    if (name == "torch._tensor._rebuild_from_type_v2" && is_tuple && args.items.size() == 4 &&
        args.items[0]->kind == Value::Kind::global && args.items[0]->text == "torch._utils._rebuild_tensor_v2")
      return rebuild_tensor(*args.items[2]);
    return make(Value::Kind::other, name);
  }

  // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  Ref rebuild_tensor(const Value& args) {
    const auto& it = args.items;
    check(args.kind == Value::Kind::tuple && (it.size() == 6 || it.size() == 7) &&
              it[0]->kind == Value::Kind::storage && it[1]->kind == Value::Kind::integer && is_int_tuple(*it[2]) &&
              is_int_tuple(*it[3]) && it[2]->items.size() == it[3]->items.size(),
          "torch._utils._rebuild_tensor_v2 called with (",
          args.kind == Value::Kind::tuple && !it.empty() ? describe(*it[0]) + ", ..." : describe(args),
          "), not (storage, offset, size, stride, requires_grad, hooks)");
    Ref t = make(Value::Kind::tensor);
    t->storage = it[0];
    t->offset = it[1]->integer;
    for (const Ref& s : it[2]->items) t->size.push_back(s->integer);
    for (const Ref& s : it[3]->items) t->stride.push_back(s->integer);
    return t;
  }

  std::string path_, where_, bytes_;
  size_t pos_ = 0, op_at_ = 0;
  std::vector<Ref> stack_;
  std::vector<std::vector<Ref>> metastack_;
  std::unordered_map<uint64_t, Ref> memo_;
  std::vector<std::weak_ptr<Value>> made_;  // every value made, for the destructor
};

// torch storage classes by the dtype they hold; those without an erc dtype are named in messages.
struct StorageType {
  const char* cls;
  const char* torch_dtype;
  std::optional<DType> dtype;
};
const StorageType kStorageTypes[] = {
    {"FloatStorage", "float32", DType::f32},      {"DoubleStorage", "float64", DType::f64},
    {"HalfStorage", "float16", DType::f16},       {"BFloat16Storage", "bfloat16", DType::bf16},
    {"LongStorage", "int64", DType::i64},         {"IntStorage", "int32", {}},
    {"ShortStorage", "int16", {}},                {"CharStorage", "int8", {}},
    {"ByteStorage", "uint8", {}},                 {"BoolStorage", "bool", {}},
    {"ComplexFloatStorage", "complex64", {}},     {"ComplexDoubleStorage", "complex128", {}},
};

class Loader {
 public:
  explicit Loader(const std::string& path) : file_(path), zip_(check_legacy(file_)) {
    std::vector<std::string> pickles;
    for (const auto& [name, entry] : zip_.entries()) {
      const size_t slash = name.find('/');
      if (name == "data.pkl" || (slash + 1 == name.size() - 8 && name.ends_with("/data.pkl"))) pickles.push_back(name);
    }
    ERC_CHECK(pickles.size() == 1, path, ": a zip archive but not a torch.save checkpoint: expected one "
              "'<folder>/data.pkl' entry, found ", pickles.size());
    pickle_ = pickles[0];
    prefix_ = pickle_.substr(0, pickle_.size() - 8);
    if (zip_.entries().count(prefix_ + "byteorder")) {
      const std::string order = zip_.read_all(prefix_ + "byteorder");
      ERC_CHECK(order == "little", path, ": the checkpoint's byteorder is '", order,
                "'; erc reads little-endian checkpoints only");
    }
  }

  std::map<std::string, Tensor> load() {
    Unpickler unpickler(file_.path(), pickle_, zip_.read_all(pickle_));  // outlives root: see ~Unpickler
    Ref root = unpickler.run();
    ERC_CHECK(root->kind == Value::Kind::dict, file_.path(), ": the checkpoint's top-level object is ", describe(*root),
              ", not a dict of tensors (a whole pickled nn.Module? save its state_dict() instead)");
    std::map<std::string, Tensor> out;
    flatten(*root, "", 0, out);
    return out;
  }

 private:
  static File& check_legacy(File& file) {
    // torch < 1.6 (or _use_new_zipfile_serialization=False) starts with a pickled magic number, 0x1950a86a20f9469cfc6c.
    static const char magic[] = "\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19";
    if (file.size() >= 14) {
      const std::string head = file.read(0, 14, "the file's first bytes");
      ERC_CHECK(!(head[0] == '\x80' && head.compare(2, 12, magic, 12) == 0), file.path(),
                ": a legacy torch.save file (torch < 1.6, or saved with _use_new_zipfile_serialization=False), "
                "which erc does not read; re-save it in the zip format with Python: "
                "torch.save(torch.load(f, weights_only=False), f2)");
    }
    return file;
  }

  void flatten(const Value& dict, const std::string& prefix, int depth, std::map<std::string, Tensor>& out) {
    for (const auto& [key, value] : dict.entries) {
      std::string name;
      if (key->kind == Value::Kind::string) name = key->text;
      else if (key->kind == Value::Kind::integer) name = std::to_string(key->integer);
      else continue;
      if (!prefix.empty()) name = prefix + "." + name;
      if (value->kind == Value::Kind::tensor) {
        Tensor t = materialise(name, *value);
        ERC_CHECK(out.emplace(name, std::move(t)).second, file_.path(), ": two entries are named '", name,
                  "' once nested dict keys are joined with '.'");
      } else if (value->kind == Value::Kind::dict) {
        ERC_CHECK(depth < 64, file_.path(), ": dicts nested more than 64 deep at '", name,
                  "' (a dict that contains itself?)");
        flatten(*value, name, depth + 1, out);
      } else {
        // A tensor kind we cannot rebuild (quantized, sparse, a subclass...) must not vanish silently.
        const std::string& made_by = value->text;
        ERC_CHECK(!(value->kind == Value::Kind::other && made_by.starts_with("torch.") &&
                    made_by.substr(made_by.rfind('.') + 1).starts_with("_rebuild")),
                  file_.path(), ": '", name, "' is a tensor rebuilt by ", made_by, ", which erc does not read");
      }
    }
  }

  Tensor materialise(const std::string& name, const Value& t) {
    const std::string& path = file_.path();
    const Value& storage = *t.storage;
    const StorageType* type = nullptr;
    for (const StorageType& s : kStorageTypes)
      if (storage.text == s.cls) type = &s;
    ERC_CHECK(type && type->dtype, path, ": tensor '", name, "' has dtype ", type ? type->torch_dtype : "unknown",
              " (torch.", storage.text, "), which erc does not read (float32 float64 float16 bfloat16 int64)");
    const DType dtype = *type->dtype;
    const int64_t elem = int64_t(dtype_size(dtype));

    // The view must lie inside its storage, and the storage inside its blob; all in overflow-checked int64.
    int64_t numel = 1, last = t.offset;
    bool ok = t.offset >= 0;
    for (size_t d = 0; d < t.size.size(); ++d) {
      int64_t reach = 0;
      ok = ok && t.size[d] >= 0 && t.stride[d] >= 0 && !__builtin_mul_overflow(numel, t.size[d], &numel) &&
           !__builtin_mul_overflow(std::max<int64_t>(t.size[d] - 1, 0), t.stride[d], &reach) &&
           !__builtin_add_overflow(last, reach, &last);
    }
    ERC_CHECK(ok && (numel == 0 || last < storage.numel), path, ": tensor '", name, "' of shape ",
              shape_str(t.size), " (strides ", shape_str(t.stride), ", offset ", t.offset,
              ") reaches past its storage '", storage.key, "' of ", storage.numel, " elements");
    const std::string blob = prefix_ + "data/" + storage.key;
    const uint64_t blob_size = zip_.stored(blob).size;
    ERC_CHECK(uint64_t(storage.numel) <= blob_size / uint64_t(elem), path, ": storage '", storage.key, "' of tensor '",
              name, "' should hold ", storage.numel, " ", type->torch_dtype, " elements, but '", blob, "' has ",
              blob_size, " bytes");

    if (numel == 0) return Tensor::empty(t.size, dtype);

    auto view = std::make_shared<TensorImpl>();
    view->shape = t.size;
    view->strides = t.stride;
    view->offset = t.offset;
    view->dtype = dtype;
    if (Tensor(view).is_contiguous()) {  // the usual case: the bytes are the tensor, read straight into it
      Tensor out = Tensor::empty(t.size, dtype);
      zip_.read(blob, uint64_t(t.offset * elem), out.raw_data(), uint64_t(numel * elem));
      return out;
    }
    // A strided view: read its storage once (shared by the views of one storage) and copy the view out of it.
    auto it = storages_.find(storage.key);
    if (it == storages_.end()) {
      Tensor whole = Tensor::empty({storage.numel}, dtype);
      zip_.read(blob, 0, whole.raw_data(), uint64_t(storage.numel * elem));
      it = storages_.emplace(storage.key, whole).first;
    }
    // The bounds above were checked against this tensor's description of the storage: it must be the cached one.
    ERC_CHECK(it->second.dtype() == dtype && it->second.numel() == storage.numel, path, ": storage '", storage.key,
              "' is described both as ", it->second.numel(), " ", dtype_name(it->second.dtype()), " and as ",
              storage.numel, " ", dtype_name(dtype), " elements");
    view->storage = it->second.impl().storage;
    return Tensor(view).clone();
  }

  File file_;
  Zip zip_;
  std::string pickle_, prefix_;
  std::map<std::string, Tensor> storages_;  // by key, for strided views
};

}  // namespace

std::map<std::string, Tensor> load_torch_checkpoint(const std::string& path) { return Loader(path).load(); }

}  // namespace erc
