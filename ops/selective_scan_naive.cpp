#include "ops/selective_scan_naive.h"

#include <cmath>
#include <vector>

namespace erc::ops {

Tensor selective_scan_naive(const Tensor& u, const Tensor& delta, const Tensor& A, const Tensor& B, const Tensor& C,
                            const Tensor& D, const Tensor& z, const Tensor& delta_bias, const SeqOffsets& seq_offsets) {
  auto f64 = [](const Tensor& t) { return t.detach().to(Device::cpu).to(DType::f64).contiguous(); };
  const Tensor u_ = f64(u), delta_ = f64(delta), A_ = f64(A), B_ = f64(B), C_ = f64(C), D_ = f64(D), z_ = f64(z),
               bias_ = f64(delta_bias);
  const int64_t T = u.size(0), E = A.size(0), N = A.size(1);
  ERC_CHECK(seq_offsets.size() >= 2 && seq_offsets.front() == 0 && seq_offsets.back() == T,
            "selective_scan_naive: sequence offsets must run from 0 to T = ", T);
  // x(t, i) reads row t, column i of a [rows, cols] matrix.
  auto at = [](const Tensor& x, int64_t t, int64_t i) { return x.data<double>()[t * x.size(-1) + i]; };
  Tensor out = Tensor::zeros({T, E}, DType::f64);
  double* y = out.data<double>();
  for (size_t s = 0; s + 1 < seq_offsets.size(); ++s)
    for (int64_t e = 0; e < E; ++e) {
      std::vector<double> h(size_t(N), 0.0);  // each sequence starts from the zero state
      for (int64_t t = seq_offsets[s]; t < seq_offsets[s + 1]; ++t) {
        const double x = at(delta_, t, e) + at(bias_, 0, e);
        const double dt = x > 20 ? x : std::log1p(std::exp(x));  // softplus, threshold 20 as torch's
        double sum = at(D_, 0, e) * at(u_, t, e);                 // the D skip
        for (int64_t n = 0; n < N; ++n) {
          h[n] = std::exp(dt * at(A_, e, n)) * h[n] + dt * at(B_, t, n) * at(u_, t, e);
          sum += at(C_, t, n) * h[n];
        }
        const double gate = at(z_, t, e);
        y[t * E + e] = sum * gate / (1 + std::exp(-gate));  // times SiLU(z)
      }
    }
  return out;
}

}  // namespace erc::ops
