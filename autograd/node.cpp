#include "autograd/node.h"

#include "autograd/grad_mode.h"

namespace erc::autograd {

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!GradMode::enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

bool needs_grad(std::initializer_list<Tensor> inputs) { return needs_grad(std::vector<Tensor>(inputs)); }

Tensor record(Tensor output, std::shared_ptr<Node> node, const std::vector<Tensor>& inputs) {
  node->next.clear();
  for (const Tensor& t : inputs) {
    Edge e;
    if (t.defined() && t.requires_grad()) {
      if (t.is_leaf()) e.leaf = t.impl_ptr();
      else e.node = t.grad_fn();
    }
    node->next.push_back(std::move(e));
  }
  node->output_shape = output.shape();
  TensorImpl& impl = output.impl();
  impl.requires_grad = true;
  impl.grad_fn = std::move(node);
  return output;
}

}  // namespace erc::autograd
