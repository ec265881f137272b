// What the benchmarks share: the process's peak memory, the median of repeated timings and OpenBLAS's thread count
// (wall-clock time is io/progress.h's Stopwatch).
#pragma once
#include <sys/resource.h>

#include <algorithm>
#include <vector>

extern "C" int openblas_get_num_threads(void);
extern "C" void openblas_set_num_threads(int);

namespace erc::bench {

inline double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

}  // namespace erc::bench
