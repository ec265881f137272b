// The simulator's memory checker: what NVIDIA's compute-sanitizer does on a GPU (memcheck, initcheck, racecheck),
// done on every simulated access, deterministically.
//
// A SIM build compiles the .cu files with GCC's ThreadSanitizer instrumentation (-fsanitize=thread: every load and
// store of n bytes calls __tsan_readn / __tsan_writen first; every one, where ASan's checks skip a store to an address
// a load of it just checked), without ThreadSanitizer's runtime: memory_check.cpp defines those callbacks (in an ASan
// build it also passes each access on to ASan's own check).
// Inside a kernel, an access to the device arena or to the block's shared memory is checked:
// - memcheck: inside a buffer's bytes in use, of a buffer the launch was given, not freed; inside the shared memory
//   the block has (dynamic, then static);
// - initcheck: every byte read was written since the buffer was handed out (by a copy, a memset or a kernel), or
//   since the block began (shared memory);
// - racecheck: two threads touching one word, one of them writing, with nothing ordering them: a __syncthreads
//   (threads of one block), a __syncwarp of the whole warp (lanes of one warp), or the end of the launch (blocks of
//   one grid: nothing else orders them). Atomics race only with plain accesses. Every word keeps its last write and
//   up to two reads since then, each with the thread, the source line and the barrier counts at the time, so a
//   hazard is found whichever of the two accesses the schedule ran first.
// A finding stops the kernel as a GPU's fault would: the launch records the error (cudaErrorIllegalAddress for
// memcheck, cudaErrorLaunchFailure for the other two), which surfaces at the next synchronising call with the
// finding's text, naming the kernel, the block, the thread, the buffer and offset, and each access's source line.
#pragma once
#include <cstddef>
#include <cstdint>

namespace erc::sim {

// One access to a word. `epoch` says which launch (device memory) or block run (shared memory) made it: a record
// of an earlier one is empty.
struct AccessRecord {
  uint32_t epoch = 0;
  uint32_t block = 0;       // linear index in the grid
  uint32_t barriers = 0;    // the block's __syncthreads count at the access
  uint32_t warp_syncs = 0;  // the warp's whole-warp __syncwarp count at the access
  uint32_t site = 0;        // the access's code address, as an offset (symbolize.h)
  uint16_t thread = 0;      // linear index in the block
  uint8_t bytes = 0;        // which of the word's 4 bytes (a bit each)
  uint8_t kind = 0;         // AccessKind
};
struct WordAccesses {
  AccessRecord write;
  AccessRecord reads[2];
};

enum class AccessKind : uint8_t { read = 1, write = 2, atomic = 3 };

// How much is checked: memcheck alone, or memcheck, initcheck and racecheck (the default). ERC_SIM_CHECK=memcheck
// or all sets the process's default: a full-size profile in the simulator needs the first (racecheck's records take
// 18 bytes per byte touched).
enum class Checks { memcheck, all };
void set_checks(Checks checks);
Checks checks();

// The atomics of kernel_language.h announce their access here before they make it.
void check_atomic(const void* address, size_t bytes);

// The cuBLAS stand-in's reads and writes of device memory (outside a kernel: memcheck and initcheck). A finding
// makes the GEMM fail as a faulting kernel does.
bool library_reads(const void* ptr, size_t bytes, const char* what);
void library_writes(void* ptr, size_t bytes);

// What copies and memsets write: bytes, and a device-to-device copy's initcheck shadow.
void mark_written(const void* device_ptr, size_t bytes);
void copy_written(void* device_dst, const void* device_src, size_t bytes);

}  // namespace erc::sim
