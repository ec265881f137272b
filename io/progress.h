// Time and progress for long jobs: a stopwatch, and the one progress line every long-running program prints
// (training, extraction, the corpora).
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace erc {

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
  double ms() const { return 1e3 * seconds(); }
  void restart() { start_ = std::chrono::steady_clock::now(); }

 private:
  std::chrono::steady_clock::time_point start_;
};

// One line on stderr about a job's progress. On a terminal it is redrawn in place at every call; in a log (stderr
// not a terminal) it is printed each time another tenth of the job is done, so that logs stay short. A line left
// without its newline is remembered: finish_line() (say before an error message) ends it.
class ProgressLine {
 public:
  explicit ProgressLine(bool enabled = true);
  ~ProgressLine() { finish_line(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // `text` says where the job is after `done` of `total` units; done == total ends the line.
  void show(int64_t done, int64_t total, const std::string& text);
  void finish_line();
  bool on_terminal() const { return tty_; }

 private:
  bool enabled_, tty_, open_ = false;
  int64_t last_tenth_ = -1;
};

// "[#####...]": `width` characters, done / total of them filled.
std::string progress_bar(int64_t done, int64_t total, int width = 24);
// "2:03" or "1:02:03" for a duration in seconds.
std::string clock_text(double seconds);
// The time left for `total - done` units at the pace so far; 0 before the first unit.
double seconds_left(double elapsed, int64_t done, int64_t total);

}  // namespace erc
