// The simulator's launch: every thread of a block is a stackful fiber (Boost.Context), so that __syncthreads and the
// warp exchanges can suspend a thread anywhere, even inside nested device functions; blocks run one after another.
//
// Stricter than a GPU, never looser:
// - The lanes of a warp run as independently as Volta's independent thread scheduling lets them: a lane runs until
//   it reaches a barrier or a warp exchange, and only those synchronise. Code that assumes lockstep without
//   __syncwarp reads values that are not yet written.
// - Threads between barriers and the blocks of a grid run in the order the schedule says (forward, reversed, or
//   shuffled by seed), so a data race or an assumed block order gives a different answer under another order.
// - It refuses, naming the kernel: a __syncthreads that not every thread of the block reaches (or threads waiting at
//   two different ones), a warp exchange whose mask names a lane that does not join it, a block or grid beyond
//   CUDA's limits, dynamic shared memory beyond the device's, and (through device_memory.h) any access outside the
//   device buffers the launch was given.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <tuple>
#include <type_traits>
#include <vector>

#include "cuda/sim/runtime_api.h"

namespace erc::sim {

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
const ThreadIndex& this_thread();
unsigned char* dynamic_shared_memory();  // this block's dynamic shared memory (refused when the launch asked none)

// Fills `text` with "kernel `k` (file:line), block (x, y, z), thread (x, y, z)" when a simulated thread is running.
bool describe_current_thread(char* text, size_t size);

// __syncthreads and __syncwarp, and the warp exchanges. A lane passes its value as 64 bits and reads its source
// lane's: `arg` is the source lane (idx), the distance (up, down) or the lane mask (xor).
enum class WarpOp { sync, shfl_idx, shfl_up, shfl_down, shfl_xor, ballot };
void syncthreads(const char* file, int line);
uint64_t warp_exchange(WarpOp op, unsigned mask, uint64_t value, int arg, int width, const char* file, int line);

// Runs `thread_body` once per thread of the grid, each on its own fiber. `visible` holds every 8-byte word of the
// launch's arguments: the device buffers they point into are the ones the kernel may touch.
void run_grid(const KernelSite& site, const void* kernel, dim3 grid, dim3 block, size_t shared_bytes,
              const std::vector<uintptr_t>& visible, const std::function<void()>& thread_body);

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
  std::vector<uintptr_t> visible;
  std::apply([&](const auto&... p) { (collect_words(p, visible), ...); }, params);
  run_grid(site, reinterpret_cast<const void*>(kernel), grid, block, shared_bytes, visible,
           [&] { std::apply(kernel, params); });
}

}  // namespace erc::sim
