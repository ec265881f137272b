#include "io/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace erc {

ProgressLine::ProgressLine(bool enabled) : enabled_(enabled), tty_(isatty(2)) {}

void ProgressLine::show(int64_t done, int64_t total, const std::string& text) {
  if (!enabled_) return;
  const bool end = done >= total;
  const int64_t tenth = total > 0 ? done * 10 / total : 10;
  if (!tty_ && !end && tenth == last_tenth_) return;
  last_tenth_ = tenth;
  if (tty_) {
    std::fprintf(stderr, "\r%s\033[K", text.c_str());  // \033[K clears what a longer earlier line left
    open_ = !end;
    if (end) std::fprintf(stderr, "\n");
  } else {
    std::fprintf(stderr, "%s\n", text.c_str());
  }
}

void ProgressLine::finish_line() {
  if (open_) std::fprintf(stderr, "\n");
  open_ = false;
}

std::string progress_bar(int64_t done, int64_t total, int width) {
  const int filled = total > 0 ? int(int64_t(width) * std::min(done, total) / total) : width;
  return "[" + std::string(size_t(filled), '#') + std::string(size_t(width - filled), '.') + "]";
}

std::string clock_text(double seconds) {
  char text[32];
  const long s = std::lround(seconds);
  if (s >= 3600)
    std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
  return text;
}

double seconds_left(double elapsed, int64_t done, int64_t total) {
  return done > 0 ? elapsed * double(total - done) / double(done) : 0.0;
}

}  // namespace erc
