// gradcheck: compares the gradients backward() computes with central finite differences, in float64.
//
// The scalar checked is L = sum(f(inputs) * w) for a fixed random w, so one backward pass checks a full
// vector-Jacobian product and every output element takes part. Each input element x is perturbed to x +- eps and
//   numeric = (L(x + eps) - L(x - eps)) / (2 eps),  |analytic - numeric| <= atol + rtol * |numeric|.
// Central differences have error O(eps^2 f''') from truncation and O(ulp(L) / eps) from rounding; eps = 1e-6 in
// float64 balances the two near 1e-9 relative for smooth ops. Inputs must stay away from kinks (relu at 0, max
// ties, |x| at 0): the caller chooses them so.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace erc {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-7;
  double rtol = 1e-5;
  uint64_t seed = 1234;  // for the weights w
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0;  // over every checked element
  int64_t checked = 0;       // elements compared
  std::string report;        // the first mismatches, naming input and element; empty when ok
};

// `inputs` must be float64 and contiguous; those with requires_grad are checked. `f` must be deterministic
// (dropout: a fixed seed inside f).
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options = {});

}  // namespace erc
