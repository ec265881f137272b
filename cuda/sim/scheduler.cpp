#include "cuda/sim/scheduler.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <boost/context/fiber.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <numeric>
#include <string>

#include "cuda/sim/device_memory.h"
#include "cuda/sim/limits.h"
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
#include <sanitizer/common_interface_defs.h>
#endif

namespace erc::sim {

namespace ctx = boost::context;

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
  void give_back(const ctx::stack_context& sc) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(sc.sp);
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
  void deallocate(ctx::stack_context& sc) { stack_pool().give_back(sc); }
};

// ---- Threads, blocks, launches ------------------------------------------------------------------------------------

enum class State { ready, at_barrier, at_warp, exited, failed };

struct SimThread {
  ThreadIndex index;
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
  SimThread* thread = nullptr;
  unsigned char* shared = nullptr;
  size_t shared_bytes = 0;
};
thread_local Running running;

std::mutex launch_mutex;  // one launch at a time: simulated device memory is opened and closed per launch
uint64_t launch_count = 0;

std::string dim_str(unsigned x, unsigned y, unsigned z) {
  return "(" + std::to_string(x) + ", " + std::to_string(y) + ", " + std::to_string(z) + ")";
}

std::string site_str(const KernelSite& site) {
  return std::string("kernel `") + site.kernel + "` (launched at " + site.file + ":" + std::to_string(site.line) + ")";
}

[[noreturn]] void refuse(const KernelSite& site, const std::string& what) {
  ERC_CHECK(false, "CUDA simulator refuses ", site_str(site), ": ", what);
  std::abort();
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

void check_configuration(const KernelSite& site, const void* kernel, dim3 grid, dim3 block, size_t shared_bytes) {
  const DeviceLimits& limits = device_limits();
  if (block.x == 0 || block.y == 0 || block.z == 0 || grid.x == 0 || grid.y == 0 || grid.z == 0)
    refuse(site, "an empty grid " + dim_str(grid.x, grid.y, grid.z) + " or block " +
                     dim_str(block.x, block.y, block.z) + " (cudaErrorInvalidConfiguration on a GPU)");
  if (block.x > limits.max_block[0] || block.y > limits.max_block[1] || block.z > limits.max_block[2] ||
      uint64_t(block.x) * block.y * block.z > limits.max_threads_per_block)
    refuse(site, "block " + dim_str(block.x, block.y, block.z) + " exceeds CUDA's limits (at most " +
                     std::to_string(limits.max_threads_per_block) + " threads, each dimension at most " +
                     dim_str(limits.max_block[0], limits.max_block[1], limits.max_block[2]) + ")");
  if (grid.x > limits.max_grid[0] || grid.y > limits.max_grid[1] || grid.z > limits.max_grid[2])
    refuse(site, "grid " + dim_str(grid.x, grid.y, grid.z) + " exceeds CUDA's limits " +
                     dim_str(limits.max_grid[0], limits.max_grid[1], limits.max_grid[2]));
  const size_t allowed = dynamic_shared_allowed(kernel);
  if (shared_bytes > allowed)
    refuse(site, std::to_string(shared_bytes) + " bytes of dynamic shared memory, above the " +
                     std::to_string(allowed) + " this kernel may use" +
                     (allowed < limits.max_shared_optin
                          ? " (more needs cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, "
                            "bytes), up to " +
                                std::to_string(limits.max_shared_optin) + ")"
                          : std::string(" (the device's most)")));
}

// The dynamic shared memory of one block: its own guarded mapping (so an access past its end faults), filled with
// 0xff bytes (NaN in every float type) before each block, as a GPU gives no zeros.
class BlockShared {
 public:
  explicit BlockShared(size_t bytes) : bytes_(bytes) {
    if (bytes == 0) return;
    data_ = static_cast<unsigned char*>(device_allocate(bytes));
    ERC_CHECK(data_ != nullptr, "CUDA simulator: out of memory for ", bytes, " bytes of shared memory");
    open_ = std::make_unique<OpenBuffers>(std::vector<uintptr_t>{reinterpret_cast<uintptr_t>(data_)});
  }
  ~BlockShared() {
    open_.reset();
    if (data_) device_free(data_);
  }
  void poison() {
    if (data_) std::memset(data_, 0xff, bytes_);
  }
  unsigned char* data() const { return data_; }

 private:
  size_t bytes_;
  unsigned char* data_ = nullptr;
  std::unique_ptr<OpenBuffers> open_;
};

class BlockRun {
 public:
  BlockRun(const KernelSite& site, dim3 grid, dim3 block, uint3 block_idx, uint64_t salt,
           const std::function<void()>& body)
      : site_(site), body_(body), salt_(salt) {
    const unsigned n = block.x * block.y * block.z;
    threads_.resize(n);
    for (unsigned i = 0; i < n; ++i) {
      SimThread& t = threads_[i];
      t.linear = i;
      t.index.thread_idx = {i % block.x, (i / block.x) % block.y, i / (block.x * block.y)};
      t.index.block_idx = block_idx;
      t.index.block_dim = block;
      t.index.grid_dim = grid;
      t.scheduler_stack = &scheduler_stack_;
    }
  }

  // Rounds: every ready thread runs (in the schedule's order) until it waits or exits; then the warp exchanges
  // whose lanes have all arrived complete; when none can, and every live thread waits at one __syncthreads, it
  // opens. Anything else is a deadlock on a GPU, and refused here.
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

  // Before the error of a failed block propagates, the threads left waiting are resumed to unwind (an Abandoned
  // thrown where they wait), so every fiber ends on its own stack through an announced switch.
  void abandon() {
    for (SimThread& t : threads_)
      if (t.started && t.state != State::exited && t.state != State::failed) {
        t.abandoned = true;
        switch_to(t);
      }
    threads_.clear();
  }

 private:
  void switch_to(SimThread& t) {
    running.thread = &t;
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
  }

  void resume(SimThread& t) {
    switch_to(t);
    if (t.state == State::failed) {
      std::exception_ptr error = t.error;
      abandon();
      std::rethrow_exception(error);
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

  // Every lane of `mask` in the warp starting at `base` is waiting in the same exchange: compute all results.
  void exchange(size_t base, size_t lanes, unsigned mask) {
    const SimThread& first = threads_[base + __builtin_ctz(mask)];
    uint64_t ballot = 0;
    for (size_t m = 0; m < lanes; ++m)
      if (mask >> m & 1u) ballot |= uint64_t(threads_[base + m].value != 0) << m;
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
    refuse(site_, "block " + dim_str(b.x, b.y, b.z) + ": " + why);
  }

  const KernelSite& site_;
  const std::function<void()>& body_;
  uint64_t salt_;
  std::vector<SimThread> threads_;
  StackSpan scheduler_stack_;  // the host thread's, learned by the first fiber to start
  void* scheduler_fake_stack_ = nullptr;
};

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
  if (running.shared_bytes == 0)
    refuse(*running.site, "it uses dynamic shared memory, and the launch asked for 0 bytes of it");
  return running.shared;
}

bool describe_current_thread(char* text, size_t size) {
  const SimThread* t = running.thread;
  if (!t || !running.site) return false;
  const uint3 b = t->index.block_idx, th = t->index.thread_idx;
  std::snprintf(text, size, "kernel `%s` (launched at %s:%d), block (%u, %u, %u), thread (%u, %u, %u)",
                running.site->kernel, running.site->file, running.site->line, b.x, b.y, b.z, th.x, th.y, th.z);
  return true;
}

void syncthreads(const char* file, int line) {
  ERC_CHECK(running.thread != nullptr, "CUDA simulator: __syncthreads outside a kernel");
  suspend(State::at_barrier, file, line);
}

uint64_t warp_exchange(WarpOp op, unsigned mask, uint64_t value, int arg, int width, const char* file, int line) {
  ERC_CHECK(running.thread != nullptr, "CUDA simulator: ", op_name(op), " outside a kernel");
  SimThread& t = *running.thread;
  if (width <= 0 || width > 32 || (width & (width - 1)) != 0)
    refuse(*running.site, std::string(op_name(op)) + " at " + file + ":" + std::to_string(line) + " with width " +
                              std::to_string(width) + " (it must be a power of two up to 32)");
  t.op = op;
  t.mask = mask;
  t.value = value;
  t.arg = arg;
  t.width = width;
  suspend(State::at_warp, file, line);
  return t.result;
}

void run_grid(const KernelSite& site, const void* kernel, dim3 grid, dim3 block, size_t shared_bytes,
              const std::vector<uintptr_t>& visible, const std::function<void()>& thread_body) {
  std::lock_guard<std::mutex> lock(launch_mutex);
  check_configuration(site, kernel, grid, block, shared_bytes);
  install_fault_handler();
  const uint64_t launch = ++launch_count;
  OpenBuffers open(visible);
  BlockShared shared(shared_bytes);
  const Running outer = running;
  running = {&site, nullptr, shared.data(), shared_bytes};
  struct Restore {
    const Running& outer;
    ~Restore() { running = outer; }
  } restore{outer};
  const uint64_t n_blocks = uint64_t(grid.x) * grid.y * grid.z;
  if (n_blocks > (uint64_t(1) << 26))
    refuse(site, std::to_string(n_blocks) +
                     " blocks: a valid grid, but more than the simulator runs in any useful "
                     "time (a grid-stride loop needs far fewer)");
  std::vector<uint32_t> order;
  arrange(order, size_t(n_blocks), launch);
  for (uint32_t b : order) {
    const uint3 block_idx{b % grid.x, (b / grid.x) % grid.y, unsigned(b / (uint64_t(grid.x) * grid.y))};
    shared.poison();
    BlockRun run(site, grid, block, block_idx, launch * 0x9E3779B97F4A7C15ull + b, thread_body);
    run.run();
  }
}

}  // namespace erc::sim
