#include "autograd/checkpoint.h"

#include "autograd/backward.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"

namespace erc {

namespace {

struct RecordingOn {
  const bool previous = GradMode::enabled();
  RecordingOn() { GradMode::set_enabled(true); }
  ~RecordingOn() { GradMode::set_enabled(previous); }
};

struct CheckpointNode : autograd::Node {
  std::function<Tensor(const Tensor&)> f;
  Tensor x;  // detached
  const char* name() const override { return "checkpoint"; }
  std::vector<Tensor> backward(const Tensor& grad_output) override {
    Tensor input = x.detach();
    input.set_requires_grad(true);
    Tensor output;
    {
      const RecordingOn recording;  // backward() runs with recording off
      output = f(input);
    }
    ERC_CHECK(output.requires_grad(), "checkpoint: the rerun of f does not depend on its input or any parameter");
    erc::backward(output, grad_output);
    return {input.grad()};
  }
};

}  // namespace

Tensor checkpoint(const std::function<Tensor(const Tensor&)>& f, const Tensor& x) {
  const bool record = GradMode::enabled();
  Tensor y;
  {
    NoGradGuard no_grad;
    y = f(x);
  }
  if (!record) return y;
  auto node = std::make_shared<CheckpointNode>();
  node->f = f;
  node->x = x.detach();
  return autograd::record(y, node, {x});
}

}  // namespace erc
