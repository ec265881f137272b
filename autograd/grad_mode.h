// Whether ops record the graph. Off inside backward() and under a NoGradGuard (evaluation, optimiser steps).
#pragma once

namespace erc {

struct GradMode {
  static bool enabled();
  static void set_enabled(bool enabled);
};

// RAII: no op records a Node while it lives; the previous mode comes back when it dies.
class NoGradGuard {
 public:
  NoGradGuard() : previous_(GradMode::enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace erc
