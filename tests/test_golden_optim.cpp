// RAdamScheduleFree, AdamW and SGD against the schedulefree package and torch.optim (tools/fixtures/optim.py):
// the same gradients fed for 12 steps, parameters compared after every step (y, and x in eval mode).
#include <nlohmann/json.hpp>

#include "golden_util.h"
#include "optim/adamw.h"
#include "optim/radam_schedule_free.h"
#include "optim/sgd.h"
#include "test_util.h"

using namespace erc;

namespace {

struct Trajectory {
  std::string name;
  nlohmann::json params;
  std::vector<Tensor> weights;
};

Trajectory start(const std::string& name, DType dtype) {
  const SafeTensors& fx = test::fixture("optim");
  Trajectory t{name, nlohmann::json::parse(fx.metadata.at(name)), {}};
  for (int i = 0; i < t.params["n_params"].get<int>(); ++i)
    t.weights.push_back(fx.at(name + ".init." + std::to_string(i)).to(dtype).clone().set_requires_grad(true));
  return t;
}

void feed(const Trajectory& t, int step, DType dtype) {
  for (size_t i = 0; i < t.weights.size(); ++i)
    t.weights[i].set_grad(test::fixture("optim").at(t.name + ".grad." + std::to_string(step) + "." + std::to_string(i)).to(dtype));
}

void expect_weights(const Trajectory& t, const std::string& which, int step, double atol, double rtol) {
  for (size_t i = 0; i < t.weights.size(); ++i) {
    const std::string key = t.name + "." + which + "." + std::to_string(step) + "." + std::to_string(i);
    EXPECT_TRUE(test::allclose(t.weights[i], test::fixture("optim").at(key), atol, rtol)) << key;
  }
}

// f64 must match the package to rounding. f32: 12 steps of O(1e-2) updates accumulate ~100 ulps at most.
void run_schedule_free(const std::string& name, DType dtype, double atol) {
  Trajectory t = start(name, dtype);
  optim::RAdamScheduleFree opt(t.weights, {.lr = t.params["lr"], .weight_decay = t.params.value("weight_decay", 0.0)});
  opt.train();
  for (int step = 1; step <= t.params["steps"].get<int>(); ++step) {
    feed(t, step, dtype);
    opt.step();
    expect_weights(t, "y", step, atol, 0);
    opt.eval();
    expect_weights(t, "x", step, atol, 0);
    opt.train();
  }
}

}  // namespace

TEST(Golden, RAdamScheduleFree) {
  run_schedule_free("radam_sf", DType::f64, 1e-13);
  run_schedule_free("radam_sf", DType::f32, 2e-6);
}

TEST(Golden, RAdamScheduleFreeWeightDecay) {
  run_schedule_free("radam_sf_wd", DType::f64, 1e-13);
  run_schedule_free("radam_sf_wd", DType::f32, 2e-6);
}

TEST(Golden, AdamW) {
  for (auto [dtype, atol] : {std::pair{DType::f64, 1e-13}, std::pair{DType::f32, 2e-6}}) {
    Trajectory t = start("adamw", dtype);
    optim::AdamW opt(t.weights, {.lr = t.params["lr"], .weight_decay = t.params["weight_decay"]});
    for (int step = 1; step <= t.params["steps"].get<int>(); ++step) {
      feed(t, step, dtype);
      opt.step();
      expect_weights(t, "y", step, atol, 0);
    }
  }
}

TEST(Golden, SGD) {
  for (auto [dtype, atol] : {std::pair{DType::f64, 1e-13}, std::pair{DType::f32, 2e-6}}) {
    Trajectory t = start("sgd", dtype);
    optim::SGD opt(t.weights, {.lr = t.params["lr"], .momentum = t.params["momentum"],
                               .weight_decay = t.params["weight_decay"]});
    for (int step = 1; step <= t.params["steps"].get<int>(); ++step) {
      feed(t, step, dtype);
      opt.step();
      expect_weights(t, "y", step, atol, 0);
    }
  }
}
