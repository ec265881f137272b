// Which vector instruction set the CPU fast paths use (today the selective scan's: ops/selective_scan_avx2.cpp and
// ops/selective_scan_avx512.cpp). The build stays portable (x86-64 baseline flags everywhere); only those files are
// compiled for a wider ISA, and nothing calls into them unless the CPU running the program has it.
#pragma once

namespace erc::ops {

// `baseline` runs the plain reference loops, which every fast path is tested against.
enum class CpuIsa { baseline, avx2, avx512 };

const char* cpu_isa_name(CpuIsa isa);

// Whether this build has a fast path for `isa` and this CPU can run it (baseline: always).
bool cpu_isa_available(CpuIsa isa);

// The ISA in use: the environment variable ERC_CPU_ISA (baseline, avx2 or avx512) when set, else the widest
// available one. An ERC_CPU_ISA this build or CPU cannot honour is an error naming what is available.
CpuIsa cpu_isa();

// For tests and benchmarks: use `isa` until the guard goes out of scope (an error if it is not available).
class CpuIsaGuard {
 public:
  explicit CpuIsaGuard(CpuIsa isa);
  ~CpuIsaGuard();
  CpuIsaGuard(const CpuIsaGuard&) = delete;
  CpuIsaGuard& operator=(const CpuIsaGuard&) = delete;

 private:
  CpuIsa previous_;
};

}  // namespace erc::ops
