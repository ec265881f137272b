// The simulator's device memory: host pages that no host code can touch, so that a missing device dispatch fails
// as it does on a GPU, and that a kernel can touch only in the buffers it was given.
//
// Each allocation gets its own mapping, with its last byte at the end of a page and an inaccessible guard page
// after it, so that reading one element past the end faults (electric-fence style). The mapping is PROT_NONE except
// while a launch or a copy that was given the buffer runs. The price of the exact end: a buffer is aligned only to
// the largest power of two that divides its size (up to a page), not to cudaMalloc's 256 bytes. A fault is turned
// into a message that names the kernel, the block and thread, and where the address lies relative to the nearest
// buffer, and the process stops, as a GPU context does after an illegal address.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace erc::sim {

void* device_allocate(size_t bytes);  // bytes > 0; nullptr when the host is out of memory
void device_free(void* ptr);          // ptr from device_allocate; anything else is an erc::Error

// Whether [ptr, ptr + bytes) lies inside one device allocation.
bool is_device_range(const void* ptr, size_t bytes);

// Makes the allocations holding the given addresses accessible while it lives. Addresses that are not inside a
// device allocation are ignored, so a launch can pass every 8-byte word of its arguments.
class OpenBuffers {
 public:
  explicit OpenBuffers(const std::vector<uintptr_t>& addresses);
  ~OpenBuffers();
  OpenBuffers(const OpenBuffers&) = delete;
  OpenBuffers& operator=(const OpenBuffers&) = delete;

 private:
  std::vector<uintptr_t> opened_;  // the allocations' start addresses
};

// The fault handler (SIGSEGV and SIGBUS, on an alternate stack): installed with the first device allocation.
void install_fault_handler();
// Where a fault inside a fiber stack's guard page is reported as a stack overflow.
void register_stack_guard(uintptr_t begin, uintptr_t end);

}  // namespace erc::sim
