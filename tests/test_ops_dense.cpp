// Gradient checks, layout independence, determinism and misuse for ops/matmul, ops/layer_norm, ops/index and
// ops/join.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "autograd/backward.h"
#include "fast_path_util.h"
#include "grad_util.h"
#include "ops/blas.h"
#include "ops/index.h"
#include "ops/join.h"
#include "ops/layer_norm.h"
#include "ops/matmul.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "test_util.h"

using namespace erc;
using erc::test::allclose;
using erc::test::available_isas;
using erc::test::error_of;
using erc::test::gradcheck_ok;
using erc::test::leaf;
using erc::test::mentions;
using erc::test::random_tensor;
using erc::test::scaled_error;
using Inputs = std::vector<Tensor>;

static Tensor i64(const std::vector<int64_t>& v, const Shape& shape) { return Tensor::from_vector<int64_t>(v, shape); }

#define EXPECT_MENTIONS(message, part) EXPECT_NE((message).find(part), std::string::npos) << (message)

TEST(Gradcheck, Matmul) {
  EXPECT_TRUE(
      gradcheck_ok([](const Inputs& in) { return ops::matmul(in[0], in[1]); }, {leaf({3, 4}, 1), leaf({4, 5}, 2)}));
}

TEST(Gradcheck, MatmulTransposedOperands) {  // BLAS reads the transposes through flags, forward and backward
  EXPECT_TRUE(gradcheck_ok(
      [](const Inputs& in) { return ops::matmul(ops::transpose(in[0], 0, 1), ops::transpose(in[1], 0, 1)); },
      {leaf({4, 3}, 3), leaf({5, 4}, 4)}));
}

TEST(Gradcheck, Bmm) {
  EXPECT_TRUE(
      gradcheck_ok([](const Inputs& in) { return ops::bmm(in[0], in[1]); }, {leaf({2, 3, 4}, 5), leaf({2, 4, 5}, 6)}));
  // a permuted to [B, M, K] from [M, B, K]: rows with a leading dimension B K and a batch stride K
  auto permuted_bmm = [](const Inputs& in) { return ops::bmm(ops::permute(in[0], {1, 0, 2}), in[1]); };
  EXPECT_TRUE(gradcheck_ok(permuted_bmm, {leaf({3, 2, 4}, 7), leaf({2, 4, 5}, 8)}));
}

TEST(Gradcheck, Linear) {
  Tensor x = leaf({2, 3, 4}, 9), w = leaf({5, 4}, 10), b = leaf({5}, 11);
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::linear(in[0], in[1], in[2]); }, {x, w, b}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::linear(in[0], in[1]); }, {x, w}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::linear(in[0], in[1], in[2]); }, {leaf({4}, 12), w, b}));
  // The weight as the transpose of a contiguous [in, out] matrix.
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::linear(in[0], ops::transpose(in[1], 0, 1), in[2]); },
                           {x, leaf({4, 5}, 13), b}));
}

TEST(Gradcheck, LayerNorm) {
  Tensor x = leaf({3, 2, 5}, 14, -2.0, 3.0), w = leaf({5}, 15), b = leaf({5}, 16);
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::layer_norm(in[0], in[1], in[2]); }, {x, w, b}));
  EXPECT_TRUE(gradcheck_ok(
      [](const Inputs& in) { return ops::layer_norm(ops::transpose(in[0], 0, 1), in[1], in[2], 0.1); }, {x, w, b}));
}

TEST(Gradcheck, Embedding) {
  Tensor idx = i64({1, 4, 1, 0, 3, 3}, {2, 3});  // repeats: backward adds rows
  EXPECT_TRUE(gradcheck_ok([idx](const Inputs& in) { return ops::embedding(in[0], idx); }, {leaf({5, 3}, 17)}));
}

TEST(Gradcheck, IndexSelect) {
  Tensor x = leaf({3, 4, 2}, 18);
  Tensor idx = i64({3, 0, 3, 1, 3}, {5});
  for (int64_t dim : {0, 1, -1}) {
    Tensor id = dim == 1 ? idx : i64({1, 0, 1}, {3});
    EXPECT_TRUE(gradcheck_ok([id, dim](const Inputs& in) { return ops::index_select(in[0], dim, id); }, {x})) << dim;
  }
}

TEST(Gradcheck, Gather) {
  Tensor x = leaf({3, 4}, 19);
  Tensor idx1 = i64({0, 3, 3, 1, 2, 2, 0, 0, 3}, {3, 3});
  EXPECT_TRUE(gradcheck_ok([idx1](const Inputs& in) { return ops::gather(in[0], 1, idx1); }, {x}));
  Tensor idx0 = i64({2, 0, 1, 2, 2, 2}, {3, 2});  // fewer columns than x: torch.gather allows it
  EXPECT_TRUE(gradcheck_ok([idx0](const Inputs& in) { return ops::gather(in[0], 0, idx0); }, {x}));
  EXPECT_TRUE(gradcheck_ok([idx0](const Inputs& in) { return ops::gather(ops::transpose(in[0], 0, 1), 0, idx0); },
                           {leaf({4, 3}, 20)}));
}

TEST(Gradcheck, CatStackFlip) {
  Tensor a = leaf({2, 3}, 21), b = leaf({2, 1}, 22), c = leaf({2, 3}, 23);
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::cat(in, 1); }, {a, b, c}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::cat({in[0], in[1]}, 0); }, {a, c}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::stack(in, 0); }, {a, c}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::stack(in, -1); }, {a, c}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::flip(in[0], {0, -1}); }, {leaf({2, 3, 4}, 24)}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return ops::flip(in[0], {1}); }, {leaf({2, 3, 4}, 25)}));
}

// Output and input gradients of f under a fixed upstream gradient.
static std::vector<Tensor> value_and_grads(const std::function<Tensor(const Inputs&)>& f, const Inputs& leaves) {
  for (const Tensor& t : leaves) t.impl().grad.reset();
  Tensor y = f(leaves);
  backward(y, random_tensor(y.shape(), 99, -1, 1, y.dtype()));
  std::vector<Tensor> out{y.detach()};
  for (const Tensor& t : leaves) out.push_back(t.grad());
  return out;
}

static void expect_same(const std::vector<Tensor>& a, const std::vector<Tensor>& b, double tol) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(allclose(a[i], b[i], tol, tol)) << "result " << i;
}

TEST(NonContiguous, LinearTransposedWeightAndInput) {
  for (DType dt : {DType::f64, DType::f32}) {
    const double tol = dt == DType::f64 ? 1e-12 : 1e-5;
    Tensor x = random_tensor({6, 4}, 30, -1, 1, dt, true), w = random_tensor({5, 4}, 31, -1, 1, dt, true);
    Tensor b = random_tensor({5}, 32, -1, 1, dt, true);
    auto plain = value_and_grads([](const Inputs& in) { return ops::linear(in[0], in[1], in[2]); }, {x, w, b});
    // The same values stored transposed: wt [in, out], xt [in, rows].
    Tensor wt = w.detach().transpose(0, 1).contiguous().set_requires_grad(true);
    Tensor xt = x.detach().transpose(0, 1).contiguous().set_requires_grad(true);
    auto strided = value_and_grads(
        [](const Inputs& in) { return ops::linear(ops::transpose(in[0], 0, 1), ops::transpose(in[1], 0, 1), in[2]); },
        {xt, wt, b});
    strided[1] = strided[1].transpose(0, 1);
    strided[2] = strided[2].transpose(0, 1);
    expect_same(plain, strided, tol);
  }
}

TEST(NonContiguous, MatmulBmmLayerNormIndexJoin) {
  Tensor a = random_tensor({4, 3}, 33), b = random_tensor({5, 4}, 34);
  Tensor at = a.transpose(0, 1), bt = b.transpose(0, 1);
  EXPECT_TRUE(allclose(ops::matmul(at, bt), ops::matmul(at.contiguous(), bt.contiguous()), 1e-13, 1e-13));
  Tensor cols = random_tensor({3, 8}, 35).narrow(1, 2, 4);  // rows with a leading dimension larger than their length
  EXPECT_TRUE(allclose(ops::matmul(cols, bt), ops::matmul(cols.contiguous(), bt), 1e-13, 1e-13));
  Tensor p = random_tensor({3, 2, 4}, 36).permute({1, 0, 2}), q = random_tensor({2, 5, 4}, 37).transpose(1, 2);
  EXPECT_TRUE(allclose(ops::bmm(p, q), ops::bmm(p.contiguous(), q.contiguous()), 1e-13, 1e-13));
  Tensor shared = random_tensor({1, 4, 5}, 38).expand({2, 4, 5});  // one matrix for every batch (stride 0)
  EXPECT_TRUE(allclose(ops::bmm(p, shared), ops::bmm(p, shared.contiguous()), 1e-13, 1e-13));
  Tensor lx = random_tensor({5, 3, 2}, 39).permute({2, 1, 0}), w = random_tensor({5}, 40), lb = random_tensor({5}, 41);
  EXPECT_TRUE(allclose(ops::layer_norm(lx, w, lb), ops::layer_norm(lx.contiguous(), w, lb), 0, 0));
  Tensor gx = random_tensor({4, 3}, 42).transpose(0, 1), gi = i64({0, 3, 1, 2, 2, 0}, {2, 3}).transpose(0, 1);
  EXPECT_TRUE(allclose(ops::gather(gx, 1, gi), ops::gather(gx.contiguous(), 1, gi.contiguous()), 0, 0));
  EXPECT_TRUE(allclose(ops::index_select(gx, 1, i64({3, 0}, {2})),
                       ops::index_select(gx.contiguous(), 1, i64({3, 0}, {2})), 0, 0));
  EXPECT_TRUE(allclose(ops::cat({gx, gx}, 0), ops::cat({gx.contiguous(), gx.contiguous()}, 0), 0, 0));
  EXPECT_TRUE(allclose(ops::stack({gx, gx}, 1), ops::stack({gx.contiguous(), gx.contiguous()}, 1), 0, 0));
  EXPECT_TRUE(allclose(ops::flip(gx, {0, 1}), ops::flip(gx.contiguous(), {0, 1}), 0, 0));
}

TEST(Ops, KnownValues) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2}), b = Tensor::from_vector<float>({5, 6, 7, 8}, {2, 2});
  EXPECT_EQ(ops::matmul(a, b).to_vector<float>(), (std::vector<float>{19, 22, 43, 50}));
  EXPECT_EQ(ops::matmul(Tensor::ones({2, 0}), Tensor::ones({0, 3})).to_vector<float>(), std::vector<float>(6, 0.0f));
  EXPECT_EQ(ops::linear(a, b, Tensor::from_vector<float>({1, -1}, {2})).to_vector<float>(),
            (std::vector<float>{18, 22, 40, 52}));  // [1 2; 3 4] [5 7; 6 8] + [1, -1]
  // [1, 2, 3]: mean 2, population variance 2/3
  Tensor ln = ops::layer_norm(Tensor::from_vector<double>({1, 2, 3}, {1, 3}), Tensor::ones({3}, DType::f64),
                              Tensor::zeros({3}, DType::f64), 0.0);
  EXPECT_TRUE(allclose(ln, Tensor::from_vector<double>({-std::sqrt(1.5), 0, std::sqrt(1.5)}, {1, 3}), 1e-15, 1e-15));
  Tensor x = Tensor::from_vector<double>({0, 1, 2, 3, 4, 5}, {2, 3});
  EXPECT_EQ(ops::flip(x, {1}).to_vector<double>(), (std::vector<double>{2, 1, 0, 5, 4, 3}));
  EXPECT_EQ(ops::gather(x, 1, i64({2, 2, 0, 1}, {2, 2})).to_vector<double>(), (std::vector<double>{2, 2, 3, 4}));
  EXPECT_EQ(ops::index_select(x, 0, i64({1, 1}, {2})).to_vector<double>(), (std::vector<double>{3, 4, 5, 3, 4, 5}));
  EXPECT_EQ(ops::embedding(x, i64({1}, {})).shape(), (Shape{3}));
  EXPECT_EQ(ops::stack({x, x}, 2).shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(ops::flip(i64({1, 2, 3}, {3}), {0}).to_vector<int64_t>(), (std::vector<int64_t>{3, 2, 1}));
}

TEST(Ops, LinearBackwardOverManyRows) {  // more rows than one block of the bias reduction
  Tensor x = leaf({1100, 7}, 43), w = leaf({3, 7}, 44), b = leaf({3}, 45);
  Tensor g = random_tensor({1100, 3}, 46);
  backward(ops::linear(x, w, b), g);
  EXPECT_TRUE(allclose(b.grad(), ops::sum(g, {0}), 1e-12, 1e-12));
  EXPECT_TRUE(allclose(w.grad(), ops::matmul(g.transpose(0, 1), x.detach()), 1e-12, 1e-12));
  EXPECT_TRUE(allclose(x.grad(), ops::matmul(g, w.detach()), 1e-12, 1e-12));
}

// OpenBLAS's own threading would cut the output where the thread count says (ops/blas.h); erc's tiles depend on the
// shape alone. Shapes on both sides of a tile's edge, every transpose, beta 0 and 1: each product is checked against
// a loop in double (a tile reading from the wrong place is far off) and must give the same bits on 1, 2 and 3
// threads and from inside a parallel region.
TEST(Blas, TilesGiveTheSameBitsOnAnyThreadCount) {
  const int max_threads = omp_get_max_threads();
  const int64_t edge = ops::blas::kTileRows;
  struct Shape3 {
    int64_t M, N, K;
  };
  for (const Shape3 s : {Shape3{1, 600, 300}, {edge - 1, edge + 1, 64}, {2 * edge + 1, 3, 300}, {600, 513, 7}}) {
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb)
        for (float beta : {0.0f, 1.0f}) {
          SCOPED_TRACE(::testing::Message() << "M " << s.M << " N " << s.N << " K " << s.K << " ta " << ta << " tb "
                                            << tb << " beta " << beta);
          // Stored row-major: a is [M, K] or, transposed, [K, M]; likewise b; each with a leading dimension 3 wider.
          const int64_t lda = (ta ? s.M : s.K) + 3, ldb = (tb ? s.K : s.N) + 3, ldc = s.N + 3;
          auto values = [](int64_t n, uint64_t seed) {
            return random_tensor({n}, seed, -1, 1, DType::f32).to_vector<float>();
          };
          const std::vector<float> a = values((ta ? s.K : s.M) * lda, 60), b = values((tb ? s.N : s.K) * ldb, 61);
          const std::vector<float> c0 = values(s.M * ldc, 62);
          auto product = [&](int threads, bool nested) {
            std::vector<float> c = c0;
            omp_set_num_threads(threads);
            auto run = [&] {
              ops::blas::gemm<float>("test", ta, tb, s.M, s.N, s.K, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
            };
            if (!nested) {
              run();
            } else {
#pragma omp parallel num_threads(2)
#pragma omp single
              run();
            }
            return c;
          };
          const std::vector<float> one = product(1, false);
          double worst = 0;
          for (int64_t i = 0; i < s.M; ++i)
            for (int64_t j = 0; j < s.N; ++j) {
              double sum = beta * double(c0[size_t(i * ldc + j)]);
              for (int64_t k = 0; k < s.K; ++k) {
                const float a_ik = a[size_t(ta ? k * lda + i : i * lda + k)];
                sum += double(a_ik) * double(b[size_t(tb ? j * ldb + k : k * ldb + j)]);
              }
              worst = std::max(worst, std::fabs(sum - double(one[size_t(i * ldc + j)])));
            }
          EXPECT_LE(worst, 1e-5 * std::max<int64_t>(s.K, 1));  // f32 rounding of K products of terms up to 1
          for (int64_t i = 0; i < s.M; ++i)  // the padding between rows is never written
            for (int64_t j = s.N; j < ldc; ++j) ASSERT_EQ(one[size_t(i * ldc + j)], c0[size_t(i * ldc + j)]);
          EXPECT_EQ(product(2, false), one);
          EXPECT_EQ(product(3, false), one);
          EXPECT_EQ(product(3, true), one);
        }
  }
  omp_set_num_threads(max_threads);
}

// OpenBLAS follows the calling task's OpenMP thread count, so ops/blas.cpp sets it to 1 around its calls: it must be
// put back, after a small GEMM, a tiled one and one from inside a parallel region.
TEST(Blas, PutsOpenMpsThreadCountBack) {
  const int max_threads = omp_get_max_threads();
  omp_set_num_threads(3);
  for (int64_t n : {8, 600}) {
    Tensor a = random_tensor({n, n}, 63, -1, 1, DType::f32);
    ops::matmul(a, a);
    EXPECT_EQ(omp_get_max_threads(), 3) << n;
#pragma omp parallel num_threads(2)
    {
      omp_set_num_threads(2);
      ops::matmul(a, a);
      EXPECT_EQ(omp_get_max_threads(), 2) << n;
    }
    EXPECT_EQ(omp_get_max_threads(), 3) << n;
  }
  omp_set_num_threads(max_threads);
}

// Every reduction and product of layer_norm, linear and embedding: the same bits on 1 and 4 threads. linear's rows
// span several GEMM tiles (ops/blas.h) and the bias gradient several of its row blocks.
TEST(Determinism, ReductionsAndProductsDoNotDependOnThreadCount) {
  Tensor x = random_tensor({3000, 64}, 47, -1, 1, DType::f32, true),
         w = random_tensor({64}, 48, -1, 1, DType::f32, true);
  Tensor b = random_tensor({64}, 49, -1, 1, DType::f32, true);
  Tensor table = random_tensor({10, 64}, 50, -1, 1, DType::f32, true);
  Tensor idx = Tensor::empty({3000}, DType::i64);
  for (int64_t i = 0; i < 3000; ++i) idx.data<int64_t>()[i] = (i * 7) % 10;
  auto run = [&](int threads) {
    omp_set_num_threads(threads);
    auto ln = value_and_grads([](const Inputs& in) { return ops::layer_norm(in[0], in[1], in[2]); }, {x, w, b});
    auto lin = value_and_grads(
        [](const Inputs& in) { return ops::linear(in[0], in[1], in[2]); },
        {x, random_tensor({300, 64}, 51, -1, 1, DType::f32, true), random_tensor({300}, 52, -1, 1, DType::f32, true)});
    auto emb = value_and_grads([&](const Inputs& in) { return ops::embedding(in[0], idx); }, {table});
    ln.insert(ln.end(), lin.begin(), lin.end());  // y, dx, dweight, dbias of linear
    ln.push_back(emb[1]);                         // the scatter-added table gradient
    return ln;
  };
  const int max_threads = omp_get_max_threads();
  auto one = run(1), many = run(4);
  omp_set_num_threads(max_threads);
  expect_same(one, many, 0.0);  // bit for bit
}

// The vector path against the reference loops: rows and widths around its 16-lane sums and 64-row pieces, rows far
// from zero mean (where the variance would cancel if summed carelessly). The largest error over all elements,
// relative to the largest reference value, is bounded from measurement (docs/TESTING.md).
TEST(LayerNormFastPath, MatchesTheReferenceLoops) {
  const std::vector<ops::CpuIsa> isas = available_isas();
  if (isas.size() == 1) GTEST_SKIP() << "no fast path on this build or CPU (baseline only)";
  const std::pair<int64_t, int64_t> shapes[] = {{1, 1},   {3, 3},   {5, 4},     {63, 15},
                                                {64, 16}, {65, 17}, {200, 256}, {129, 1000}};
  for (const auto& [rows, D] : shapes) {
    std::vector<double> xv = random_tensor({rows, D}, uint64_t(rows * 1000 + D), -1, 1).to_vector<double>();
    for (int64_t r = 0; r < rows; r += 3)
      for (int64_t j = 0; j < D; ++j) xv[size_t(r * D + j)] = 1000.0 + xv[size_t(r * D + j)];  // mean 1000, spread 1
    const Tensor x = Tensor::from_vector(xv, {rows, D}).to(DType::f32);
    const Tensor w = random_tensor({D}, 2, 0.5, 1.5, DType::f32), b = random_tensor({D}, 3, -1, 1, DType::f32);
    const Tensor g = random_tensor({rows, D}, 4, -1, 1, DType::f32);
    auto run = [&](ops::CpuIsa isa) {
      ops::CpuIsaGuard use(isa);
      Tensor lx = x.clone().set_requires_grad(true), lw = w.clone().set_requires_grad(true);
      Tensor lb = b.clone().set_requires_grad(true);
      Tensor y = ops::layer_norm(lx, lw, lb);
      backward(y, g);
      return std::vector<Tensor>{y.detach(), lx.grad(), lw.grad(), lb.grad()};
    };
    const std::vector<Tensor> reference = run(ops::CpuIsa::baseline);
    for (ops::CpuIsa isa : isas) {
      if (isa == ops::CpuIsa::baseline) continue;
      SCOPED_TRACE(std::string(ops::cpu_isa_name(isa)) + " rows " + std::to_string(rows) + " D " + std::to_string(D));
      const std::vector<Tensor> fast = run(isa);
      const char* names[] = {"y", "dx", "dweight", "dbias"};
      for (size_t i = 0; i < fast.size(); ++i) {
        const double error = scaled_error(fast[i], reference[i]);
        if (std::getenv("ERC_PRINT_ERRORS") != nullptr) std::printf("%s: %.3g\n", names[i], error);
        EXPECT_LE(error, std::ldexp(1.0, -22)) << names[i];
      }
    }
  }
}

TEST(Errors, MatmulNamesBothShapes) {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4, 5});
  std::string m = error_of([&] { ops::matmul(a, b); });
  EXPECT_MENTIONS(m, "[2, 3]");
  EXPECT_MENTIONS(m, "[4, 5]");
  m = error_of([&] { ops::bmm(Tensor::zeros({2, 3, 4}), Tensor::zeros({3, 4, 5})); });
  EXPECT_MENTIONS(m, "[2, 3, 4]");
  EXPECT_MENTIONS(m, "[3, 4, 5]");
  EXPECT_THROW(ops::matmul(Tensor::zeros({2, 3}), Tensor::zeros({3, 2}, DType::f64)), Error);
  EXPECT_THROW(ops::matmul(Tensor::zeros({2, 3}, DType::i64), Tensor::zeros({3, 2}, DType::i64)), Error);
}

TEST(Errors, LinearAndLayerNormShapes) {
  std::string m = error_of([] { ops::linear(Tensor::zeros({7, 4}), Tensor::zeros({5, 3})); });
  EXPECT_MENTIONS(m, "[7, 4]");
  EXPECT_MENTIONS(m, "[5, 3]");
  m = error_of([] { ops::linear(Tensor::zeros({7, 4}), Tensor::zeros({5, 4}), Tensor::zeros({4})); });
  EXPECT_MENTIONS(m, "[4]");
  EXPECT_MENTIONS(m, "[5, 4]");
  m = error_of([] { ops::layer_norm(Tensor::zeros({2, 6}), Tensor::zeros({5}), Tensor::zeros({6})); });
  EXPECT_MENTIONS(m, "[2, 6]");
  EXPECT_MENTIONS(m, "[5]");
}

// A bf16 weight (WavLM's GEMMs at --precision bf16): x is rounded to bf16, the exact products summed in f32.
TEST(Bf16Linear, BfloatExactInputsGiveTheFloat32Product) {
  // Values with at most 8 significant bits: bf16 holds them exactly, so nothing is rounded.
  const Tensor x = random_tensor({5, 9}, 1, -4, 4, DType::f32).to(DType::bf16).to(DType::f32);
  const Tensor w = random_tensor({3, 9}, 2, -1, 1, DType::f32).to(DType::bf16);
  const Tensor b = random_tensor({3}, 3, -1, 1, DType::f32);
  EXPECT_TRUE(test::same_bits(ops::linear(x, w, b), ops::linear(x, w.to(DType::f32), b)));
}

TEST(Bf16Linear, RoundsTheInputToBfloat16) {
  // 1 + 2^-10 is between two bf16 values (1 and 1 + 2^-7) and rounds to 1.
  const Tensor x = Tensor::from_vector<float>({1.0f + 1.0f / 1024}, {1, 1});
  const Tensor w = Tensor::from_vector<float>({1.0f}, {1, 1}).to(DType::bf16);
  EXPECT_EQ(ops::linear(x, w).to_vector<float>(), std::vector<float>{1.0f});
}

TEST(Bf16Linear, RefusesGradientsAndOtherInputTypes) {
  const Tensor w = Tensor::zeros({3, 4}).to(DType::bf16);
  EXPECT_MENTIONS(error_of([&] { ops::linear(random_tensor({2, 4}, 4, -1, 1, DType::f32, true), w); }), "inference");
  EXPECT_MENTIONS(error_of([&] { ops::linear(Tensor::zeros({2, 4}, DType::f64), w); }), "f64");
  EXPECT_MENTIONS(error_of([&] { ops::linear(Tensor::zeros({2, 4}), w, Tensor::zeros({3}, DType::f64)); }), "bias f64");
}

TEST(Errors, IndexOutOfRangeNamesIndexAndRange) {
  Tensor table = Tensor::zeros({7, 3});
  std::string m = error_of([&] { ops::embedding(table, i64({0, 7, 2}, {3})); });
  EXPECT_MENTIONS(m, "index 7");
  EXPECT_MENTIONS(m, "[0, 7)");
  m = error_of([&] { ops::index_select(table, 1, i64({-1}, {1})); });
  EXPECT_MENTIONS(m, "index -1");
  EXPECT_MENTIONS(m, "[0, 3)");
  m = error_of([&] { ops::gather(table, 0, i64({0, 1, 9, 0}, {2, 2})); });
  EXPECT_MENTIONS(m, "index 9 at position [1, 0]");
  EXPECT_MENTIONS(m, "[0, 7)");
  m = error_of([&] { ops::gather(table, 0, i64({0, 0, 0, 0}, {1, 4})); });  // wider than x outside dim 0
  EXPECT_MENTIONS(m, "[1, 4]");
  EXPECT_MENTIONS(m, "[7, 3]");
  EXPECT_THROW(ops::embedding(table, Tensor::zeros({2})), Error);  // f32 indices
}

TEST(Errors, CatStackFlip) {
  std::string m = error_of([] { ops::cat({Tensor::zeros({2, 3}), Tensor::zeros({3, 3})}, 1); });
  EXPECT_MENTIONS(m, "[2, 3]");
  EXPECT_MENTIONS(m, "[3, 3]");
  m = error_of([] { ops::stack({Tensor::zeros({2, 3}), Tensor::zeros({2, 4})}, 0); });
  EXPECT_MENTIONS(m, "[2, 3]");
  EXPECT_MENTIONS(m, "[2, 4]");
  EXPECT_THROW(ops::cat({}, 0), Error);
  EXPECT_THROW(ops::cat({Tensor::zeros({2}), Tensor::zeros({2}, DType::f64)}, 0), Error);
  EXPECT_THROW(ops::flip(Tensor::zeros({2, 3}), {1, -1}), Error);
  EXPECT_THROW(ops::stack({Tensor::zeros({2, 3})}, 3), Error);
}
