#include "cuda/sim/scheduler.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <boost/context/fiber.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <numeric>
#include <string>

#include "cuda/sim/device_memory.h"
#include "cuda/sim/device_state.h"
#include "cuda/sim/limits.h"
#include "cuda/sim/memory_check.h"
#include "tensor/check.h"

// AddressSanitizer keeps its own record of which stack the code runs on; a fiber switch changes the stack under it
// (and an exception thrown on a fiber would make it unpoison the wrong one), so each switch is announced before it
// and confirmed after it, as Boost.Context's ucontext fibers do. No-ops in other builds.
#if defined(__SANITIZE_ADDRESS__)
#define ERC_SIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ERC_SIM_ASAN 1
#endif
#endif
#ifdef ERC_SIM_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace erc::sim {

namespace ctx = boost::context;

thread_local const ThreadContext* running_context = nullptr;

namespace {

// ---- The schedule -------------------------------------------------------------------------------------------------

Schedule schedule_from_environment() {
  Schedule s;
  const char* text = std::getenv("ERC_SIM_SCHEDULE");
  if (!text || !*text) return s;
  const std::string value = text;
  const std::string order = value.substr(0, value.find(':'));
  if (order == "forward")
    s.order = Order::forward;
  else if (order == "reverse")
    s.order = Order::reverse;
  else if (order == "shuffled")
    s.order = Order::shuffled;
  else
    ERC_CHECK(false, "ERC_SIM_SCHEDULE: expected forward, reverse or shuffled[:seed], got '", value, "'");
  if (value.find(':') != std::string::npos) s.seed = std::stoull(value.substr(value.find(':') + 1));
  return s;
}

Schedule& current_schedule() {
  static Schedule s = schedule_from_environment();
  return s;
}

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// 0 .. n-1 in the schedule's order; `salt` makes each round, block and launch draw its own shuffle.
void arrange(std::vector<uint32_t>& order, size_t n, uint64_t salt) {
  order.resize(n);
  std::iota(order.begin(), order.end(), 0u);
  const Schedule& s = current_schedule();
  if (s.order == Order::reverse) std::reverse(order.begin(), order.end());
  if (s.order != Order::shuffled) return;
  uint64_t state = s.seed ^ (salt * 0xD1B54A32D192ED03ull);
  for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[splitmix64(state) % i]);
}

// ---- Fiber switches -----------------------------------------------------------------------------------------------

struct StackSpan {
  const void* bottom = nullptr;
  size_t size = 0;
};

// `fake_stack_save` keeps the departing stack's use-after-return frames (nullptr: it never runs again).
void before_switch([[maybe_unused]] void** fake_stack_save, [[maybe_unused]] const StackSpan& to) {
#ifdef ERC_SIM_ASAN
  __sanitizer_start_switch_fiber(fake_stack_save, to.bottom, to.size);
#endif
}

// `from`, when given, learns the stack just left (how a fiber finds the scheduler's).
void after_switch([[maybe_unused]] void* fake_stack, [[maybe_unused]] StackSpan* from) {
#ifdef ERC_SIM_ASAN
  __sanitizer_finish_switch_fiber(fake_stack, from ? &from->bottom : nullptr, from ? &from->size : nullptr);
#endif
}

// ---- Fiber stacks -------------------------------------------------------------------------------------------------

// Stacks are mapped once and reused by every launch; each has an inaccessible guard page below it.
class StackPool {
 public:
  ctx::stack_context take() {
    std::lock_guard<std::mutex> lock(mutex_);
    void* top;
    if (free_.empty()) {
      const size_t page = size_t(sysconf(_SC_PAGESIZE));
      void* map = mmap(nullptr, kThreadStackBytes + page, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      ERC_CHECK(map != MAP_FAILED, "CUDA simulator: out of memory for thread stacks");
      mprotect(map, page, PROT_NONE);
      register_stack_guard(reinterpret_cast<uintptr_t>(map), reinterpret_cast<uintptr_t>(map) + page);
      top = static_cast<char*>(map) + page + kThreadStackBytes;
    } else {
      top = free_.back();
      free_.pop_back();
    }
    ctx::stack_context sc;
    sc.sp = top;
    sc.size = kThreadStackBytes;
    return sc;
  }
  void give_back(void* top) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(top);
  }

 private:
  std::mutex mutex_;
  std::vector<void*> free_;  // stack tops
};

StackPool& stack_pool() {
  static auto* pool = new StackPool();  // never unmapped: fibers may unwind during static destruction
  return *pool;
}

struct PooledStack {  // Boost.Context's StackAllocator over the pool; tells `span` where the stack lies
  StackSpan* span;
  ctx::stack_context allocate() {
    ctx::stack_context sc = stack_pool().take();
    *span = {static_cast<char*>(sc.sp) - sc.size, sc.size};
    return sc;
  }
  void deallocate(ctx::stack_context& sc) { stack_pool().give_back(sc.sp); }
};

// A suspended fiber dropped without unwinding it: its handle is moved where no destructor runs, and its stack goes
// back to the pool by hand (in an ASan build unpoisoned first: the frames that never returned leave redzones).
void drop_without_unwinding(ctx::fiber&& fiber, const StackSpan& stack) {
  alignas(ctx::fiber) static unsigned char graveyard[sizeof(ctx::fiber)];
  new (graveyard) ctx::fiber(std::move(fiber));
#ifdef ERC_SIM_ASAN
  __asan_unpoison_memory_region(stack.bottom, stack.size);
#endif
  stack_pool().give_back(static_cast<char*>(const_cast<void*>(stack.bottom)) + stack.size);
}

// ---- Threads, blocks, launches ------------------------------------------------------------------------------------

enum class State { ready, at_barrier, at_warp, exited, failed, faulted };

// A launch stops at a fault: the scheduler carries it from the failed thread out of the launch.
struct KernelFault {
  cudaError_t error;
  std::string what;
  bool refused = false;  // a limit found while running that a GPU checks at the launch (static shared memory)
};

struct SimThread {
  ThreadIndex index;
  ThreadContext context;
  unsigned linear = 0;  // x + y * bx + z * bx * by, as CUDA numbers the threads of a block
  State state = State::ready;
  ctx::fiber fiber;      // the thread itself, while it is suspended
  ctx::fiber resume_to;  // the scheduler, while the thread runs
  StackSpan stack;
  void* fake_stack = nullptr;
  const StackSpan* scheduler_stack = nullptr;
  bool started = false;
  bool abandoned = false;  // resumed only to unwind: the block failed
  std::exception_ptr error;
  KernelFault fault{cudaSuccess, {}};
  // Where it waits, and what it brought to a warp exchange.
  const char* file = nullptr;
  int line = 0;
  WarpOp op = WarpOp::sync;
  unsigned mask = 0;
  uint64_t value = 0, result = 0;
  int arg = 0, width = 32;
};

struct Running {  // the launch and thread now running on this host thread
  const KernelSite* site = nullptr;
  const void* kernel = nullptr;
  SimThread* thread = nullptr;
  SharedArena* shared = nullptr;
  size_t shared_allowed = 0;              // static + dynamic bytes this kernel may have
  std::vector<int64_t>* slots = nullptr;  // each ERC_SHARED slot's offset in this block's shared memory, or -1
  const LaunchArguments* arguments = nullptr;
};
thread_local Running running;

std::mutex launch_mutex;  // one launch at a time: simulated device memory is opened and closed per launch
uint32_t launch_count = 0, block_run_count = 0;

std::mutex slot_mutex;
int slot_count = 0;
std::map<const void*, size_t>& static_shared_seen() {  // per kernel, the static shared bytes a block has had
  static std::map<const void*, size_t> seen;
  return seen;
}

std::string dim_str(unsigned x, unsigned y, unsigned z) {
  return "(" + std::to_string(x) + ", " + std::to_string(y) + ", " + std::to_string(z) + ")";
}

std::string site_str(const KernelSite& site) {
  return std::string("kernel `") + site.kernel + "` (launched at " + site.file + ":" + std::to_string(site.line) + ")";
}

const char* op_name(WarpOp op) {
  switch (op) {
    case WarpOp::sync: return "__syncwarp";
    case WarpOp::shfl_idx: return "__shfl_sync";
    case WarpOp::shfl_up: return "__shfl_up_sync";
    case WarpOp::shfl_down: return "__shfl_down_sync";
    case WarpOp::shfl_xor: return "__shfl_xor_sync";
    case WarpOp::ballot: return "__ballot_sync";
  }
  return "?";
}

std::string mask_str(unsigned mask) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", mask);
  return text;
}

// Whether two waiting threads wait at the same line of source (a __syncthreads or a warp exchange).
bool same_site(const SimThread& a, const SimThread& b) { return a.line == b.line && std::strcmp(a.file, b.file) == 0; }

struct Abandoned {};  // thrown into a suspended thread to unwind it

// Suspends the running simulated thread until the scheduler resumes it.
void suspend(State why, const char* file, int line) {
  SimThread& t = *running.thread;
  t.state = why;
  t.file = file;
  t.line = line;
  before_switch(&t.fake_stack, *t.scheduler_stack);
  t.resume_to = std::move(t.resume_to).resume();
  after_switch(t.fake_stack, nullptr);
  if (t.abandoned) throw Abandoned{};
}

// Why a GPU would refuse this launch, or "" (cudaErrorInvalidConfiguration or cudaErrorInvalidValue: `error`).
std::string refusal(const void* kernel, dim3 grid, dim3 block, size_t shared_bytes, size_t param_bytes,
                    cudaError_t& error) {
  const DeviceLimits& limits = device_limits();
  error = cudaErrorInvalidConfiguration;
  if (block.x == 0 || block.y == 0 || block.z == 0 || grid.x == 0 || grid.y == 0 || grid.z == 0)
    return "an empty grid " + dim_str(grid.x, grid.y, grid.z) + " or block " + dim_str(block.x, block.y, block.z);
  if (block.x > limits.max_block[0] || block.y > limits.max_block[1] || block.z > limits.max_block[2] ||
      uint64_t(block.x) * block.y * block.z > limits.max_threads_per_block)
    return "block " + dim_str(block.x, block.y, block.z) + " exceeds CUDA's limits (at most " +
           std::to_string(limits.max_threads_per_block) + " threads, each dimension at most " +
           dim_str(limits.max_block[0], limits.max_block[1], limits.max_block[2]) + ")";
  if (grid.x > limits.max_grid[0] || grid.y > limits.max_grid[1] || grid.z > limits.max_grid[2])
    return "grid " + dim_str(grid.x, grid.y, grid.z) + " exceeds CUDA's limits " +
           dim_str(limits.max_grid[0], limits.max_grid[1], limits.max_grid[2]);
  error = cudaErrorInvalidValue;
  if (param_bytes > limits.max_param_bytes)
    return std::to_string(param_bytes) + " bytes of arguments, above the " + std::to_string(limits.max_param_bytes) +
           " a kernel takes";
  const size_t allowed = dynamic_shared_allowed(kernel);
  if (shared_bytes > allowed)
    return std::to_string(shared_bytes) + " bytes of dynamic shared memory, above the " + std::to_string(allowed) +
           " this kernel may use" +
           (allowed < limits.max_shared_optin
                ? " (more needs cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes), up "
                  "to " +
                      std::to_string(limits.max_shared_optin) + ")"
                : std::string(" (the device's most)"));
  size_t seen_static = 0;
  {
    std::lock_guard<std::mutex> lock(slot_mutex);
    auto it = static_shared_seen().find(kernel);
    if (it != static_shared_seen().end()) seen_static = it->second;
  }
  const size_t total = shared_total_allowed(kernel);
  if (seen_static + shared_bytes > total)
    return std::to_string(seen_static) + " bytes of static and " + std::to_string(shared_bytes) +
           " of dynamic shared memory, above the " + std::to_string(total) + " a block of this kernel may have";
  return {};
}

// The shared memory every block of every launch uses in turn, with its guard page and shadows: mapped once.
SharedArena& shared_arena() {
  static SharedArena* arena = [] {
    const size_t page = size_t(sysconf(_SC_PAGESIZE));
    const size_t data_pages = (device_limits().max_shared_optin + page - 1) / page;
    const size_t capacity = data_pages * page;  // the checker's range; the limits are checked against `used`
    auto* a = new SharedArena();
    void* map = mmap(nullptr, (data_pages + 1) * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ERC_CHECK(map != MAP_FAILED, "CUDA simulator: out of memory for shared memory");
    mprotect(static_cast<char*>(map) + data_pages * page, page, PROT_NONE);
    a->data = static_cast<unsigned char*>(map);
    a->capacity = capacity;
    a->written = new uint8_t[capacity];
    a->accesses = new WordAccesses[(capacity + 3) / 4];
    return a;
  }();
  return *arena;
}

class BlockRun {
 public:
  BlockRun(const KernelSite& site, dim3 grid, dim3 block, uint3 block_idx, uint32_t launch, uint64_t salt,
           const std::function<void()>& body)
      : site_(site), body_(body), salt_(salt) {
    const unsigned n = block.x * block.y * block.z;
    const uint32_t run = ++block_run_count;
    const uint32_t linear_block = block_idx.x + block_idx.y * grid.x + block_idx.z * grid.x * grid.y;
    warp_syncs_.assign((n + 31) / 32, 0);
    threads_.resize(n);
    for (unsigned i = 0; i < n; ++i) {
      SimThread& t = threads_[i];
      t.linear = i;
      t.index.thread_idx = {i % block.x, (i / block.x) % block.y, i / (block.x * block.y)};
      t.index.block_idx = block_idx;
      t.index.block_dim = block;
      t.index.grid_dim = grid;
      t.scheduler_stack = &scheduler_stack_;
      t.context = {&site, &t.index, launch, run, linear_block, i, &barriers_, &warp_syncs_[i / 32], running.shared};
    }
  }

  // Rounds: every ready thread runs (in the schedule's order) until it waits or exits; then the warp exchanges
  // whose lanes have all arrived complete; when none can, and every live thread waits at one __syncthreads, it
  // opens. Anything else is a deadlock on a GPU, and a fault here.
  void run() {
    std::vector<uint32_t> order;
    for (uint64_t round = 0;; ++round) {
      arrange(order, threads_.size(), salt_ * 1000003 + round);
      for (uint32_t i : order)
        if (threads_[i].state == State::ready) resume(threads_[i]);
      if (complete_warp_exchanges()) continue;
      size_t exited = 0, at_barrier = 0;
      const SimThread* first_waiting = nullptr;
      for (const SimThread& t : threads_) {
        if (t.state == State::exited) ++exited;
        if (t.state == State::at_barrier) {
          ++at_barrier;
          if (!first_waiting) first_waiting = &t;
        }
      }
      if (exited == threads_.size()) return;
      if (at_barrier + exited < threads_.size()) refuse_stuck_warp();
      open_barrier(*first_waiting, at_barrier, exited);
    }
  }

  // Before the fault of a failed block propagates, the threads left waiting are resumed to unwind (an Abandoned
  // thrown where they wait), so every fiber ends on its own stack through an announced switch.
  void abandon() {
    for (SimThread& t : threads_)
      if (t.started && t.state != State::exited && t.state != State::failed && t.state != State::faulted) {
        t.abandoned = true;
        switch_to(t);
      }
    threads_.clear();
  }

 private:
  void switch_to(SimThread& t) {
    running.thread = &t;
    running_context = &t.context;
    if (!t.started) {
      t.started = true;
      t.fiber = ctx::fiber(std::allocator_arg, PooledStack{&t.stack}, [this, &t](ctx::fiber&& scheduler) {
        after_switch(nullptr, &scheduler_stack_);
        t.resume_to = std::move(scheduler);
        try {
          body_();
          t.state = State::exited;
        } catch (const Abandoned&) {
          t.state = State::exited;
        } catch (const ctx::detail::forced_unwind&) {
          throw;  // the fiber is being destroyed (never abandoned): let Boost finish unwinding it
        } catch (...) {
          t.error = std::current_exception();
          t.state = State::failed;
        }
        before_switch(nullptr, scheduler_stack_);
        return std::move(t.resume_to);
      });
    }
    before_switch(&scheduler_fake_stack_, t.stack);
    t.fiber = std::move(t.fiber).resume();
    after_switch(scheduler_fake_stack_, nullptr);
    running.thread = nullptr;
    running_context = nullptr;
    if (t.state == State::faulted) drop_without_unwinding(std::move(t.fiber), t.stack);
  }

  void resume(SimThread& t) {
    switch_to(t);
    if (t.state == State::failed) {
      std::exception_ptr error = t.error;
      abandon();
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        throw KernelFault{cudaErrorLaunchFailure, e.what()};
      }
    }
    if (t.state == State::faulted) {
      KernelFault fault = t.fault;
      abandon();
      throw fault;
    }
  }

  void open_barrier(const SimThread& first, size_t waiting, size_t exited) {
    for (const SimThread& t : threads_)
      if (t.state == State::at_barrier && !same_site(t, first))
        fail("threads of one block wait at two different __syncthreads: thread " + std::to_string(first.linear) +
             " at " + first.file + ":" + std::to_string(first.line) + ", thread " + std::to_string(t.linear) + " at " +
             t.file + ":" + std::to_string(t.line));
    if (exited > 0)
      fail("__syncthreads at " + std::string(first.file) + ":" + std::to_string(first.line) + " is reached by " +
           std::to_string(waiting) + " of the block's " + std::to_string(threads_.size()) + " threads; the other " +
           std::to_string(exited) + " returned before it (a GPU may hang or go on with stale shared memory)");
    ++barriers_;
    for (SimThread& t : threads_)
      if (t.state == State::at_barrier) t.state = State::ready;
  }

  // Completes every exchange whose lanes are all there; returns whether one did.
  bool complete_warp_exchanges() {
    bool progress = false;
    for (size_t base = 0; base < threads_.size(); base += 32) {
      const size_t lanes = std::min<size_t>(32, threads_.size() - base);
      for (size_t l = 0; l < lanes; ++l) {
        const SimThread& t = threads_[base + l];
        if (t.state != State::at_warp) continue;
        if (!(t.mask >> l & 1u)) fail_lane(t, "its mask " + mask_str(t.mask) + " does not name its own lane");
        bool all_there = true;
        for (size_t m = 0; m < 32; ++m) {
          if (!(t.mask >> m & 1u)) continue;
          if (m >= lanes)
            fail_lane(t, "its mask " + mask_str(t.mask) + " names lane " + std::to_string(m) + ", but this warp has " +
                             std::to_string(lanes) + " threads");
          const SimThread& other = threads_[base + m];
          if (other.state == State::at_warp) {
            if (other.mask != t.mask || other.op != t.op || !same_site(other, t))
              fail_lane(t, "lane " + std::to_string(m) + " of its mask waits in " + op_name(other.op) + " at " +
                               other.file + ":" + std::to_string(other.line) + " with mask " + mask_str(other.mask) +
                               " instead");
          } else {
            all_there = false;
          }
        }
        if (!all_there) continue;
        exchange(base, lanes, t.mask);
        progress = true;
      }
    }
    return progress;
  }

  // Every lane of `mask` in the warp starting at `base` is waiting in the same exchange: compute all results. Only
  // a __syncwarp of every lane of the warp orders memory for the memory checker: shuffles and votes exchange values,
  // and CUDA promises no memory ordering for them.
  void exchange(size_t base, size_t lanes, unsigned mask) {
    const SimThread& first = threads_[base + __builtin_ctz(mask)];
    uint64_t ballot = 0;
    for (size_t m = 0; m < lanes; ++m)
      if (mask >> m & 1u) ballot |= uint64_t(threads_[base + m].value != 0) << m;
    const unsigned whole_warp = lanes == 32 ? 0xffffffffu : (1u << lanes) - 1;
    if (first.op == WarpOp::sync && (mask & whole_warp) == whole_warp) ++warp_syncs_[base / 32];
    for (size_t m = 0; m < lanes; ++m) {
      if (!(mask >> m & 1u)) continue;
      SimThread& t = threads_[base + m];
      const int width = t.width, lane = int(m), segment = lane / width * width;
      int source = lane;
      switch (first.op) {
        case WarpOp::sync: break;
        case WarpOp::ballot: t.result = ballot; break;
        case WarpOp::shfl_idx: source = segment + (t.arg & (width - 1)); break;
        case WarpOp::shfl_up: source = lane % width >= t.arg ? lane - t.arg : lane; break;
        case WarpOp::shfl_down: source = lane % width + t.arg < width ? lane + t.arg : lane; break;
        case WarpOp::shfl_xor: {
          const int x = lane ^ t.arg;  // CUDA: a lane in a later segment gives the caller its own value back
          source = x >= segment + width ? lane : x;
          break;
        }
      }
      if (first.op == WarpOp::sync || first.op == WarpOp::ballot) continue;
      if (source >= int(lanes) || !(mask >> source & 1u))
        fail_lane(t, "it reads lane " + std::to_string(source) + ", which is not in its mask " + mask_str(mask) +
                         " (an undefined value on a GPU)");
      t.result = threads_[base + size_t(source)].value;
    }
    for (size_t m = 0; m < lanes; ++m)
      if (mask >> m & 1u) threads_[base + m].state = State::ready;
  }

  [[noreturn]] void refuse_stuck_warp() {
    for (const SimThread& t : threads_)
      if (t.state == State::at_warp) {
        for (size_t m = 0; m < 32; ++m) {
          const size_t other = t.linear / 32 * 32 + m;
          if (!(t.mask >> m & 1u) || other >= threads_.size() || threads_[other].state == State::at_warp) continue;
          fail_lane(t, "lane " + std::to_string(m) + " of its mask " + mask_str(t.mask) +
                           (threads_[other].state == State::exited ? " returned without joining it"
                                                                   : " waits at a __syncthreads instead"));
        }
      }
    fail("no thread can go on");  // unreachable: a waiting warp exchange always has a missing lane
  }

  [[noreturn]] void fail_lane(const SimThread& t, const std::string& why) {
    fail("thread " + std::to_string(t.linear) + " (lane " + std::to_string(t.linear % 32) + " of warp " +
         std::to_string(t.linear / 32) + ") waits in " + op_name(t.op) + " at " + t.file + ":" +
         std::to_string(t.line) + ", but " + why);
  }

  [[noreturn]] void fail(const std::string& why) {
    const uint3 b = threads_.empty() ? uint3{0, 0, 0} : threads_[0].index.block_idx;
    abandon();
    throw KernelFault{cudaErrorLaunchFailure, site_str(site_) + ", block " + dim_str(b.x, b.y, b.z) + ": " + why};
  }

  const KernelSite& site_;
  const std::function<void()>& body_;
  uint64_t salt_;
  std::vector<SimThread> threads_;
  uint32_t barriers_ = 0;
  std::vector<uint32_t> warp_syncs_;
  StackSpan scheduler_stack_;  // the host thread's, learned by the first fiber to start
  void* scheduler_fake_stack_ = nullptr;
};

// The shared memory of the next block: the launch's dynamic bytes, poison and unwritten, and no static slot yet.
void start_block_shared(SharedArena& arena, std::vector<int64_t>& slots) {
  const size_t dirty = std::max(arena.used, arena.dynamic_bytes);
  std::memset(arena.data, 0xff, dirty);
  std::memset(arena.written, 0, dirty);
  arena.used = arena.dynamic_bytes;
  std::fill(slots.begin(), slots.end(), int64_t(-1));
}

}  // namespace

void set_schedule(const Schedule& schedule) { current_schedule() = schedule; }
Schedule schedule() { return current_schedule(); }

const char* order_name(Order order) {
  switch (order) {
    case Order::forward: return "forward";
    case Order::reverse: return "reverse";
    case Order::shuffled: return "shuffled";
  }
  return "?";
}

const ThreadIndex& this_thread() {
  ERC_CHECK(running.thread != nullptr, "CUDA simulator: a kernel built-in (threadIdx, blockIdx, ...) was used ",
            "outside a kernel");
  return running.thread->index;
}

unsigned char* dynamic_shared_memory() {
  ERC_CHECK(running.thread != nullptr, "CUDA simulator: dynamic shared memory used outside a kernel");
  if (running.shared->dynamic_bytes == 0)
    kernel_fault(cudaErrorLaunchFailure, [] {
      return describe_current_thread() + " uses dynamic shared memory, and the launch asked for 0 bytes of it";
    });
  return running.shared->data;
}

int new_shared_slot() {
  std::lock_guard<std::mutex> lock(slot_mutex);
  return slot_count++;
}

unsigned char* static_shared(int slot, size_t bytes, size_t alignment) {
  ERC_CHECK(running.thread != nullptr, "CUDA simulator: ERC_SHARED outside a kernel");
  std::vector<int64_t>& slots = *running.slots;
  if (size_t(slot) >= slots.size()) slots.resize(size_t(slot) + 1, -1);
  SharedArena& arena = *running.shared;
  if (slots[size_t(slot)] < 0) {
    const size_t at = (arena.used + alignment - 1) / alignment * alignment;
    const size_t static_bytes = at + bytes - arena.dynamic_bytes;
    size_t& seen = static_shared_seen()[running.kernel];  // under launch_mutex
    seen = std::max(seen, static_bytes);
    if (static_bytes > device_limits().max_static_shared || at + bytes > running.shared_allowed) {
      running.thread->fault.refused = true;  // a limit a GPU checks at the launch
      kernel_fault(cudaErrorInvalidValue, [&] {
        return site_str(*running.site) + ": " + std::to_string(static_bytes) + " bytes of static and " +
               std::to_string(arena.dynamic_bytes) + " of dynamic shared memory, above the " +
               std::to_string(
                   std::min(running.shared_allowed, arena.dynamic_bytes + device_limits().max_static_shared)) +
               " a block of this kernel may have";
      });
    }
    slots[size_t(slot)] = int64_t(at);
    arena.used = at + bytes;
  }
  return arena.data + slots[size_t(slot)];
}

bool describe_current_thread(char* text, size_t size) {
  const SimThread* t = running.thread;
  if (!t || !running.site) return false;
  const uint3 b = t->index.block_idx, th = t->index.thread_idx;
  std::snprintf(text, size, "kernel `%s` (launched at %s:%d), block (%u, %u, %u), thread (%u, %u, %u)",
                running.site->kernel, running.site->file, running.site->line, b.x, b.y, b.z, th.x, th.y, th.z);
  return true;
}

std::string describe_current_thread() {
  char text[768];
  return describe_current_thread(text, sizeof text) ? std::string(text) : std::string("host code");
}

void record_thread_fault(cudaError_t error, std::string&& what) {
  SimThread& t = *running.thread;
  t.fault.error = error;
  t.fault.what = std::move(what);
}

void drop_running_thread() {
  SimThread& t = *running.thread;
  t.state = State::faulted;
  before_switch(nullptr, *t.scheduler_stack);  // this stack is never resumed
  t.resume_to = std::move(t.resume_to).resume();
  std::abort();  // unreachable: the scheduler drops this fiber without resuming it
}

void syncthreads(const char* file, int line) {
  ERC_CHECK(running.thread != nullptr, "CUDA simulator: __syncthreads outside a kernel");
  suspend(State::at_barrier, file, line);
}

uint64_t warp_exchange(WarpOp op, unsigned mask, uint64_t value, int arg, int width, const char* file, int line) {
  ERC_CHECK(running.thread != nullptr, "CUDA simulator: ", op_name(op), " outside a kernel");
  SimThread& t = *running.thread;
  if (width <= 0 || width > 32 || (width & (width - 1)) != 0)
    kernel_fault(cudaErrorLaunchFailure, [&] {
      return describe_current_thread() + ": " + op_name(op) + " at " + file + ":" + std::to_string(line) +
             " with width " + std::to_string(width) + " (it must be a power of two up to 32)";
    });
  t.op = op;
  t.mask = mask;
  t.value = value;
  t.arg = arg;
  t.width = width;
  suspend(State::at_warp, file, line);
  return t.result;
}

int argument_pointing_into(uintptr_t begin, uintptr_t end) {
  if (!running.arguments) return -1;
  const LaunchArguments& a = *running.arguments;
  for (size_t i = 0; i < a.words.size(); ++i)
    if (a.words[i] >= begin && a.words[i] <= end) return a.argument[i];
  return -1;
}

void run_grid(const KernelSite& site, const void* kernel, dim3 grid, dim3 block, size_t shared_bytes,
              const LaunchArguments& arguments, const std::function<void()>& thread_body) {
  std::lock_guard<std::mutex> lock(launch_mutex);
  run_waiting_copies();
  if (device_lost()) return;  // the context is gone: nothing more runs
  cudaError_t error = cudaSuccess;
  const std::string why = refusal(kernel, grid, block, shared_bytes, arguments.bytes, error);
  if (!why.empty()) {
    launch_refused(error, site_str(site) + ": " + why);
    return;
  }
  const uint64_t n_blocks = uint64_t(grid.x) * grid.y * grid.z;
  if (n_blocks > (uint64_t(1) << 26)) {
    launch_refused(cudaErrorInvalidConfiguration,
                   site_str(site) + ": " + std::to_string(n_blocks) +
                       " blocks: a valid grid, but more than the simulator runs in any useful time (a grid-stride "
                       "loop needs far fewer)");
    return;
  }
  install_fault_handler();
  const uint32_t launch = ++launch_count;
  OpenBuffers open(arguments.words);
  SharedArena& arena = shared_arena();
  arena.dynamic_bytes = shared_bytes;
  std::vector<int64_t> slots;
  const Running outer = running;
  running = {&site, kernel, nullptr, &arena, shared_total_allowed(kernel), &slots, &arguments};
  struct Restore {
    const Running& outer;
    ~Restore() { running = outer; }
  } restore{outer};
  std::vector<uint32_t> order;
  arrange(order, size_t(n_blocks), launch);
  try {
    for (uint32_t b : order) {
      const uint3 block_idx{b % grid.x, (b / grid.x) % grid.y, unsigned(b / (uint64_t(grid.x) * grid.y))};
      start_block_shared(arena, slots);
      BlockRun run(site, grid, block, block_idx, launch, launch * 0x9E3779B97F4A7C15ull + b, thread_body);
      run.run();
    }
  } catch (const KernelFault& fault) {
    if (fault.refused)
      launch_refused(fault.error, fault.what);
    else
      record_fault(fault.error, fault.what);
  }
}

}  // namespace erc::sim
