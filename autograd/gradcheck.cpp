#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd/backward.h"
#include "autograd/grad_mode.h"
#include "tensor/random.h"

namespace erc {

// sum(y * w), in double, over y's (possibly strided) elements.
static double weighted_sum(const Tensor& y, const Tensor& w) {
  ERC_CHECK(y.dtype() == DType::f64 && y.device() == Device::cpu, "gradcheck: f must return a f64 CPU tensor, got ",
            dtype_name(y.dtype()), " on ", device_name(y.device()));
  const double* base = y.data<double>();
  const double* wp = w.data<double>();
  double total = 0;
  for_each_offset(y.shape(), y.strides(), 0, [&](int64_t i, int64_t off) { total += base[off] * wp[i]; });
  return total;
}

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options) {
  for (const Tensor& x : inputs)
    if (x.defined() && x.requires_grad())
      ERC_CHECK(x.dtype() == DType::f64 && x.is_contiguous() && x.is_leaf() && x.device() == Device::cpu,
                "gradcheck: inputs that require grad must be contiguous f64 CPU leaves (finite differences ",
                "perturb them on the host)");

  // Analytic: one backward pass with grad_output = w.
  zero_grad(inputs);
  Tensor y = f(inputs);
  Generator gen(options.seed);
  Tensor w = randn(y.shape(), gen, DType::f64);
  backward(y, w);

  GradcheckResult result;
  std::ostringstream report;
  int mismatches = 0;
  NoGradGuard no_grad;
  for (size_t k = 0; k < inputs.size(); ++k) {
    Tensor x = inputs[k];
    if (!x.defined() || !x.requires_grad()) continue;
    Tensor grad = x.grad();
    double* xp = x.data<double>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      const double saved = xp[i];
      xp[i] = saved + options.eps;
      const double plus = weighted_sum(f(inputs), w);
      xp[i] = saved - options.eps;
      const double minus = weighted_sum(f(inputs), w);
      xp[i] = saved;
      const double numeric = (plus - minus) / (2 * options.eps);
      const double analytic = grad.defined() ? grad.data<double>()[i] : 0.0;
      const double err = std::fabs(analytic - numeric);
      result.max_abs_error = std::max(result.max_abs_error, err);
      ++result.checked;
      if (!(err <= options.atol + options.rtol * std::fabs(numeric))) {  // NaN fails too
        result.ok = false;
        if (mismatches++ < 8)
          report << "  input " << k << " " << shape_str(x.shape()) << " element " << i << ": analytic " << analytic
                 << ", numeric " << numeric << ", |diff| " << err << "\n";
      }
    }
  }
  if (!result.ok) result.report = "gradcheck: " + std::to_string(mismatches) + " mismatches\n" + report.str();
  return result;
}

}  // namespace erc
