#include "cuda/sim/memory_check.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cuda/sim/device_memory.h"
#include "cuda/sim/device_state.h"
#include "cuda/sim/scheduler.h"
#include "cuda/sim/symbolize.h"
#include "tensor/check.h"

namespace erc::sim {

namespace {

Checks checks_from_environment() {
  const char* text = std::getenv("ERC_SIM_CHECK");
  if (!text || !*text || std::strcmp(text, "all") == 0) return Checks::all;
  ERC_CHECK(std::strcmp(text, "memcheck") == 0, "ERC_SIM_CHECK: expected all or memcheck, got '", text, "'");
  return Checks::memcheck;
}

Checks& current_checks() {
  static Checks c = checks_from_environment();
  return c;
}

const char* verb(AccessKind kind, bool past) {
  switch (kind) {
    case AccessKind::read: return past ? "read" : "reads";
    case AccessKind::write: return past ? "wrote" : "writes";
    case AccessKind::atomic: return past ? "updated atomically" : "updates atomically";
  }
  return "?";
}

std::string bytes_at(size_t bytes, size_t offset) {
  return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes") + " at byte " + std::to_string(offset);
}

// "block (x, y, z), thread (x, y, z)" of a record made in the running launch.
std::string who_made(const AccessRecord& r, const ThreadContext& now) {
  const dim3 g = now.index->grid_dim, b = now.index->block_dim;
  const uint32_t bl = r.block, th = r.thread;
  char text[128];
  std::snprintf(text, sizeof text, "block (%u, %u, %u), thread (%u, %u, %u)", bl % g.x, bl / g.x % g.y,
                bl / (g.x * g.y), th % b.x, th / b.x % b.y, th / (b.x * b.y));
  return text;
}

template <typename Describe>
[[noreturn]] void memcheck_fault(Describe&& what, uint32_t site) {
  kernel_fault(cudaErrorIllegalAddress,
               [&] { return "memcheck: " + describe_current_thread() + " " + what() + ", at " + source_line(site); });
}

// A shadow of the memory an access lies in: where its bytes' initcheck flags and its words' records are, and how to
// name it in a report.
struct Region {
  uint8_t* written;
  WordAccesses* accesses;
  size_t offset;  // of the access, in the region
  uint32_t epoch;
  bool device;
  uintptr_t buffer_begin;  // of the device buffer
};

std::string device_buffer_name(const DeviceBuffer& b) {
  const int argument = argument_pointing_into(b.begin, b.begin + b.capacity);
  return "a " + std::to_string(b.size) + "-byte device buffer" +
         (argument < 0 ? std::string() : " (argument " + std::to_string(argument) + " of the kernel points into it)");
}

std::string name_of(const Region& r) {
  if (!r.device) return "the block's shared memory";
  const DeviceBuffer* b = device_buffer_at(r.buffer_begin);
  return b ? device_buffer_name(*b) : "a device buffer";
}

// Whether `prev` and `now` touch one byte with nothing ordering them (one of them writing is the caller's test).
bool concurrent(const AccessRecord& prev, const AccessRecord& now) {
  if (prev.epoch != now.epoch || !(prev.bytes & now.bytes)) return false;
  if (prev.block == now.block && prev.thread == now.thread) return false;
  if (prev.block != now.block) return true;  // blocks of one launch: nothing orders them
  if (prev.barriers != now.barriers) return false;
  return !(prev.thread / 32 == now.thread / 32 && prev.warp_syncs != now.warp_syncs);
}

[[noreturn]] void race(const char* hazard, const AccessRecord& prev, const AccessRecord& now, const Region& region,
                       size_t bytes, const ThreadContext& t) {
  const bool other_block = prev.block != now.block;
  kernel_fault(cudaErrorLaunchFailure, [&] {
    return std::string("racecheck: ") + hazard + " hazard: " + describe_current_thread() + " " +
           verb(AccessKind(now.kind), false) + " " + bytes_at(bytes, region.offset) + " of " + name_of(region) +
           " at " + source_line(now.site) + ", and " + who_made(prev, t) + " " + verb(AccessKind(prev.kind), true) +
           " that word at " + source_line(prev.site) +
           (other_block ? ", in another block of the same launch (nothing orders the blocks of a grid)"
                        : ", with no __syncthreads (or, in one warp, __syncwarp) between them");
  });
}

void check_word(WordAccesses& w, const AccessRecord& now, const Region& region, size_t bytes, const ThreadContext& t) {
  const AccessKind kind = AccessKind(now.kind);
  const bool atomic = kind == AccessKind::atomic;
  auto conflicts = [&](const AccessRecord& prev) {
    return concurrent(prev, now) && !(atomic && AccessKind(prev.kind) == AccessKind::atomic);
  };
  if (conflicts(w.write)) race(kind == AccessKind::read ? "RAW" : "WAW", w.write, now, region, bytes, t);
  if (kind == AccessKind::read) {
    // Two readers: the first still unordered before this one, and the latest other; so a later write by either of
    // them still meets the other.
    auto replaceable = [&](const AccessRecord& r) {
      return !concurrent(r, now) || (r.block == now.block && r.thread == now.thread);
    };
    if (replaceable(w.reads[0]))
      w.reads[0] = now;
    else
      w.reads[1] = now;
    return;
  }
  for (const AccessRecord& r : w.reads)
    if (conflicts(r)) race("WAR", r, now, region, bytes, t);
  w.write = now;
  w.reads[0] = w.reads[1] = AccessRecord{};
}

void check(const ThreadContext& t, const Region& region, size_t bytes, AccessKind kind, uint32_t site) {
  if (current_checks() != Checks::all) return;
  uint8_t* written = region.written + region.offset;
  if (kind == AccessKind::write)
    std::memset(written, 1, bytes);
  else
    for (size_t i = 0; i < bytes; ++i)
      if (!written[i])
        kernel_fault(cudaErrorLaunchFailure, [&] {
          return "initcheck: " + describe_current_thread() + " " + verb(kind, false) + " " +
                 bytes_at(bytes, region.offset) + " of " + name_of(region) + ", whose byte " +
                 std::to_string(region.offset + i) + " was never written " +
                 (region.device ? "since the buffer was handed out" : "in this block") + ", at " + source_line(site);
        });
  AccessRecord now{region.epoch, t.block, *t.barriers, *t.warp_syncs, site, uint16_t(t.thread), 0, uint8_t(kind)};
  const size_t first = region.offset / 4, last = (region.offset + bytes - 1) / 4;
  for (size_t word = first; word <= last; ++word) {
    const size_t lo = std::max(region.offset, word * 4), hi = std::min(region.offset + bytes, word * 4 + 4);
    now.bytes = uint8_t(((1u << (hi - lo)) - 1) << (lo - word * 4));
    check_word(region.accesses[word], now, region, bytes, t);
  }
}

void device_access(const ThreadContext& t, uintptr_t addr, size_t bytes, AccessKind kind, uint32_t site) {
  DeviceBuffer* b = device_buffer_at(addr);
  if (!b)
    memcheck_fault(
        [&] {
          return std::string(verb(kind, false)) + " " + std::to_string(bytes) +
                 " bytes at an address in no device buffer (device memory, but not allocated)";
        },
        site);
  const size_t offset = addr - b->begin;
  if (b->size == 0)
    memcheck_fault(
        [&] {
          return std::string(verb(kind, false)) + " " + bytes_at(bytes, offset) +
                 " of a device buffer that was freed (the caching allocator holds it for reuse)";
        },
        site);
  if (offset + bytes > b->size)
    memcheck_fault(
        [&] {
          return std::string(verb(kind, false)) + " " + bytes_at(bytes, offset) + " of " + device_buffer_name(*b) +
                 ": " + std::to_string(offset + bytes - b->size) + " of them past its end";
        },
        site);
  if (b->open_count == 0)
    memcheck_fault(
        [&] {
          return std::string(verb(kind, false)) + " " + bytes_at(bytes, offset) + " of a " + std::to_string(b->size) +
                 "-byte device buffer that the kernel was not given (no argument of the launch points into it)";
        },
        site);
  check(t, {b->written, b->accesses, offset, t.launch, true, b->begin}, bytes, kind, site);
}

void shared_access(const ThreadContext& t, uintptr_t addr, size_t bytes, AccessKind kind, uint32_t site) {
  SharedArena& s = *t.shared;
  const size_t offset = addr - reinterpret_cast<uintptr_t>(s.data);
  if (offset + bytes > s.used)
    memcheck_fault(
        [&] {
          return std::string(verb(kind, false)) + " " + bytes_at(bytes, offset) + " of shared memory, past the " +
                 std::to_string(s.used) + " bytes the block has (" + std::to_string(s.dynamic_bytes) + " dynamic, " +
                 std::to_string(s.used - s.dynamic_bytes) + " static, in that order)";
        },
        site);
  check(t, {s.written, s.accesses, offset, t.block_run, false, 0}, bytes, kind, site);
}

inline void on_access(uintptr_t addr, size_t bytes, AccessKind kind, uintptr_t return_address) {
  const ThreadContext* t = running_context;
  if (!t || bytes == 0) return;  // host code: device memory's page protection stands guard
  if (in_device_arena(addr))
    device_access(*t, addr, bytes, kind, code_site(return_address));
  else if (addr - reinterpret_cast<uintptr_t>(t->shared->data) < t->shared->capacity)
    shared_access(*t, addr, bytes, kind, code_site(return_address));
}

// One of ASan's checks, where the program has ASan (libasan), else nullptr.
template <typename Fn>
Fn asan_callback(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

}  // namespace

void set_checks(Checks c) { current_checks() = c; }
Checks checks() { return current_checks(); }

void check_atomic(const void* address, size_t bytes) {
  on_access(reinterpret_cast<uintptr_t>(address), bytes, AccessKind::atomic,
            reinterpret_cast<uintptr_t>(__builtin_return_address(0)));
}

bool library_reads(const void* ptr, size_t bytes, const char* what) {
  if (bytes == 0) return true;
  const DeviceBuffer* b = device_buffer_at(reinterpret_cast<uintptr_t>(ptr));
  if (!is_device_range(ptr, bytes)) {
    record_fault(cudaErrorIllegalAddress, std::string("memcheck: ") + what + ": " + std::to_string(bytes) +
                                              " bytes that are not inside one device buffer in use");
    return false;
  }
  if (current_checks() != Checks::all) return true;
  const size_t offset = reinterpret_cast<uintptr_t>(ptr) - b->begin;
  for (size_t i = 0; i < bytes; ++i)
    if (!b->written[offset + i]) {
      record_fault(cudaErrorLaunchFailure, std::string("initcheck: ") + what + " reads " + bytes_at(bytes, offset) +
                                               " of a " + std::to_string(b->size) + "-byte device buffer, whose byte " +
                                               std::to_string(offset + i) +
                                               " was never written since the buffer was handed out");
      return false;
    }
  return true;
}

void library_writes(void* ptr, size_t bytes) { mark_written(ptr, bytes); }

void mark_written(const void* device_ptr, size_t bytes) {
  const DeviceBuffer* b = device_buffer_at(reinterpret_cast<uintptr_t>(device_ptr));
  if (b && bytes) std::memset(b->written + (reinterpret_cast<uintptr_t>(device_ptr) - b->begin), 1, bytes);
}

void copy_written(void* device_dst, const void* device_src, size_t bytes) {
  const DeviceBuffer *d = device_buffer_at(reinterpret_cast<uintptr_t>(device_dst)),
                     *s = device_buffer_at(reinterpret_cast<uintptr_t>(device_src));
  if (!d || !s || !bytes) return;
  std::memmove(d->written + (reinterpret_cast<uintptr_t>(device_dst) - d->begin),
               s->written + (reinterpret_cast<uintptr_t>(device_src) - s->begin), bytes);
}

}  // namespace erc::sim

// The instrumentation's callbacks: GCC's -fsanitize=thread calls one before every load and store of a .cu file
// (ThreadSanitizer's own runtime is not linked: these are the whole of it). In an ASan build each access is also passed
// on to ASan's check, found once (the .cu files lose ASan's inline checks to this instrumentation).
namespace {

void asan_check(uintptr_t addr, size_t bytes, bool write) {
  using Check = void (*)(uintptr_t, size_t);
  static const Check load = erc::sim::asan_callback<Check>("__asan_loadN_noabort"),
                     store = erc::sim::asan_callback<Check>("__asan_storeN_noabort");
  if (Check check = write ? store : load) check(addr, bytes);
}

}  // namespace

#define ERC_SIM_ACCESS_CALLBACK(name, bytes, kind)                                      \
  extern "C" void name(void* p) {                                                       \
    const uintptr_t addr = reinterpret_cast<uintptr_t>(p);                              \
    asan_check(addr, bytes, erc::sim::AccessKind::kind == erc::sim::AccessKind::write); \
    erc::sim::on_access(addr, bytes, erc::sim::AccessKind::kind,                        \
                        reinterpret_cast<uintptr_t>(__builtin_return_address(0)));      \
  }
#define ERC_SIM_ACCESS_CALLBACKS(bytes)                              \
  ERC_SIM_ACCESS_CALLBACK(__tsan_read##bytes, bytes, read)           \
  ERC_SIM_ACCESS_CALLBACK(__tsan_write##bytes, bytes, write)         \
  ERC_SIM_ACCESS_CALLBACK(__tsan_unaligned_read##bytes, bytes, read) \
  ERC_SIM_ACCESS_CALLBACK(__tsan_unaligned_write##bytes, bytes, write)
ERC_SIM_ACCESS_CALLBACK(__tsan_read1, 1, read)
ERC_SIM_ACCESS_CALLBACK(__tsan_write1, 1, write)
ERC_SIM_ACCESS_CALLBACKS(2)
ERC_SIM_ACCESS_CALLBACKS(4)
ERC_SIM_ACCESS_CALLBACKS(8)
ERC_SIM_ACCESS_CALLBACKS(16)

extern "C" void __tsan_read_range(void* p, size_t bytes) {
  asan_check(reinterpret_cast<uintptr_t>(p), bytes, false);
  erc::sim::on_access(reinterpret_cast<uintptr_t>(p), bytes, erc::sim::AccessKind::read,
                      reinterpret_cast<uintptr_t>(__builtin_return_address(0)));
}

extern "C" void __tsan_write_range(void* p, size_t bytes) {
  asan_check(reinterpret_cast<uintptr_t>(p), bytes, true);
  erc::sim::on_access(reinterpret_cast<uintptr_t>(p), bytes, erc::sim::AccessKind::write,
                      reinterpret_cast<uintptr_t>(__builtin_return_address(0)));
}

extern "C" void __tsan_init() {}
extern "C" void __tsan_vptr_update(void** p, void* value) { *p = value; }
extern "C" void* __tsan_vptr_read(void** p) { return *p; }
extern "C" void __tsan_func_entry(void*) {}
extern "C" void __tsan_func_exit() {}

// Atomic operations, which the instrumentation hands over whole: done here, sequentially consistent
// (kernel_language.h's atomics have announced their access to the checker already; the others are host code's, guard
// variables' loads).
#define ERC_SIM_ATOMICS(bits, type)                                                                           \
  extern "C" type __tsan_atomic##bits##_load(const volatile type* a, int) {                                   \
    return __atomic_load_n(a, __ATOMIC_SEQ_CST);                                                              \
  }                                                                                                           \
  extern "C" void __tsan_atomic##bits##_store(volatile type* a, type v, int) {                                \
    __atomic_store_n(a, v, __ATOMIC_SEQ_CST);                                                                 \
  }                                                                                                           \
  extern "C" type __tsan_atomic##bits##_exchange(volatile type* a, type v, int) {                             \
    return __atomic_exchange_n(a, v, __ATOMIC_SEQ_CST);                                                       \
  }                                                                                                           \
  extern "C" type __tsan_atomic##bits##_fetch_add(volatile type* a, type v, int) {                            \
    return __atomic_fetch_add(a, v, __ATOMIC_SEQ_CST);                                                        \
  }                                                                                                           \
  extern "C" type __tsan_atomic##bits##_fetch_sub(volatile type* a, type v, int) {                            \
    return __atomic_fetch_sub(a, v, __ATOMIC_SEQ_CST);                                                        \
  }                                                                                                           \
  extern "C" type __tsan_atomic##bits##_fetch_and(volatile type* a, type v, int) {                            \
    return __atomic_fetch_and(a, v, __ATOMIC_SEQ_CST);                                                        \
  }                                                                                                           \
  extern "C" type __tsan_atomic##bits##_fetch_or(volatile type* a, type v, int) {                             \
    return __atomic_fetch_or(a, v, __ATOMIC_SEQ_CST);                                                         \
  }                                                                                                           \
  extern "C" type __tsan_atomic##bits##_fetch_xor(volatile type* a, type v, int) {                            \
    return __atomic_fetch_xor(a, v, __ATOMIC_SEQ_CST);                                                        \
  }                                                                                                           \
  extern "C" int __tsan_atomic##bits##_compare_exchange_strong(volatile type* a, type* c, type v, int, int) { \
    return __atomic_compare_exchange_n(a, c, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);                   \
  }                                                                                                           \
  extern "C" int __tsan_atomic##bits##_compare_exchange_weak(volatile type* a, type* c, type v, int, int) {   \
    return __atomic_compare_exchange_n(a, c, v, true, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);                    \
  }                                                                                                           \
  extern "C" type __tsan_atomic##bits##_compare_exchange_val(volatile type* a, type c, type v, int, int) {    \
    __atomic_compare_exchange_n(a, &c, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);                         \
    return c;                                                                                                 \
  }
ERC_SIM_ATOMICS(8, uint8_t)
ERC_SIM_ATOMICS(16, uint16_t)
ERC_SIM_ATOMICS(32, uint32_t)
ERC_SIM_ATOMICS(64, uint64_t)

extern "C" void __tsan_atomic_thread_fence(int) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
extern "C" void __tsan_atomic_signal_fence(int) { __atomic_signal_fence(__ATOMIC_SEQ_CST); }
