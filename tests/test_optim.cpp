// The optimisers' own behaviour: docs/MODEL.md §3's worked check, the train/eval swap, state round trips, misuse.
#include "optim/adamw.h"
#include "optim/radam_schedule_free.h"
#include "optim/sgd.h"
#include "test_util.h"

using namespace erc;
using optim::RAdamScheduleFree;

TEST(RAdamScheduleFree, SpecWorkedCheck) {
  // docs/MODEL.md §3: w0 = 1, constant gradient 0.5, lr 0.1, float64.
  Tensor w = Tensor::from_vector<double>({1.0}, {1}).set_requires_grad(true);
  RAdamScheduleFree opt({w}, {.lr = 0.1});
  opt.train();
  for (int step = 1; step <= 6; ++step) {
    w.set_grad(Tensor::from_vector<double>({0.5}, {1}));
    opt.step();
    if (step <= 4) {
      EXPECT_EQ(w.item<double>(), 1.0) << "silent phase, step " << step;
    } else if (step == 5) {
      EXPECT_NEAR(w.item<double>(), 0.998268849718, 1e-12);
    } else {
      EXPECT_NEAR(w.item<double>(), 0.996407384523, 1e-12);
    }
  }
  EXPECT_NEAR(opt.state_dict().at("z.0").item<double>(), 0.995686738489, 1e-12);
  opt.eval();
  EXPECT_NEAR(w.item<double>(), 0.996487456305, 1e-12);
  opt.train();
  EXPECT_NEAR(w.item<double>(), 0.996407384523, 1e-12);
}

TEST(RAdamScheduleFree, StateRoundTripContinuesIdentically) {
  auto make = [] { return test::random_tensor({4, 3}, 11, -1, 1, DType::f32, true); };
  Tensor a = make(), b = make();
  RAdamScheduleFree oa({a}, {.lr = 0.05}), ob({b}, {.lr = 0.05});
  oa.train();
  auto grad_at = [](int step) { return test::random_tensor({4, 3}, 100 + step, -1, 1, DType::f32); };
  for (int s = 0; s < 7; ++s) {
    a.set_grad(grad_at(s));
    oa.step();
  }
  // b takes a's parameters and state, then both continue: they must stay bit-identical.
  b.detach().copy_(a.detach());
  ob.load_state_dict(oa.state_dict());
  EXPECT_TRUE(ob.training());
  for (int s = 7; s < 12; ++s) {
    a.set_grad(grad_at(s));
    b.set_grad(grad_at(s));
    oa.step();
    ob.step();
  }
  EXPECT_EQ(a.to_vector<float>(), b.to_vector<float>());
  EXPECT_EQ(ob.steps_taken(), 12);
}

TEST(RAdamScheduleFree, MisuseIsAnError) {
  Tensor w = Tensor::zeros({2}).set_requires_grad(true);
  RAdamScheduleFree opt({w});
  w.set_grad(Tensor::ones({2}));
  EXPECT_THROW(opt.step(), Error);  // still in eval mode
  EXPECT_THROW(RAdamScheduleFree({Tensor::zeros({2})}), Error);  // does not require grad
  optim::StateDict bad = opt.state_dict();
  bad["z.0"] = Tensor::zeros({3});
  opt.train();
  opt.step();
  bad = opt.state_dict();
  bad["z.0"] = Tensor::zeros({3});
  EXPECT_THROW(opt.load_state_dict(bad), Error);
  bad.erase("step");
  EXPECT_THROW(opt.load_state_dict(bad), Error);
}

TEST(RAdamScheduleFree, ParametersWithoutGradientAreLeftAlone) {
  Tensor a = Tensor::ones({2}).set_requires_grad(true), b = Tensor::ones({2}).set_requires_grad(true);
  RAdamScheduleFree opt({a, b}, {.lr = 0.1});
  opt.train();
  for (int s = 0; s < 8; ++s) {
    a.set_grad(Tensor::full({2}, 0.5));
    opt.step();
  }
  EXPECT_NE(a.to_vector<float>()[0], 1.0f);
  EXPECT_EQ(b.to_vector<float>(), (std::vector<float>{1.0f, 1.0f}));
  EXPECT_EQ(opt.state_dict().count("z.1"), 0u);
}

TEST(Optimizer, ZeroGradClears) {
  Tensor a = Tensor::ones({2}).set_requires_grad(true);
  optim::SGD opt({a});
  a.set_grad(Tensor::ones({2}));
  opt.zero_grad();
  EXPECT_FALSE(a.grad().defined());
}
