// The simulator's launch: every thread of a block is a stackful fiber (Boost.Context), so that __syncthreads and the
// warp exchanges can suspend a thread anywhere, even inside nested device functions; blocks run one after another.
//
// Stricter than a GPU, never looser:
// - The lanes of a warp run as independently as Volta's independent thread scheduling lets them: a lane runs until
//   it reaches a barrier or a warp exchange, and only those synchronise. Code that assumes lockstep without
//   __syncwarp reads values that are not yet written.
// - Threads between barriers and the blocks of a grid run in the order the schedule says (forward, reversed, or
//   shuffled by seed), so a data race or an assumed block order gives a different answer under another order, and
//   the memory checker (memory_check.h) reports it under any order.
// - A launch a GPU would refuse (a block or grid beyond CUDA's limits, more shared memory or parameter bytes than
//   the device takes) does not run, and cudaGetLastError says why. A kernel that faults (the memory checker's
//   findings, a __syncthreads that not every thread of the block reaches, a warp exchange whose mask names a lane
//   that does not join it) stops there, as a GPU's context does, and the error is the device's from the next
//   synchronising call on (cuda/sim/device_state.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "cuda/sim/runtime_api.h"

namespace erc::sim {

struct WordAccesses;

constexpr size_t kThreadStackBytes = 256 * 1024;

// The order of threads between barriers and of blocks in a grid. ERC_SIM_SCHEDULE=forward|reverse|shuffled[:seed]
// sets the process's default; set_schedule changes it (the simulator's own tests run a kernel in every order).
enum class Order { forward, reverse, shuffled };
struct Schedule {
  Order order = Order::forward;
  uint64_t seed = 0;
};
void set_schedule(const Schedule& schedule);
Schedule schedule();
const char* order_name(Order order);

// Where a launch comes from, for every message about it.
struct KernelSite {
  const char* kernel;  // the kernel as the launch names it, e.g. "unary_kernel<scalar_t, Fn>"
  const char* file;
  int line;
};

// What the built-ins of the running thread read.
struct ThreadIndex {
  uint3 thread_idx, block_idx;
  dim3 block_dim, grid_dim;
};

// The shared memory of the block that runs: the launch's dynamic bytes first, then each ERC_SHARED variable where
// the block first declares it; poison (0xff bytes) and unwritten when the block starts, with the shadows the memory
// checker keeps.
struct SharedArena {
  unsigned char* data = nullptr;
  size_t capacity = 0;  // the device's most, 227 KiB
  size_t used = 0;      // dynamic + static bytes the block has
  size_t dynamic_bytes = 0;
  uint8_t* written = nullptr;        // [capacity]
  WordAccesses* accesses = nullptr;  // [capacity / 4]
};

// What the memory checker reads of the simulated thread that runs on this host thread.
struct ThreadContext {
  const KernelSite* site = nullptr;
  const ThreadIndex* index = nullptr;
  uint32_t launch = 0;                   // serial number of the launch: device memory's racecheck epoch
  uint32_t block_run = 0;                // serial number of the block run: shared memory's epoch
  uint32_t block = 0;                    // linear index of the block in the grid
  uint32_t thread = 0;                   // linear index of the thread in the block
  const uint32_t* barriers = nullptr;    // the block's __syncthreads count
  const uint32_t* warp_syncs = nullptr;  // the thread's warp's whole-warp __syncwarp count
  SharedArena* shared = nullptr;
};
extern thread_local const ThreadContext* running_context;  // nullptr outside a kernel

const ThreadIndex& this_thread();
unsigned char* dynamic_shared_memory();  // this block's dynamic shared memory (a fault when the launch asked none)

// ERC_SHARED's slots (cuda/kernel.h): each declaration takes a slot number once, and each block gets its bytes in
// its shared memory when a thread first reaches the declaration.
int new_shared_slot();
unsigned char* static_shared(int slot, size_t bytes, size_t alignment);
template <typename T>
T* static_shared(int slot, size_t count) {
  return reinterpret_cast<T*>(static_shared(slot, sizeof(T) * count, alignof(T) < 16 ? 16 : alignof(T)));
}

// "kernel `k` (launched at file:line), block (x, y, z), thread (x, y, z)" when a simulated thread is running.
bool describe_current_thread(char* text, size_t size);
std::string describe_current_thread();

// Stops the running simulated thread and its launch, as a GPU's fault does: the launch's remaining threads and
// blocks do not run, and `error` becomes the device's, with describe()'s account (cuda/sim/device_state.h). Never
// returns: the thread's stack is dropped without unwinding it (the instrumented access that found the fault cannot
// throw), so the account is made, and its temporaries gone, before: nothing the heap holds is left on that stack.
void record_thread_fault(cudaError_t error, std::string&& what);
[[noreturn]] void drop_running_thread();
template <typename Describe>
[[noreturn]] void kernel_fault(cudaError_t error, Describe&& describe) {
  record_thread_fault(error, describe());
  drop_running_thread();
}

// __syncthreads and __syncwarp, and the warp exchanges. A lane passes its value as 64 bits and reads its source
// lane's: `arg` is the source lane (idx), the distance (up, down) or the lane mask (xor).
enum class WarpOp { sync, shfl_idx, shfl_up, shfl_down, shfl_xor, ballot };
void syncthreads(const char* file, int line);
uint64_t warp_exchange(WarpOp op, unsigned mask, uint64_t value, int arg, int width, const char* file, int line);

// The launch's arguments as the simulator sees them: every 8-byte word of each (the device buffers they point into
// are the ones the kernel may touch), which argument each word belongs to, and their size, which a GPU limits.
struct LaunchArguments {
  std::vector<uintptr_t> words;
  std::vector<int> argument;  // of each word, counted from 0
  size_t bytes = 0;
};

// Runs `thread_body` once per thread of the grid, each on its own fiber.
void run_grid(const KernelSite& site, const void* kernel, dim3 grid, dim3 block, size_t shared_bytes,
              const LaunchArguments& arguments, const std::function<void()>& thread_body);

// Which argument of the running launch points into [begin, end), or -1: for the memory checker's reports.
int argument_pointing_into(uintptr_t begin, uintptr_t end);

// Every 8-byte-aligned word of an argument, as a candidate device address.
template <typename T>
void collect_words(const T& value, std::vector<uintptr_t>& words) {
  static_assert(std::is_trivially_copyable_v<T>, "a kernel argument must be trivially copyable, as on a GPU");
  if constexpr (alignof(T) < alignof(uintptr_t)) return;  // too loosely aligned to hold a pointer
  const auto* bytes = reinterpret_cast<const unsigned char*>(&value);
  for (size_t at = 0; at + sizeof(uintptr_t) <= sizeof(T); at += sizeof(uintptr_t)) {
    uintptr_t word;
    std::memcpy(&word, bytes + at, sizeof word);
    words.push_back(word);
  }
}

// The launch: the arguments are converted to the kernel's parameter types once, as a GPU fills its parameter buffer,
// and every simulated thread calls the kernel with its own copy of them.
template <typename... Params, typename... Args>
void launch(const KernelSite& site, void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes,
            Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args), "the launch passes a different number of arguments");
  const std::tuple<std::decay_t<Params>...> params(static_cast<std::decay_t<Params>>(std::forward<Args>(args))...);
  LaunchArguments arguments;
  std::apply(
      [&](const auto&... p) {
        int index = 0;
        ((collect_words(p, arguments.words), arguments.argument.resize(arguments.words.size(), index++)), ...);
      },
      params);
  arguments.bytes = (size_t(0) + ... + sizeof(std::decay_t<Params>));
  run_grid(site, reinterpret_cast<const void*>(kernel), grid, block, shared_bytes, arguments,
           [&] { std::apply(kernel, params); });
}

}  // namespace erc::sim
