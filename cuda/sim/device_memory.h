// The simulator's device memory: host pages that no host code can touch, so that a missing device dispatch fails
// as it does on a GPU, and that a kernel can touch only inside the buffers it was given, up to their last byte.
//
// Every allocation lies in one reserved range of addresses (the arena), page aligned (cudaMalloc's are 256-byte
// aligned), with an inaccessible guard page after its pages. A page table maps each page of the arena to its buffer,
// so that the memory checker (memory_check.h) finds the buffer of any address a kernel touches in constant time. A
// buffer's pages are PROT_NONE except while a launch or copy that was given it runs, so host code that reads device
// memory faults; the fault is turned into a message that says where the address lies, and the process stops.
//
// A buffer carries what the checks need: its size in use (what cudaMalloc or the caching allocator handed out, which
// may be less than its pages; 0 while the caching allocator holds it free), one shadow byte per byte that says
// whether a copy, memset or kernel wrote it (initcheck), and racecheck's records of each 4-byte word. Fresh and
// reused buffers are poison: 0xff bytes (NaN in every float type), all unwritten, as a GPU gives no zeros.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace erc::sim {

struct WordAccesses;  // memory_check.h

struct DeviceBuffer {
  uintptr_t begin = 0;               // the first byte
  size_t capacity = 0;               // bytes allocated (whole pages follow, then the guard page)
  size_t size = 0;                   // bytes in use from begin; 0 while the caching allocator holds the buffer free
  int open_count = 0;                // launches and copies that may touch it now
  uint8_t* written = nullptr;        // [capacity]: initcheck's shadow
  WordAccesses* accesses = nullptr;  // [capacity / 4, rounded up]: racecheck's shadow
};

void* device_allocate(size_t bytes);  // cudaMalloc: bytes > 0; nullptr when the arena or the host is out of memory
void device_free(void* ptr);          // ptr from device_allocate; anything else is an erc::Error
// The caching allocator hands a buffer out for `bytes` of it (poisoned and unwritten again: a GPU gives the old
// tensor's bytes) and takes it back (an access is then a use after free).
void device_hand_out(void* ptr, size_t bytes);
void device_take_back(void* ptr);

// The buffer whose pages (its guard page included) hold addr, or nullptr. Lock-free: the checker calls it on every
// access a kernel makes to the arena.
DeviceBuffer* device_buffer_at(uintptr_t addr);
// Whether [ptr, ptr + bytes) lies inside one buffer's bytes in use.
bool is_device_range(const void* ptr, size_t bytes);

// Makes the buffers holding the given addresses accessible while it lives. Addresses that are not inside a
// device buffer are ignored, so a launch can pass every 8-byte word of its arguments.
class OpenBuffers {
 public:
  explicit OpenBuffers(const std::vector<uintptr_t>& addresses);
  ~OpenBuffers();
  OpenBuffers(const OpenBuffers&) = delete;
  OpenBuffers& operator=(const OpenBuffers&) = delete;

 private:
  std::vector<DeviceBuffer*> opened_;
};

// The fault handler (SIGSEGV and SIGBUS, on an alternate stack): installed with the first device allocation.
void install_fault_handler();
// Where a fault inside a fiber stack's guard page is reported as a stack overflow.
void register_stack_guard(uintptr_t begin, uintptr_t end);

// The arena's bounds, for in_device_arena's one comparison.
extern uintptr_t arena_begin;
extern size_t arena_bytes;
inline bool in_device_arena(uintptr_t addr) { return addr - arena_begin < arena_bytes; }

}  // namespace erc::sim
