#include "ops/cpu_isa.h"

#include <atomic>
#include <cstdlib>
#include <string>

#include "tensor/check.h"

namespace erc::ops {

namespace {

constexpr CpuIsa kEveryIsa[] = {CpuIsa::baseline, CpuIsa::avx2, CpuIsa::avx512};

// -1 until the first cpu_isa() reads ERC_CPU_ISA (or a guard sets it).
std::atomic<int> chosen{-1};

bool cpu_has(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::baseline: return true;
    case CpuIsa::avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case CpuIsa::avx512: return __builtin_cpu_supports("avx512f");
  }
  return false;
}

bool built_with(CpuIsa isa) {
#ifdef ERC_HAVE_SLEEF
  (void)isa;
  return true;
#else
  return isa == CpuIsa::baseline;
#endif
}

std::string available_list() {
  std::string list;
  for (CpuIsa isa : kEveryIsa)
    if (cpu_isa_available(isa)) list += std::string(list.empty() ? "" : ", ") + cpu_isa_name(isa);
  return list;
}

void check_available(CpuIsa isa, const char* whence) {
  ERC_CHECK(cpu_isa_available(isa), whence, ": ", cpu_isa_name(isa), " is not available (",
            built_with(isa) ? "this CPU lacks it" : "erc was built without SLEEF", "); available: ", available_list());
}

CpuIsa from_environment() {
  const char* value = std::getenv("ERC_CPU_ISA");
  if (value == nullptr || *value == '\0') {
    CpuIsa widest = CpuIsa::baseline;
    for (CpuIsa isa : kEveryIsa)
      if (cpu_isa_available(isa)) widest = isa;
    return widest;
  }
  for (CpuIsa isa : kEveryIsa) {
    if (std::string(value) != cpu_isa_name(isa)) continue;
    check_available(isa, "ERC_CPU_ISA");
    return isa;
  }
  ERC_CHECK(false, "ERC_CPU_ISA must be baseline, avx2 or avx512, got '", value, "'");
  return CpuIsa::baseline;
}

}  // namespace

const char* cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::baseline: return "baseline";
    case CpuIsa::avx2: return "avx2";
    case CpuIsa::avx512: return "avx512";
  }
  return "?";
}

bool cpu_isa_available(CpuIsa isa) { return built_with(isa) && cpu_has(isa); }

CpuIsa cpu_isa() {
  int isa = chosen.load(std::memory_order_relaxed);
  if (isa < 0) {
    isa = int(from_environment());
    chosen.store(isa, std::memory_order_relaxed);
  }
  return CpuIsa(isa);
}

CpuIsaGuard::CpuIsaGuard(CpuIsa isa) : previous_(cpu_isa()) {
  check_available(isa, "CpuIsaGuard");
  chosen.store(int(isa), std::memory_order_relaxed);
}

CpuIsaGuard::~CpuIsaGuard() { chosen.store(int(previous_), std::memory_order_relaxed); }

}  // namespace erc::ops
