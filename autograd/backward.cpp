#include "autograd/backward.h"

#include <unordered_map>
#include <unordered_set>

#include "autograd/grad_mode.h"
#include "autograd/node.h"

namespace erc {

// Whether nothing but this handle can see t's memory, which then may be added into in place.
static bool sole_owner(const Tensor& t) {
  return t.impl_ptr().use_count() == 1 && t.impl().storage.use_count() == 1 && !t.requires_grad();
}

// Adds `g` to a gradient slot; the sum is made with Tensor::add_ (on the slot's device: autograd sits below ops/).
// A node's pending gradient (`leaf` false) is read by that node's backward and nothing else, and nothing writes into
// a gradient once made: the first one is kept as it is even when other tensors share its memory (a residual add
// hands one gradient to both of its inputs), as long as it is contiguous from its start, as every backward may
// assume. A later one is added in place only into a slot that nothing else can see, and otherwise into a copy. A
// leaf's .grad is the caller's to read and keep, so it always owns its memory.
static void accumulate(Tensor& slot, Tensor&& g, bool leaf) {
  if (slot.defined()) {
    if (!leaf && !sole_owner(slot)) slot = slot.detach().clone();
    slot.add_(g);
    return;
  }
  const bool as_it_is = g.is_contiguous() && g.offset() == 0 && !g.requires_grad() && (!leaf || sole_owner(g));
  slot = as_it_is ? std::move(g) : g.detach().clone();
}

// Nodes in an order where every node comes before the nodes of its inputs (reverse post-order of a DFS).
static std::vector<autograd::Node*> topological_order(autograd::Node* root) {
  std::vector<autograd::Node*> post;
  std::unordered_set<autograd::Node*> visited{root};
  std::vector<std::pair<autograd::Node*, size_t>> stack{{root, 0}};  // iterative: deep graphs must not overflow
  while (!stack.empty()) {
    auto& [node, next_edge] = stack.back();
    if (next_edge < node->next.size()) {
      autograd::Node* child = node->next[next_edge++].node.get();
      if (child && visited.insert(child).second) stack.push_back({child, 0});
    } else {
      post.push_back(node);
      stack.pop_back();
    }
  }
  return {post.rbegin(), post.rend()};
}

void backward(const Tensor& root, const Tensor& grad_output) {
  ERC_CHECK(root.requires_grad(), "backward: the tensor does not require grad (no input that requires grad ",
            "reached it, or it was computed under NoGradGuard)");
  Tensor seed = grad_output;
  if (!seed.defined()) {
    ERC_CHECK(root.numel() == 1, "backward: the output has shape ", shape_str(root.shape()),
              "; only a one-element output gets an implicit gradient of 1: pass grad_output");
    seed = Tensor::full(root.shape(), 1.0, root.dtype(), root.device());
  }
  ERC_CHECK(seed.shape() == root.shape() && seed.dtype() == root.dtype() && seed.device() == root.device(),
            "backward: grad_output is ", shape_str(seed.shape()), " ", dtype_name(seed.dtype()), " on ",
            device_name(seed.device()), ", the output ", shape_str(root.shape()), " ", dtype_name(root.dtype()), " on ",
            device_name(root.device()));
  NoGradGuard no_grad;
  if (root.is_leaf()) {
    Tensor g = root.grad();
    accumulate(g, std::move(seed), /*leaf=*/true);
    root.impl().grad = g.impl_ptr();
    return;
  }

  std::unordered_map<autograd::Node*, Tensor> pending;  // gradients waiting for their node
  pending[root.grad_fn().get()] = seed;
  for (autograd::Node* node : topological_order(root.grad_fn().get())) {
    auto it = pending.find(node);
    if (it == pending.end()) continue;  // no gradient reached this node
    Tensor g = std::move(it->second);
    pending.erase(it);
    ERC_CHECK(g.shape() == node->output_shape, node->name(), ": received a gradient of shape ", shape_str(g.shape()),
              " for an output of shape ", shape_str(node->output_shape));
    std::vector<Tensor> grads = node->backward(g);
    ERC_CHECK(grads.size() == node->next.size(), node->name(), ": backward returned ", grads.size(),
              " gradients for ", node->next.size(), " inputs");
    for (size_t i = 0; i < grads.size(); ++i) {
      const autograd::Edge& edge = node->next[i];
      if (!edge.needed() || !grads[i].defined()) continue;
      if (edge.node) {
        accumulate(pending[edge.node.get()], std::move(grads[i]), /*leaf=*/false);
      } else {
        ERC_CHECK(grads[i].shape() == edge.leaf->shape && grads[i].device() == edge.leaf->storage->device, node->name(),
                  ": gradient ", shape_str(grads[i].shape()), " on ", device_name(grads[i].device()), " for input ", i,
                  " ", shape_str(edge.leaf->shape), " on ", device_name(edge.leaf->storage->device));
        Tensor leaf_grad(edge.leaf->grad);
        accumulate(leaf_grad, std::move(grads[i]), /*leaf=*/true);
        edge.leaf->grad = leaf_grad.impl_ptr();
      }
    }
  }
}

void zero_grad(const std::vector<Tensor>& params) {
  for (const Tensor& p : params) p.impl().grad.reset();
}

}  // namespace erc
