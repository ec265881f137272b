// The define-by-run graph: every op whose inputs require grad records a Node on its output.
//
// Ownership runs from outputs to inputs only: an output's TensorImpl owns its Node, a Node owns the Nodes of its
// inputs (through Edges) and the tensors it saved for backward. A Node must therefore save its own output as
// `y.detach()`, never `y` itself, or the output would own itself and never be freed.
#pragma once
#include <initializer_list>
#include <memory>
#include <vector>

#include "tensor/tensor.h"

namespace erc::autograd {

struct Node;

// Where one input's gradient goes: into the Node that made the input, or into a leaf's .grad, or nowhere.
struct Edge {
  std::shared_ptr<Node> node;
  std::shared_ptr<TensorImpl> leaf;
  bool needed() const { return node != nullptr || leaf != nullptr; }
};

struct Node {
  virtual ~Node() = default;
  virtual const char* name() const = 0;
  // Given dL/d(output) (the output's shape), returns dL/d(input) for each input in the order the op took them;
  // an undefined Tensor where the input needs no gradient. Runs with gradient recording off.
  virtual std::vector<Tensor> backward(const Tensor& grad_output) = 0;

  bool needs_input_grad(size_t i) const { return i < next.size() && next[i].needed(); }

  std::vector<Edge> next;  // one per input
  Shape output_shape;      // checked against the incoming gradient
};

// True when gradient recording is on and any of the inputs requires grad: then the op must record a Node.
bool needs_grad(std::initializer_list<Tensor> inputs);
bool needs_grad(const std::vector<Tensor>& inputs);

// Links `output` to `node` and `node` to the inputs; returns `output`, now requiring grad.
Tensor record(Tensor output, std::shared_ptr<Node> node, const std::vector<Tensor>& inputs);

}  // namespace erc::autograd
