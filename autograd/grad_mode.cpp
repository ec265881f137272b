#include "autograd/grad_mode.h"

namespace erc {

// Per thread, like PyTorch: a guard on one thread does not switch recording off for another.
static thread_local bool grad_enabled = true;

bool GradMode::enabled() { return grad_enabled; }
void GradMode::set_enabled(bool enabled) { grad_enabled = enabled; }

}  // namespace erc
