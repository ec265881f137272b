#include "cuda/sim/device_memory.h"

#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "cuda/sim/memory_check.h"
#include "cuda/sim/scheduler.h"
#include "tensor/check.h"

namespace erc::sim {

uintptr_t arena_begin = 0;
size_t arena_bytes = 0;

namespace {

constexpr size_t kArenaBytes = size_t(1) << 36;  // 64 GiB of addresses, reserved, not memory

size_t page_size() {
  static const size_t size = size_t(sysconf(_SC_PAGESIZE));
  return size;
}

void* map_zeros(size_t bytes) {  // lazily committed zeros
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

// The arena: its page table, the free ranges of pages, and the lock that guards them (the page table itself is
// read without it, by the checker, while no allocation changes the pages a running kernel was given).
struct Arena {
  std::atomic<DeviceBuffer*>* owner = nullptr;  // [pages of the arena]
  size_t next_page = 0;                         // pages below are handed out or free
  std::multimap<size_t, size_t> free_runs;      // pages -> first page of a free run
  std::set<DeviceBuffer*> live;                 // every buffer's record (also what keeps them reachable to LSan)
  std::mutex mutex;

  Arena() {
    void* range = mmap(nullptr, kArenaBytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ERC_CHECK(range != MAP_FAILED, "CUDA simulator: cannot reserve ", kArenaBytes >> 30,
              " GiB of addresses for device memory: ", std::strerror(errno));
    owner = static_cast<std::atomic<DeviceBuffer*>*>(map_zeros(kArenaBytes / page_size() * sizeof(void*)));
    ERC_CHECK(owner != nullptr, "CUDA simulator: out of memory for the device's page table");
    arena_bytes = kArenaBytes;
    arena_begin = reinterpret_cast<uintptr_t>(range);
  }

  // `pages` consecutive pages of the arena: the smallest free run that fits (its rest stays free), else new ones.
  bool take(size_t pages, size_t& first) {
    auto it = free_runs.lower_bound(pages);
    if (it != free_runs.end()) {
      first = it->second;
      if (it->first > pages) free_runs.emplace(it->first - pages, first + pages);
      free_runs.erase(it);
      return true;
    }
    if ((next_page + pages) * page_size() > kArenaBytes) return false;
    first = next_page;
    next_page += pages;
    return true;
  }
};

Arena& arena() {
  static auto* a = new Arena();  // never destroyed: tensors may outlive statics
  return *a;
}

size_t pages_of(const DeviceBuffer& b) { return (b.capacity + page_size() - 1) / page_size() + 1; }  // + guard

void set_access(const DeviceBuffer& b, int prot) {
  const size_t bytes = (pages_of(b) - 1) * page_size();
  ERC_CHECK(mprotect(reinterpret_cast<void*>(b.begin), bytes, prot) == 0,
            "CUDA simulator: mprotect of a device buffer failed: ", std::strerror(errno));
}

// The buffer made poison and unwritten from its first byte to `bytes`.
void poison(DeviceBuffer& b, size_t bytes) {
  if (b.open_count == 0) set_access(b, PROT_READ | PROT_WRITE);
  std::memset(reinterpret_cast<void*>(b.begin), 0xff, bytes);
  if (b.open_count == 0) set_access(b, PROT_NONE);
  std::memset(b.written, 0, bytes);
}

DeviceBuffer* buffer_at_start(void* ptr, const char* what) {
  DeviceBuffer* b = device_buffer_at(reinterpret_cast<uintptr_t>(ptr));
  ERC_CHECK(b && b->begin == reinterpret_cast<uintptr_t>(ptr), "CUDA simulator: ", what,
            " of an address that cudaMalloc did not return");
  return b;
}

struct StackGuard {
  uintptr_t begin, end;
};
std::vector<StackGuard>& stack_guards() {
  static auto* guards = new std::vector<StackGuard>();
  return *guards;
}
std::mutex stack_guard_mutex;

struct sigaction previous_segv, previous_bus;

// Async-signal-safe enough for a process about to abort: formats into a static buffer, then one write.
void report_and_abort(const char* text) {
  const ssize_t ignored = write(STDERR_FILENO, text, strlen(text));
  (void)ignored;
  abort();
}

// A fault that the memory checker did not see first: host code touching device memory (the checker sees only
// kernels' accesses), or a kernel overflowing its stack.
void on_fault(int sig, siginfo_t* info, void* context) {
  static char text[2048];
  const uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
  const char* access = "accessed";
#if defined(__x86_64__)
  const auto* uc = static_cast<const ucontext_t*>(context);
  access = (uc->uc_mcontext.gregs[REG_ERR] & 2) ? "wrote" : "read";
#else
  (void)context;
#endif
  char who[768];
  const bool in_kernel = describe_current_thread(who, sizeof who);
  for (const StackGuard& g : stack_guards())
    if (addr >= g.begin && addr < g.end) {
      snprintf(text, sizeof text, "\nerc CUDA simulator: stack overflow in %s (each simulated thread has %zu KiB)\n",
               in_kernel ? who : "a kernel", size_t(kThreadStackBytes / 1024));
      report_and_abort(text);
    }
  const DeviceBuffer* b = in_device_arena(addr) ? device_buffer_at(addr) : nullptr;
  if (!b) {  // not the simulator's memory: let the previous handler (or the default action) take it
    sigaction(sig, sig == SIGSEGV ? &previous_segv : &previous_bus, nullptr);
    return;  // the faulting instruction runs again and meets that handler
  }
  char where[256];
  if (addr >= b->begin + b->size)
    snprintf(where, sizeof where, "%zu bytes past the end of a %zu-byte device buffer",
             size_t(addr - b->begin - b->size), b->size);
  else
    snprintf(where, sizeof where, "byte %zu of a %zu-byte device buffer", size_t(addr - b->begin), b->size);
  snprintf(text, sizeof text,
           "\nerc CUDA simulator: %s %s %s: device memory is not host memory (an op without a device dispatch, or a "
           "raw pointer read outside a kernel)\n",
           in_kernel ? who : "host code", access, where);
  report_and_abort(text);
}

// A host thread's alternate signal stack, for as long as the thread lives (owned by a thread_local, so
// LeakSanitizer sees it held, and freed at exit).
struct AlternateStack {
  static constexpr size_t kBytes = 1 << 16;
  std::unique_ptr<char[]> memory{new char[kBytes]};
  AlternateStack() {
    stack_t alt{};
    alt.ss_sp = memory.get();
    alt.ss_size = kBytes;
    sigaltstack(&alt, nullptr);
  }
  ~AlternateStack() {
    stack_t off{};
    off.ss_flags = SS_DISABLE;
    sigaltstack(&off, nullptr);
  }
};

}  // namespace

void install_fault_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, &previous_segv);
    sigaction(SIGBUS, &action, &previous_bus);
  });
  // Each host thread that may fault needs its own alternate stack: a fiber's overflow leaves no stack to run on.
  thread_local AlternateStack alternate_stack;
  (void)alternate_stack;
}

void register_stack_guard(uintptr_t begin, uintptr_t end) {
  std::lock_guard<std::mutex> lock(stack_guard_mutex);
  stack_guards().push_back({begin, end});
}

DeviceBuffer* device_buffer_at(uintptr_t addr) {
  if (!in_device_arena(addr)) return nullptr;
  return arena().owner[(addr - arena_begin) / page_size()].load(std::memory_order_acquire);
}

void* device_allocate(size_t bytes) {
  install_fault_handler();
  Arena& a = arena();
  auto b = std::make_unique<DeviceBuffer>();
  b->capacity = bytes;
  b->size = bytes;
  const size_t pages = pages_of(*b);
  const size_t words = (bytes + 3) / 4;
  b->written = static_cast<uint8_t*>(map_zeros(bytes));
  b->accesses = static_cast<WordAccesses*>(map_zeros(words * sizeof(WordAccesses)));
  size_t first = 0;
  bool placed = false;
  if (b->written && b->accesses) {
    std::lock_guard<std::mutex> lock(a.mutex);
    placed = a.take(pages, first);
    if (placed) a.live.insert(b.get());
  }
  if (!placed) {
    if (b->written) munmap(b->written, bytes);
    if (b->accesses) munmap(b->accesses, words * sizeof(WordAccesses));
    return nullptr;
  }
  b->begin = arena_begin + first * page_size();
  poison(*b, bytes);
  DeviceBuffer* raw = b.release();
  for (size_t p = first; p < first + pages; ++p) a.owner[p].store(raw, std::memory_order_release);
  return reinterpret_cast<void*>(raw->begin);
}

void device_free(void* ptr) {
  DeviceBuffer* b = buffer_at_start(ptr, "cudaFree");
  ERC_CHECK(b->open_count == 0, "CUDA simulator: cudaFree of a buffer a running launch was given");
  Arena& a = arena();
  const size_t first = (b->begin - arena_begin) / page_size(), pages = pages_of(*b);
  for (size_t p = first; p < first + pages; ++p) a.owner[p].store(nullptr, std::memory_order_release);
  // Fresh inaccessible pages over the old ones: their memory goes back to the host, their addresses to the arena.
  mmap(reinterpret_cast<void*>(b->begin), pages * page_size(), PROT_NONE,
       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  munmap(b->written, b->capacity);
  munmap(b->accesses, (b->capacity + 3) / 4 * sizeof(WordAccesses));
  {
    std::lock_guard<std::mutex> lock(a.mutex);
    a.free_runs.emplace(pages, first);
    a.live.erase(b);
  }
  delete b;
}

void device_hand_out(void* ptr, size_t bytes) {
  DeviceBuffer* b = buffer_at_start(ptr, "a hand-out");
  ERC_CHECK(bytes <= b->capacity, "CUDA simulator: ", bytes, " bytes handed out of a ", b->capacity, "-byte buffer");
  b->size = bytes;
  poison(*b, bytes);
}

void device_take_back(void* ptr) { buffer_at_start(ptr, "a take-back")->size = 0; }

bool is_device_range(const void* ptr, size_t bytes) {
  const uintptr_t p = reinterpret_cast<uintptr_t>(ptr);
  const DeviceBuffer* b = device_buffer_at(p);
  return b && p >= b->begin && p + bytes <= b->begin + b->size;
}

OpenBuffers::OpenBuffers(const std::vector<uintptr_t>& addresses) {
  std::lock_guard<std::mutex> lock(arena().mutex);
  for (uintptr_t addr : addresses) {
    // Also a pointer one past the end of a buffer, which a kernel may be given for an empty range.
    DeviceBuffer* b = device_buffer_at(addr);
    if (!b || addr > b->begin + b->capacity) continue;
    bool seen = false;
    for (const DeviceBuffer* o : opened_) seen = seen || o == b;
    if (seen) continue;
    if (b->open_count++ == 0) set_access(*b, PROT_READ | PROT_WRITE);
    opened_.push_back(b);
  }
}

OpenBuffers::~OpenBuffers() {
  std::lock_guard<std::mutex> lock(arena().mutex);
  for (DeviceBuffer* b : opened_)
    if (--b->open_count == 0) set_access(*b, PROT_NONE);
}

}  // namespace erc::sim
