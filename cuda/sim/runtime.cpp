// The CUDA runtime calls of cuda/sim/runtime_api.h, served on the host. Misuse a GPU would report as an error code
// (a copy whose device side is not device memory, a foreign pointer freed) is an erc::Error with the details.
#include <sys/sysinfo.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

#include "cuda/sim/device_memory.h"
#include "cuda/sim/limits.h"
#include "cuda/sim/runtime_api.h"
#include "tensor/check.h"

struct SimStream {};
struct SimEvent {
  std::chrono::steady_clock::time_point at;
  bool recorded = false;
};

namespace erc::sim {

const DeviceLimits& device_limits() {
  static const DeviceLimits limits;
  return limits;
}

namespace {
std::mutex attribute_mutex;
std::map<const void*, size_t>& shared_allowances() {
  static std::map<const void*, size_t> allowances;
  return allowances;
}

// Whether each side of a copy is the memory its kind says, and so whether the device sides must be opened.
void check_side(const void* ptr, size_t bytes, bool device, const char* side, cudaMemcpyKind kind) {
  const bool is_device = is_device_range(ptr, bytes);
  ERC_CHECK(is_device == device, "CUDA simulator: cudaMemcpy kind ", int(kind), " expects ", side, " to be ",
            device ? "" : "not ", "device memory, and ", bytes, " bytes at it are ", is_device ? "" : "not ",
            "inside one device allocation");
}
}  // namespace

size_t dynamic_shared_allowed(const void* kernel) {
  std::lock_guard<std::mutex> lock(attribute_mutex);
  auto it = shared_allowances().find(kernel);
  return it == shared_allowances().end() ? device_limits().max_shared_default : it->second;
}

}  // namespace erc::sim

using erc::sim::device_limits;

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device != 0) return cudaErrorInvalidDevice;
  const auto& l = device_limits();
  *prop = {};
  std::snprintf(prop->name, sizeof prop->name, "erc CUDA simulator (sm_%d%d limits, on the CPU)", l.major, l.minor);
  struct sysinfo info {};
  sysinfo(&info);
  prop->totalGlobalMem = size_t(info.totalram) * info.mem_unit;
  prop->sharedMemPerBlock = l.max_shared_default;
  prop->sharedMemPerBlockOptin = l.max_shared_optin;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = int(l.max_threads_per_block);
  for (int d = 0; d < 3; ++d) prop->maxThreadsDim[d] = int(l.max_block[d]), prop->maxGridSize[d] = int(l.max_grid[d]);
  prop->major = l.major;
  prop->minor = l.minor;
  prop->multiProcessorCount = l.multiprocessors;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : cudaErrorInvalidDevice; }
cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
// Launch errors are thrown at the launch, naming the kernel, so none is ever pending.
cudaError_t cudaGetLastError() { return cudaSuccess; }
cudaError_t cudaPeekAtLastError() { return cudaSuccess; }

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
  }
  return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
  }
  return "unknown error";
}

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  *ptr = nullptr;
  if (bytes == 0) return cudaSuccess;
  *ptr = erc::sim::device_allocate(bytes);
  return *ptr ? cudaSuccess : cudaErrorMemoryAllocation;
}

cudaError_t cudaFree(void* ptr) {
  if (ptr) erc::sim::device_free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  struct sysinfo info {};
  sysinfo(&info);
  *free_bytes = size_t(info.freeram) * info.mem_unit;
  *total_bytes = size_t(info.totalram) * info.mem_unit;
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (bytes == 0) return cudaSuccess;
  if (kind == cudaMemcpyDefault) {
    const bool dst_device = erc::sim::is_device_range(dst, bytes), src_device = erc::sim::is_device_range(src, bytes);
    kind = dst_device ? (src_device ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                      : (src_device ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
  }
  const bool dst_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool src_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  erc::sim::check_side(dst, bytes, dst_device, "the destination", kind);
  erc::sim::check_side(src, bytes, src_device, "the source", kind);
  std::vector<uintptr_t> sides;
  if (dst_device) sides.push_back(reinterpret_cast<uintptr_t>(dst));
  if (src_device) sides.push_back(reinterpret_cast<uintptr_t>(src));
  erc::sim::OpenBuffers open(sides);
  std::memmove(dst, src, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
  return cudaMemcpy(dst, src, bytes, kind);
}

cudaError_t cudaMemset(void* ptr, int value, size_t bytes) {
  if (bytes == 0) return cudaSuccess;
  ERC_CHECK(erc::sim::is_device_range(ptr, bytes), "CUDA simulator: cudaMemset of ", bytes,
            " bytes that are not inside one device allocation");
  erc::sim::OpenBuffers open({reinterpret_cast<uintptr_t>(ptr)});
  std::memset(ptr, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t) { return cudaMemset(ptr, value, bytes); }

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned) {
  *stream = new SimStream;
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  delete stream;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  *event = new SimEvent;
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete event;
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t) {
  if (!event) return cudaErrorInvalidResourceHandle;
  event->at = std::chrono::steady_clock::now();
  event->recorded = true;
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t event) { return event ? cudaSuccess : cudaErrorInvalidResourceHandle; }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!start || !end || !start->recorded || !end->recorded) return cudaErrorInvalidResourceHandle;
  *ms = std::chrono::duration<float, std::milli>(end->at - start->at).count();
  return cudaSuccess;
}

cudaError_t cudaFuncSetAttribute(const void* kernel, cudaFuncAttribute attribute, int value) {
  if (attribute != cudaFuncAttributeMaxDynamicSharedMemorySize || value < 0 ||
      size_t(value) > device_limits().max_shared_optin)
    return cudaErrorInvalidValue;
  std::lock_guard<std::mutex> lock(erc::sim::attribute_mutex);
  erc::sim::shared_allowances()[kernel] = size_t(value);
  return cudaSuccess;
}
