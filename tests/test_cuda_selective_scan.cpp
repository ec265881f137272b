// The selective scan's CUDA kernels against the naive scan (ops/selective_scan_naive.h), the reference every form of
// the scan meets: a packed batch with a 1-frame sequence and sequences around the device's 32-frame chunks, in
// float64 (the order of operations: the bound of the CPU forms) and float32 (float32's rounding). The op registry
// compares the kernels with the CPU loops as well, gradients included (test_cuda_ops).
// Runs on the simulator in a SIM build and on the GPU in a CUDA build with one; skips, saying why, without one.
#include <cstdio>
#include <cstdlib>

#include "autograd/grad_mode.h"
#include "cuda_test_util.h"
#include "ops/selective_scan.h"
#include "ops/selective_scan_naive.h"

using namespace erc;

namespace {

class CudaSelectiveScan : public test::CudaTest {};

TEST_F(CudaSelectiveScan, KernelsGiveTheNaiveScansOutput) {
  NoGradGuard no_grad;
  const ops::SeqOffsets packed{0, 1, 32, 65, 100};
  const int64_t T = 100, E = 6, N = 4;
  std::vector<Tensor> in;
  const Shape shapes[] = {{T, E}, {T, E}, {E, N}, {T, N}, {T, N}, {E}, {T, E}, {E}};
  for (size_t i = 0; i < 8; ++i)
    in.push_back(i == 2 ? test::random_tensor(shapes[i], 90 + i, -2.0, -0.5) : test::random_tensor(shapes[i], 90 + i));
  const Tensor want = ops::selective_scan_naive(in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], packed);
  for (DType dtype : {DType::f64, DType::f32}) {
    std::vector<Tensor> d;
    for (const Tensor& t : in) d.push_back(t.to(dtype).to(Device::cuda));
    const Tensor got = ops::selective_scan(d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], packed);
    const ::testing::AssertionResult close =
        test::relative_error_below(got, want, dtype == DType::f64 ? 1e-15 : 5e-7);
    EXPECT_TRUE(close) << dtype_name(dtype);
    if (std::getenv("ERC_PRINT_ERRORS")) std::printf("ERRORS naive scan cuda %s %s\n", dtype_name(dtype), close.message());
  }
}

}  // namespace
