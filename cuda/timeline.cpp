#include "cuda/timeline.h"

#include <algorithm>
#include <map>

#include "cuda/stream.h"
#include "tensor/check.h"

namespace erc::cuda {

namespace {
KernelTimeline* active = nullptr;
}  // namespace

KernelTimeline::KernelTimeline() {
  ERC_CHECK(active == nullptr, "KernelTimeline: another timeline is already recording");
  active = this;
}

KernelTimeline::~KernelTimeline() { active = nullptr; }

bool KernelTimeline::recording() { return active != nullptr; }

void KernelTimeline::begin(const char* kernel) {
  Span span{kernel, std::make_unique<Event>(), std::make_unique<Event>()};
  span.start->record();
  active->spans_.push_back(std::move(span));
}

void KernelTimeline::end() { active->spans_.back().end->record(); }

std::vector<KernelTimeline::Kernel> KernelTimeline::kernels() const {
  std::map<std::string, Kernel> by_name;
  for (const Span& span : spans_) {
    Kernel& k = by_name[span.kernel];
    k.name = span.kernel;
    ++k.launches;
    k.ms += elapsed_ms(*span.start, *span.end);
  }
  std::vector<Kernel> out;
  for (auto& [name, k] : by_name) out.push_back(k);
  std::stable_sort(out.begin(), out.end(), [](const Kernel& a, const Kernel& b) { return a.ms > b.ms; });
  return out;
}

}  // namespace erc::cuda
