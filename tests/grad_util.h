// Gradient checks as a GoogleTest assertion (autograd/gradcheck.h).
#pragma once
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "autograd/gradcheck.h"

namespace erc::test {

inline ::testing::AssertionResult gradcheck_ok(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                                               const std::vector<Tensor>& inputs, GradcheckOptions options = {}) {
  GradcheckResult r = gradcheck(f, inputs, options);
  if (r.ok && r.checked > 0)
    return ::testing::AssertionSuccess() << r.checked << " elements, max |diff| " << r.max_abs_error;
  if (r.checked == 0) return ::testing::AssertionFailure() << "gradcheck compared no element (no input requires grad)";
  return ::testing::AssertionFailure() << r.report;
}

}  // namespace erc::test
