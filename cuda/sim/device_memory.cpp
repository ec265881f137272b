#include "cuda/sim/device_memory.h"

#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "cuda/sim/scheduler.h"
#include "tensor/check.h"

namespace erc::sim {

namespace {

struct Allocation {
  uintptr_t begin = 0, end = 0;          // the bytes handed out
  uintptr_t map_begin = 0, map_end = 0;  // the mapping: whole pages of data, then one guard page
  int open_count = 0;                    // launches and copies that may touch it now
};

size_t page_size() {
  static const size_t size = size_t(sysconf(_SC_PAGESIZE));
  return size;
}

// Every live allocation by its first byte. The fault handler reads it too: it is the process's last act, so it
// takes no lock.
std::map<uintptr_t, Allocation>& allocations() {
  static auto* table = new std::map<uintptr_t, Allocation>();  // never destroyed: tensors may outlive statics
  return *table;
}
std::mutex& table_mutex() {
  static std::mutex mutex;
  return mutex;
}

// The allocation whose mapping (guard page included) holds addr, or nullptr.
const Allocation* mapping_of(uintptr_t addr) {
  auto& table = allocations();
  auto it = table.upper_bound(addr + page_size());  // begin lies within a page of map_end - page
  while (it != table.begin()) {
    --it;
    if (addr >= it->second.map_begin && addr < it->second.map_end) return &it->second;
    if (it->second.map_end <= addr) break;
  }
  return nullptr;
}

Allocation* allocation_at(uintptr_t addr) {  // the allocation whose bytes hold addr
  auto& table = allocations();
  auto it = table.upper_bound(addr);
  if (it == table.begin()) return nullptr;
  --it;
  return addr >= it->second.begin && addr < it->second.end ? &it->second : nullptr;
}

void set_access(const Allocation& a, int prot) {
  const size_t data_bytes = a.map_end - page_size() - a.map_begin;
  ERC_CHECK(mprotect(reinterpret_cast<void*>(a.map_begin), data_bytes, prot) == 0,
            "CUDA simulator: mprotect of a device buffer failed: ", std::strerror(errno));
}

struct StackGuard {
  uintptr_t begin, end;
};
std::vector<StackGuard>& stack_guards() {
  static auto* guards = new std::vector<StackGuard>();
  return *guards;
}

struct sigaction previous_segv, previous_bus;

// Async-signal-safe enough for a process about to abort: formats into a static buffer, then one write.
void report_and_abort(const char* text) {
  const ssize_t ignored = write(STDERR_FILENO, text, strlen(text));
  (void)ignored;
  abort();
}

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
  const Allocation* a = mapping_of(addr);
  if (!a) {  // not the simulator's memory: let the previous handler (or the default action) take it
    sigaction(sig, sig == SIGSEGV ? &previous_segv : &previous_bus, nullptr);
    return;  // the faulting instruction runs again and meets that handler
  }
  const size_t bytes = a->end - a->begin;
  char where[256];
  if (addr >= a->end)
    snprintf(where, sizeof where, "%zu bytes past the end of a %zu-byte device buffer", size_t(addr - a->end), bytes);
  else if (addr < a->begin)
    snprintf(where, sizeof where, "%zu bytes before the start of a %zu-byte device buffer", size_t(a->begin - addr),
             bytes);
  else
    snprintf(where, sizeof where, "byte %zu of a %zu-byte device buffer%s", size_t(addr - a->begin), bytes,
             in_kernel ? " that the kernel was not given (no argument of the launch points into it)" : "");
  if (in_kernel)
    snprintf(text, sizeof text, "\nerc CUDA simulator: out-of-bounds access: %s %s %s\n", who, access, where);
  else
    snprintf(text, sizeof text,
             "\nerc CUDA simulator: host code %s %s: device memory is not host memory (an op without a device "
             "dispatch, or a raw pointer read outside a kernel)\n",
             access, where);
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
  std::lock_guard<std::mutex> lock(table_mutex());
  stack_guards().push_back({begin, end});
}

void* device_allocate(size_t bytes) {
  install_fault_handler();
  const size_t page = page_size();
  const size_t data_pages = (bytes + page - 1) / page;
  const size_t map_bytes = (data_pages + 1) * page;
  void* map = mmap(nullptr, map_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (map == MAP_FAILED) return nullptr;
  Allocation a;
  a.map_begin = reinterpret_cast<uintptr_t>(map);
  a.map_end = a.map_begin + map_bytes;
  a.end = a.map_begin + data_pages * page;
  a.begin = a.end - bytes;
  std::lock_guard<std::mutex> lock(table_mutex());
  allocations().emplace(a.begin, a);
  return reinterpret_cast<void*>(a.begin);
}

void device_free(void* ptr) {
  std::lock_guard<std::mutex> lock(table_mutex());
  auto& table = allocations();
  auto it = table.find(reinterpret_cast<uintptr_t>(ptr));
  ERC_CHECK(it != table.end(), "CUDA simulator: cudaFree of an address that cudaMalloc did not return");
  ERC_CHECK(it->second.open_count == 0, "CUDA simulator: cudaFree of a buffer a running launch was given");
  munmap(reinterpret_cast<void*>(it->second.map_begin), it->second.map_end - it->second.map_begin);
  table.erase(it);
}

bool is_device_range(const void* ptr, size_t bytes) {
  std::lock_guard<std::mutex> lock(table_mutex());
  const uintptr_t p = reinterpret_cast<uintptr_t>(ptr);
  const Allocation* a = allocation_at(p);
  return a && p + bytes <= a->end;
}

OpenBuffers::OpenBuffers(const std::vector<uintptr_t>& addresses) {
  std::lock_guard<std::mutex> lock(table_mutex());
  for (uintptr_t addr : addresses) {
    Allocation* a = allocation_at(addr);
    if (!a) {  // also a pointer one past the end of a buffer, which a kernel may be given for an empty range
      a = allocation_at(addr - 1);
      if (!a || addr != a->end) continue;
    }
    bool seen = false;
    for (uintptr_t begin : opened_) seen = seen || begin == a->begin;
    if (seen) continue;
    if (a->open_count++ == 0) set_access(*a, PROT_READ | PROT_WRITE);
    opened_.push_back(a->begin);
  }
}

OpenBuffers::~OpenBuffers() {
  std::lock_guard<std::mutex> lock(table_mutex());
  for (uintptr_t begin : opened_) {
    Allocation& a = allocations().at(begin);
    if (--a.open_count == 0) set_access(a, PROT_NONE);
  }
}

}  // namespace erc::sim
