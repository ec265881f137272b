// ErcModel and RAdamScheduleFree against the PyTorch reference of docs/MODEL.md §2-§3 (tools/fixtures/erc_model.py):
// from the same initial weights, logits, loss and every parameter gradient for a conversation with unlabelled
// utterances and for a packed batch, then a 20-step training trajectory (loss per step, final y and x).
#include <cstring>
#include <nlohmann/json.hpp>

#include "autograd/backward.h"
#include "golden_util.h"
#include "nn/erc_model.h"
#include "ops/cross_entropy.h"
#include "optim/radam_schedule_free.h"
#include "test_util.h"

using namespace erc;

namespace {

const SafeTensors& fx() { return test::fixture("erc_model"); }

std::unique_ptr<nn::ErcModel> reference_model(DType dtype) {
  auto cfg = nlohmann::json::parse(fx().metadata.at("config"));
  nn::ErcModelConfig config;
  config.feature_dim = cfg["feature_dim"];
  config.n_layers = cfg["n_layers"];
  config.n_classes = cfg["n_classes"];
  config.dropout = 0.0;
  config.mamba.d_model = cfg["d_model"];
  config.mamba.d_state = cfg["d_state"];
  auto model = std::make_unique<nn::ErcModel>(config, /*seed=*/1);
  model->to(dtype);
  nn::StateDict init;
  for (auto& [name, t] : fx().tensors)
    if (name.rfind("init.", 0) == 0) init.emplace(name.substr(5), t);
  model->load_state_dict(init);
  return model;
}

struct Batch {
  Tensor features, labels;
  ops::SeqOffsets seq_offsets, utt_offsets;
};

Batch batch(const std::string& prefix, DType dtype) {
  return {fx().at(prefix + ".features").to(dtype), fx().at(prefix + ".labels"),
          fx().at(prefix + ".seq_offsets").to_vector<int64_t>(), fx().at(prefix + ".utt_offsets").to_vector<int64_t>()};
}

Tensor loss_of(const nn::ErcModel& model, const Batch& b) {
  return ops::cross_entropy(model.forward(b.features, b.seq_offsets, b.utt_offsets), b.labels);
}

// Both within docs/TESTING.md's default bounds, with the margin measured (commit 5f02e4a): float64 against PyTorch's
// float64 (atol 1e-12, rtol 1e-10), largest error 2.4e-16; float32 against the same reference (atol 1e-6, rtol
// 1e-5), largest error 9.9e-8 (logits and loss) and 7.4e-8 (gradients), so the three layers of scans, LayerNorms
// and GEMMs stay within the policy's ~100 ulps of float32.
void check_gradients(const std::string& prefix, DType dtype, double atol, double rtol) {
  auto model = reference_model(dtype);
  Batch b = batch(prefix, dtype);
  Tensor logits = model->forward(b.features, b.seq_offsets, b.utt_offsets);
  EXPECT_TRUE(test::allclose(logits, fx().at(prefix + ".logits"), atol, rtol)) << prefix << " logits";
  Tensor loss = ops::cross_entropy(logits, b.labels);
  EXPECT_TRUE(test::allclose(loss.detach().reshape({1}), fx().at(prefix + ".loss"), atol, rtol)) << prefix << " loss";
  backward(loss);
  int checked = 0;
  for (auto& [name, p] : model->named_parameters()) {
    ASSERT_TRUE(p.grad().defined()) << name << " received no gradient";
    EXPECT_TRUE(test::allclose(p.grad(), fx().at(prefix + ".grad." + name), atol, rtol)) << "gradient of " << name;
    ++checked;
  }
  EXPECT_EQ(checked, int(model->named_parameters().size()));
}

}  // namespace

TEST(Golden, ErcModelParameterNamesMatchPyTorch) {
  auto model = reference_model(DType::f64);
  size_t n_init = 0;
  for (auto& [name, t] : fx().tensors) n_init += name.rfind("init.", 0) == 0;
  EXPECT_EQ(model->named_parameters().size(), n_init);  // load_state_dict already refused any difference
}

TEST(Golden, ErcModelConversationLogitsLossGradients) {
  check_gradients("conv", DType::f64, 1e-12, 1e-10);
  check_gradients("conv", DType::f32, 1e-6, 1e-5);
}

TEST(Golden, ErcModelPackedBatchLogitsLossGradients) {
  check_gradients("packed", DType::f64, 1e-12, 1e-10);
  check_gradients("packed", DType::f32, 1e-6, 1e-5);
}

TEST(Golden, ErcModelTwentyStepTrajectory) {
  auto model = reference_model(DType::f64);
  Batch conv = batch("conv", DType::f64), packed = batch("packed", DType::f64);
  optim::RAdamScheduleFree opt(model->parameters(), {.lr = 1e-3});
  opt.train();
  std::vector<double> losses;
  for (int step = 0; step < 20; ++step) {
    opt.zero_grad();
    Tensor loss = loss_of(*model, step % 2 == 0 ? conv : packed);
    backward(loss);
    opt.step();
    losses.push_back(loss.item<double>());
  }
  // The float64 defaults again; measured: losses 4.4e-16, y and x 2.2e-16 at most.
  EXPECT_TRUE(test::allclose(Tensor::from_vector(losses, {20}), fx().at("train.loss"), 1e-12, 1e-10));
  for (auto& [name, p] : model->named_parameters())
    EXPECT_TRUE(test::allclose(p, fx().at("train.y." + name), 1e-12, 1e-10)) << "y of " << name;
  opt.eval();
  for (auto& [name, p] : model->named_parameters())
    EXPECT_TRUE(test::allclose(p, fx().at("train.x." + name), 1e-12, 1e-10)) << "x of " << name;
}

TEST(ErcModel, FullSizeParameterCount) {
  nn::ErcModel model(nn::ErcModelConfig{}, 0);
  EXPECT_EQ(model.parameter_count(), 4868102);  // the count of docs/MODEL.md §2
}

TEST(ErcModel, LoadStateDictListsEveryProblem) {
  auto model = reference_model(DType::f32);
  nn::StateDict state = model->state_dict();
  state.erase("classifier.bias");
  state["layers.0.norm_out.weight"] = Tensor::zeros({3});
  state["extra.weight"] = Tensor::zeros({2});
  try {
    model->load_state_dict(state);
    FAIL() << "a mismatched state dict must be refused";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("missing: classifier.bias"), std::string::npos) << m;
    EXPECT_NE(m.find("wrong shape: layers.0.norm_out.weight is [3]"), std::string::npos) << m;
    EXPECT_NE(m.find("unexpected: extra.weight"), std::string::npos) << m;
  }
}

// recompute_layers changes memory, never a value: with dropout on, three training steps give the same losses,
// parameters and dropout stream, bit for bit, as without (the reruns draw the first runs' masks and leave the
// stream where it was).
TEST(ErcModel, RecomputedLayersGiveTheSameStepsBitForBit) {
  auto run = [](bool recompute) {
    nn::ErcModelConfig config;
    config.feature_dim = 24;
    config.mamba.d_model = 16;
    config.dropout = 0.3;
    config.recompute_layers = recompute;
    nn::ErcModel model(config, 7);
    model.train();
    optim::RAdamScheduleFree opt(model.parameters(), {.lr = 1e-2});
    opt.train();
    const Tensor features = test::random_tensor({50, 24}, 3, -1, 1, DType::f32);
    const Tensor labels = Tensor::from_vector<int64_t>({1, -100, 4}, {3});
    std::vector<float> values;
    for (int step = 0; step < 3; ++step) {
      opt.zero_grad();
      Tensor loss = ops::cross_entropy(model.forward(features, {0, 50}, {0, 20, 21, 50}), labels);
      backward(loss);
      opt.step();
      values.push_back(loss.item<float>());
    }
    for (const Tensor& p : model.parameters())
      for (float v : p.to_vector<float>()) values.push_back(v);
    values.push_back(float(model.dropout_gen->offset()));
    return values;
  };
  const std::vector<float> plain = run(false), recomputed = run(true);
  ASSERT_EQ(plain.size(), recomputed.size());
  EXPECT_EQ(std::memcmp(plain.data(), recomputed.data(), plain.size() * sizeof(float)), 0);
}
