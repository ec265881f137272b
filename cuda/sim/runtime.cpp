// The CUDA runtime calls of cuda/sim/runtime_api.h, served on the host, and the device's error state
// (cuda/sim/device_state.h). Misuse a GPU would report as an error code (a copy whose device side is not device memory,
// a foreign pointer freed) is an erc::Error with the details.
#include <sys/sysinfo.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "cuda/sim/device_memory.h"
#include "cuda/sim/device_state.h"
#include "cuda/sim/limits.h"
#include "cuda/sim/memory_check.h"
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

constexpr int kVersion = 13000;  // the CUDA version the simulated driver and runtime speak

// ---- Errors -------------------------------------------------------------------------------------------------------

struct ErrorState {
  std::mutex mutex;
  cudaError_t last = cudaSuccess;          // a refused launch, until cudaGetLastError
  cudaError_t last_refused = cudaSuccess;  // the last refused launch's error and why, for cudaGetErrorString
  std::string last_what;
  cudaError_t pending = cudaSuccess;  // a fault no synchronising call has reported yet
  cudaError_t sticky = cudaSuccess;   // the fault every call reports from now on
  std::string fault_what;
};
ErrorState& errors() {
  static auto* state = new ErrorState();  // never destroyed: static destructors still call the runtime
  return *state;
}

cudaError_t sticky_error() {
  std::lock_guard<std::mutex> lock(errors().mutex);
  return errors().sticky;
}

// A synchronising call: a pending fault becomes the device's error.
cudaError_t surface() {
  ErrorState& e = errors();
  std::lock_guard<std::mutex> lock(e.mutex);
  if (e.sticky == cudaSuccess) e.sticky = e.pending;
  return e.sticky;
}

// ---- Pinned memory and the copies that wait -----------------------------------------------------------------------

struct Deferred {
  void* dst;
  const void* src;
  size_t bytes;
  bool dst_device, src_device;
};

struct StreamWork {
  std::mutex mutex;
  std::map<uintptr_t, size_t> pinned;  // cudaMallocHost's buffers
  std::deque<Deferred> deferred;       // asynchronous copies with a pinned host side, not yet run
};
StreamWork& work() {
  static auto* w = new StreamWork();
  return *w;
}

bool is_pinned(const void* ptr, size_t bytes) {
  StreamWork& w = work();
  std::lock_guard<std::mutex> lock(w.mutex);
  const uintptr_t p = reinterpret_cast<uintptr_t>(ptr);
  auto it = w.pinned.upper_bound(p);
  if (it == w.pinned.begin()) return false;
  --it;
  return p >= it->first && p + bytes <= it->first + it->second;
}

void copy_now(const Deferred& c) {
  if (device_lost()) return;  // nothing runs on a device that faulted
  std::vector<uintptr_t> sides;
  if (c.dst_device) sides.push_back(reinterpret_cast<uintptr_t>(c.dst));
  if (c.src_device) sides.push_back(reinterpret_cast<uintptr_t>(c.src));
  OpenBuffers open(sides);
  std::memmove(c.dst, c.src, c.bytes);
  if (c.dst_device && c.src_device)
    copy_written(c.dst, c.src, c.bytes);
  else if (c.dst_device)
    mark_written(c.dst, c.bytes);
}

// Runs every copy still waiting: before any later stream operation, and at every synchronisation.
void run_deferred() {
  StreamWork& w = work();
  std::deque<Deferred> due;
  {
    std::lock_guard<std::mutex> lock(w.mutex);
    due.swap(w.deferred);
  }
  for (const Deferred& c : due) copy_now(c);
}

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
            "inside one device buffer in use");
}

Deferred checked_copy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (kind == cudaMemcpyDefault) {
    const bool dst_device = is_device_range(dst, bytes), src_device = is_device_range(src, bytes);
    kind = dst_device ? (src_device ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                      : (src_device ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
  }
  const bool dst_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool src_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  check_side(dst, bytes, dst_device, "the destination", kind);
  check_side(src, bytes, src_device, "the source", kind);
  return {dst, src, bytes, dst_device, src_device};
}

}  // namespace

void launch_refused(cudaError_t error, const std::string& why) {
  std::lock_guard<std::mutex> lock(errors().mutex);
  errors().last = errors().last_refused = error;
  errors().last_what = why;
}

void record_fault(cudaError_t error, const std::string& what) {
  {
    std::lock_guard<std::mutex> lock(errors().mutex);
    if (errors().pending != cudaSuccess) return;  // the first fault is the one a GPU reports
    errors().pending = error;
    errors().fault_what = what;
  }
  std::fprintf(stderr, "erc CUDA simulator: %s\n", what.c_str());
}

void run_waiting_copies() { run_deferred(); }

bool device_lost() {
  std::lock_guard<std::mutex> lock(errors().mutex);
  return errors().pending != cudaSuccess;
}

void forget_device_errors() {
  run_deferred();
  ErrorState& e = errors();
  std::lock_guard<std::mutex> lock(e.mutex);
  e.last = e.last_refused = e.pending = e.sticky = cudaSuccess;
  e.last_what.clear();
  e.fault_what.clear();
}

size_t dynamic_shared_allowed(const void* kernel) {
  std::lock_guard<std::mutex> lock(attribute_mutex);
  auto it = shared_allowances().find(kernel);
  return it == shared_allowances().end() ? device_limits().max_shared_default : it->second;
}

size_t shared_total_allowed(const void* kernel) {
  std::lock_guard<std::mutex> lock(attribute_mutex);
  const bool asked = shared_allowances().count(kernel) && shared_allowances().at(kernel) > 0;
  return asked ? device_limits().max_shared_optin : device_limits().max_shared_default;
}

}  // namespace erc::sim

using erc::sim::device_limits;
using erc::sim::errors;

// Every call but the error queries returns the device's error once a fault has surfaced.
#define ERC_SIM_STICKY()                                                                           \
  do {                                                                                             \
    if (const cudaError_t sticky = erc::sim::sticky_error(); sticky != cudaSuccess) return sticky; \
  } while (0)

cudaError_t cudaDriverGetVersion(int* version) {
  *version = erc::sim::kVersion;
  return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int* version) {
  *version = erc::sim::kVersion;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  ERC_SIM_STICKY();
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

cudaError_t cudaSetDevice(int device) {
  ERC_SIM_STICKY();
  return device == 0 ? cudaSuccess : cudaErrorInvalidDevice;
}

cudaError_t cudaDeviceSynchronize() {
  erc::sim::run_deferred();
  return erc::sim::surface();
}

cudaError_t cudaGetLastError() {
  auto& e = errors();
  std::lock_guard<std::mutex> lock(e.mutex);
  if (e.sticky != cudaSuccess) return e.sticky;
  const cudaError_t last = e.last;
  e.last = cudaSuccess;
  return last;
}

cudaError_t cudaPeekAtLastError() {
  auto& e = errors();
  std::lock_guard<std::mutex> lock(e.mutex);
  return e.sticky != cudaSuccess ? e.sticky : e.last;
}

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorCudartUnloading: return "cudaErrorCudartUnloading";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    case cudaErrorLaunchOutOfResources: return "cudaErrorLaunchOutOfResources";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
  }
  return "cudaErrorUnknown";
}

namespace {
const char* cuda_text(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorCudartUnloading: return "driver shutting down";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInsufficientDriver: return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorLaunchOutOfResources: return "too many resources requested for launch";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
  }
  return "unknown error";
}
}  // namespace

// CUDA's text; for the error the device or the last refused launch holds, followed by the simulator's account.
const char* cudaGetErrorString(cudaError_t error) {
  auto& e = errors();
  std::lock_guard<std::mutex> lock(e.mutex);
  const std::string* what = nullptr;
  if (error != cudaSuccess && (error == e.sticky || error == e.pending) && !e.fault_what.empty())
    what = &e.fault_what;
  else if (error != cudaSuccess && error == e.last_refused && !e.last_what.empty())
    what = &e.last_what;
  if (!what) return cuda_text(error);
  thread_local std::string text;
  text = std::string(cuda_text(error)) + "; CUDA simulator: " + *what;
  return text.c_str();
}

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  *ptr = nullptr;
  if (const cudaError_t e = erc::sim::surface(); e != cudaSuccess) return e;
  if (bytes == 0) return cudaSuccess;
  *ptr = erc::sim::device_allocate(bytes);
  return *ptr ? cudaSuccess : cudaErrorMemoryAllocation;
}

// After a fault a GPU's cudaFree returns the error; the simulator frees the host memory behind it all the same.
cudaError_t cudaFree(void* ptr) {
  erc::sim::run_deferred();
  if (ptr) erc::sim::device_free(ptr);
  return erc::sim::surface();
}

cudaError_t cudaMallocHost(void** ptr, size_t bytes) {
  *ptr = nullptr;
  if (const cudaError_t e = erc::sim::surface(); e != cudaSuccess) return e;
  if (bytes == 0) return cudaSuccess;
  *ptr = std::malloc(bytes);
  if (!*ptr) return cudaErrorMemoryAllocation;
  std::lock_guard<std::mutex> lock(erc::sim::work().mutex);
  erc::sim::work().pinned.emplace(reinterpret_cast<uintptr_t>(*ptr), bytes);
  return cudaSuccess;
}

cudaError_t cudaFreeHost(void* ptr) {
  erc::sim::run_deferred();
  if (!ptr) return erc::sim::surface();
  {
    std::lock_guard<std::mutex> lock(erc::sim::work().mutex);
    ERC_CHECK(erc::sim::work().pinned.erase(reinterpret_cast<uintptr_t>(ptr)) == 1,
              "CUDA simulator: cudaFreeHost of an address that cudaMallocHost did not return");
  }
  std::free(ptr);
  return erc::sim::surface();
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  ERC_SIM_STICKY();
  struct sysinfo info {};
  sysinfo(&info);
  *free_bytes = size_t(info.freeram) * info.mem_unit;
  *total_bytes = size_t(info.totalram) * info.mem_unit;
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  erc::sim::run_deferred();
  if (const cudaError_t e = erc::sim::surface(); e != cudaSuccess) return e;
  if (bytes == 0) return cudaSuccess;
  erc::sim::copy_now(erc::sim::checked_copy(dst, src, bytes, kind));
  return erc::sim::surface();
}

// A copy with a pinned host side waits for the stream's next operation; any other copy a GPU makes synchronous for
// the host (a pageable host side) or runs in order (device to device) runs now.
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
  ERC_SIM_STICKY();
  if (bytes == 0) return cudaSuccess;
  const erc::sim::Deferred copy = erc::sim::checked_copy(dst, src, bytes, kind);
  const bool host_side = !copy.dst_device || !copy.src_device;
  const void* host = copy.dst_device ? src : dst;
  if (host_side && erc::sim::is_pinned(host, bytes)) {
    std::lock_guard<std::mutex> lock(erc::sim::work().mutex);
    erc::sim::work().deferred.push_back(copy);
    return cudaSuccess;
  }
  erc::sim::run_deferred();
  erc::sim::copy_now(copy);
  if (host_side) return erc::sim::surface();  // a pageable host side: the copy synchronises
  return cudaSuccess;
}

cudaError_t cudaMemset(void* ptr, int value, size_t bytes) {
  ERC_SIM_STICKY();
  erc::sim::run_deferred();
  if (bytes == 0) return cudaSuccess;
  ERC_CHECK(erc::sim::is_device_range(ptr, bytes), "CUDA simulator: cudaMemset of ", bytes,
            " bytes that are not inside one device buffer in use");
  if (erc::sim::device_lost()) return cudaSuccess;
  erc::sim::OpenBuffers open({reinterpret_cast<uintptr_t>(ptr)});
  std::memset(ptr, value, bytes);
  erc::sim::mark_written(ptr, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t) { return cudaMemset(ptr, value, bytes); }

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned) {
  ERC_SIM_STICKY();
  *stream = new SimStream;
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  delete stream;
  return erc::sim::sticky_error();
}
cudaError_t cudaStreamSynchronize(cudaStream_t) {
  erc::sim::run_deferred();
  return erc::sim::surface();
}

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  ERC_SIM_STICKY();
  *event = new SimEvent;
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete event;
  return erc::sim::sticky_error();
}
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t) {
  ERC_SIM_STICKY();
  if (!event) return cudaErrorInvalidResourceHandle;
  event->at = std::chrono::steady_clock::now();
  event->recorded = true;
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  if (!event) return cudaErrorInvalidResourceHandle;
  erc::sim::run_deferred();
  return erc::sim::surface();
}
// Polling makes progress: the work before the event runs, as a GPU gets to it eventually.
cudaError_t cudaEventQuery(cudaEvent_t event) {
  if (!event) return cudaErrorInvalidResourceHandle;
  erc::sim::run_deferred();
  return erc::sim::surface();
}
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  ERC_SIM_STICKY();
  if (!start || !end || !start->recorded || !end->recorded) return cudaErrorInvalidResourceHandle;
  *ms = std::chrono::duration<float, std::milli>(end->at - start->at).count();
  return cudaSuccess;
}

cudaError_t cudaFuncSetAttribute(const void* kernel, cudaFuncAttribute attribute, int value) {
  ERC_SIM_STICKY();
  if (attribute != cudaFuncAttributeMaxDynamicSharedMemorySize || value < 0 ||
      size_t(value) > device_limits().max_shared_optin)
    return cudaErrorInvalidValue;
  std::lock_guard<std::mutex> lock(erc::sim::attribute_mutex);
  erc::sim::shared_allowances()[kernel] = size_t(value);
  return cudaSuccess;
}
