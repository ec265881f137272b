// The training protocol end to end at a tiny size: run directory, resume bit for bit, and the failures a user
// can cause (bad --init, empty fold, non-finite loss, Ctrl-C).
#include <omp.h>

#include <filesystem>

#include "data/feature_cache.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "test_util.h"
#include "train/baselines.h"
#include "train/checkpoint.h"
#include "train/run_config.h"
#include "train/run_files.h"
#include "train/trainer.h"
#include "train_test_util.h"

using namespace erc;
namespace fs = std::filesystem;

namespace {

using test::kTinyFeatureDim;
using test::tiny_config;

// Three sessions of four dialogues of twelve utterances, labels drawn uniformly from `labels` (the paper's six by
// default), and a planted signal: every frame of an utterance of label c has 3 added to feature c (on unit-variance
// noise). A model that learns anything reaches far above the 1/6 of guessing on session 1.
std::string write_signal_cache(const std::string& path,
                               const std::vector<std::string>& labels = data::ClassSet::paper().names(),
                               bool with_split = false) {
  data::CacheAttributes a;
  a.extractor = "test";
  a.feature_dim = kTinyFeatureDim;
  a.dtype = DType::f32;
  data::FeatureCacheWriter w(path, a);
  Generator gen(11);
  std::vector<std::string> order;
  for (int s = 1; s <= 3; ++s)
    for (int d = 0; d < 4; ++d)
      for (int u = 0; u < 12; ++u) {
        data::UtteranceInfo info;
        info.dialogue = "Ses0" + std::to_string(s) + "F_impro0" + std::to_string(d);
        info.speaker = u % 2 ? "M" : "F";
        info.utt_id = info.dialogue + "_" + info.speaker + std::to_string(100 + u);
        info.session = s;
        if (with_split) info.split = d < 2 ? "train" : d == 2 ? "dev" : "test";  // in every session
        const int64_t c = int64_t(gen.next_index(labels.size()));
        info.label = labels[size_t(c)];
        info.start = u;
        info.end = u + 0.5;
        Tensor f = randn({4 + u % 3, kTinyFeatureDim}, gen);
        for (int64_t t = 0; t < f.size(0); ++t) f.data<float>()[t * kTinyFeatureDim + c] += 3.0f;
        w.write(info, f);
        order.push_back(info.utt_id);
      }
  w.finish(order);
  return path;
}

std::map<std::string, std::vector<float>> checkpoint_values(const std::string& path) {
  std::map<std::string, std::vector<float>> out;
  for (auto& [name, t] : load_safetensors(path).tensors)
    if (t.dtype() == DType::f32) out[name] = t.to_vector<float>();
  return out;
}

}  // namespace

TEST(Train, WritesTheRunDirectory) {
  for (auto mode : {data::Mode::conversation, data::Mode::utterance}) {
    train::TrainConfig c = tiny_config("erc_run_files");
    c.mode = mode;
    c.batch_size = 4;
    auto results = train::train(c);
    ASSERT_EQ(results.size(), 1u);
    EXPECT_GE(results[0].best_epoch, 1);
    EXPECT_EQ(results[0].test.n, 10);  // session 1: 12 utterances, 2 unlabelled (xxx)
    for (const char* f : {"config.json", "metrics.jsonl", "last.safetensors", "best.safetensors", "predictions.csv",
                          "report.json"})
      EXPECT_TRUE(fs::exists(c.out + "/" + f)) << f << " (" << data::mode_name(mode) << ")";
    auto preds = eval::read_predictions_csv(c.out + "/predictions.csv", data::ClassSet::paper());
    EXPECT_EQ(preds.size(), 12u);  // unlabelled utterances are predicted too
    // erc_eval's path: the best checkpoint re-evaluated gives the predictions the run reported.
    auto again = train::evaluate_checkpoint(train::read_run_config(c.out), train::checkpoint_path(c, 1, "best"), 1);
    ASSERT_EQ(again.size(), preds.size());
    for (size_t i = 0; i < preds.size(); ++i) EXPECT_EQ(again[i].prediction, preds[i].prediction) << i;
  }
}

TEST(Train, LearnsAPlantedLabelSignalFarAboveChance) {
  train::TrainConfig c = tiny_config("erc_run_learns");
  c.features = write_signal_cache(test::temp_path("erc_train_signal.h5"));
  c.epochs = 25;
  auto results = train::train(c);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].test.n, 48);
  EXPECT_GT(results[0].test.wa, 0.8) << "weighted accuracy on session 1 after 25 epochs (chance: 1/6)";
}

TEST(Train, MergedClassesAreWhatTheModelTellsApartAndTheRunRecordsThem) {
  train::TrainConfig c = tiny_config("erc_run_four_classes");
  c.features = write_signal_cache(test::temp_path("erc_train_signal_four_classes.h5"));
  c.classes = data::ClassSet::parse("ang,happy=hap+exc,neu,sad");  // fru is input only
  const auto results = train::train(c);
  int64_t scored = 0;
  const data::FeatureCacheReader cache(c.features);
  for (const data::UtteranceInfo& u : cache.utterances()) scored += u.session == 1 && u.label != "fru";
  EXPECT_EQ(results[0].test.n, scored);
  EXPECT_EQ(results[0].test.per_class.size(), 4u);
  EXPECT_EQ(load_safetensors(c.out + "/best.safetensors").tensors.at("model.classifier.weight").size(0), 4);

  const train::TrainConfig run = train::read_run_config(c.out);
  EXPECT_EQ(run.classes, c.classes);
  EXPECT_TRUE(test::mentions(test::file_bytes(c.out + "/predictions.csv"), ",p_ang,p_happy,p_neu,p_sad\n"));
  const auto preds = eval::read_predictions_csv(c.out + "/predictions.csv", run.classes);
  const auto again = train::evaluate_checkpoint(run, train::checkpoint_path(run, 1, "best"), 1);
  ASSERT_EQ(again.size(), preds.size());
  for (size_t i = 0; i < preds.size(); ++i) {
    EXPECT_EQ(again[i].label_index, run.classes.index(preds[i].label)) << i;
    EXPECT_EQ(again[i].prediction, preds[i].prediction) << i;
    EXPECT_EQ(again[i].probabilities.size(), 4u) << i;
  }
  auto report = nlohmann::json::parse(train::read_text(c.out + "/report.json"));
  EXPECT_TRUE(report["test"]["per_class"].contains("happy"));

  // A resumed run keeps its classes: other ones are refused, none given means the recorded ones.
  c.resume = true;
  c.epochs = 4;
  c.classes = data::ClassSet::paper();
  EXPECT_TRUE(test::mentions(test::error_of([&] { train::train(c); }),
                             "trained on classes ang,happy=hap+exc,neu,sad, not ang,exc,fru,hap,neu,sad"));
  c.classes = {};
  EXPECT_EQ(train::train(c)[0].test.per_class.size(), 4u);
}

TEST(Train, ACorpusOfItsOwnLabelsTrainsOnThemByDefault) {
  train::TrainConfig c = tiny_config("erc_run_own_labels");
  c.features = write_signal_cache(test::temp_path("erc_train_own_labels.h5"), {"calm", "angry", "happy, a bit", ""});
  const auto results = train::train(c);
  const train::TrainConfig run = train::read_run_config(c.out);
  EXPECT_EQ(run.classes.names(), (std::vector<std::string>{"angry", "calm", "happy, a bit"}));
  EXPECT_EQ(results[0].test.per_class.size(), 3u);
  // The name with a comma is quoted in the header, and reads back.
  EXPECT_TRUE(test::mentions(test::file_bytes(c.out + "/predictions.csv"), ",p_angry,p_calm,\"p_happy, a bit\"\n"));
  EXPECT_EQ(eval::read_predictions_csv(c.out + "/predictions.csv", run.classes).size(), 48u);

  c.out += "_typo";
  c.classes = data::ClassSet::parse("angry,clam");
  EXPECT_TRUE(test::mentions(test::error_of([&] { train::train(c); }),
                             "class 'clam' of angry,clam: no utterance of the feature cache has its label"));
}

TEST(Train, AFixedSplitTrainsOnTrainSelectsOnDevAndTestsOnTest) {
  train::TrainConfig c = tiny_config("erc_run_fixed_split");
  c.features = write_signal_cache(test::temp_path("erc_train_fixed_split.h5"), data::ClassSet::paper().names(), true);
  c.folds = {data::kFixedSplit};
  c.select = "val";
  const auto results = train::train(c);
  EXPECT_EQ(results[0].test.n, 36);  // the test split: one dialogue of twelve in each of three sessions
  EXPECT_EQ(results[0].val.n, 36);   // dev, likewise
  const train::TrainConfig run = train::read_run_config(c.out);
  EXPECT_EQ(run.folds, (std::vector<int64_t>{data::kFixedSplit}));
  const auto evaluated =
      train::evaluate_checkpoint(run, train::checkpoint_path(run, data::kFixedSplit, "best"), data::kFixedSplit);
  const auto majority = train::majority_predictions(run, {data::kFixedSplit});
  ASSERT_EQ(evaluated.size(), 36u);
  ASSERT_EQ(majority.size(), 36u);
  for (size_t i = 0; i < evaluated.size(); ++i) {
    EXPECT_TRUE(evaluated[i].dialogue.ends_with("_impro03")) << evaluated[i].dialogue;
    EXPECT_EQ(majority[i].utt_id, evaluated[i].utt_id);
  }
  // A corpus without a split has no fixed-split fold.
  c.out += "_no_split";
  c.features = write_signal_cache(test::temp_path("erc_train_no_split.h5"));
  EXPECT_TRUE(test::mentions(test::error_of([&] { train::train(c); }), "is in no split (none given)"));
}

TEST(Train, SelectsOnAValidationSplitWhenAsked) {
  train::TrainConfig c = tiny_config("erc_run_val");
  c.select = "val";
  c.val_fraction = 0.5;  // one of session 2's two conversations
  auto results = train::train(c);
  EXPECT_GT(results[0].val.n, 0);  // the held-out conversation was scored
  auto report = nlohmann::json::parse(train::read_text(c.out + "/report.json"));
  EXPECT_EQ(report["select"], "val");
  EXPECT_TRUE(report.contains("val"));
  c.select = "train";
  EXPECT_THROW(train::train(c), Error);
}

TEST(Train, ResumeContinuesBitForBit) {
  train::TrainConfig full = tiny_config("erc_run_full");
  full.dropout = 0.1;  // exercise the dropout stream's saved state
  train::train(full);

  train::TrainConfig part = tiny_config("erc_run_part");
  part.dropout = 0.1;
  part.epochs = 2;
  train::train(part);
  part.epochs = 3;
  EXPECT_THROW(train::train(part), Error);  // a run is already there: --resume is required
  part.resume = true;
  train::train(part);

  EXPECT_EQ(checkpoint_values(full.out + "/last.safetensors"), checkpoint_values(part.out + "/last.safetensors"));
}

// A checkpoint moved to a machine with more cores resumes as if it had never moved: no bit of a step depends on the
// thread count (docs/TESTING.md). Conversations of ~500 frames, 48 features and d_model 32, so that the products span
// several GEMM tiles (ops/blas.h), the bias gradients several row blocks and the scan several channel groups.
TEST(Train, ResumesOnAnotherThreadCountBitForBit) {
  const int max_threads = omp_get_max_threads();
  static const std::string cache = test::write_tiny_cache(test::temp_path("erc_train_long.h5"), 48, 80);
  auto config = [&](const std::string& out, int64_t epochs) {
    train::TrainConfig c = tiny_config(out);
    c.features = cache;
    c.d_model = 32;
    c.dropout = 0.1;
    c.epochs = epochs;
    return c;
  };
  omp_set_num_threads(2);
  train::TrainConfig full = config("erc_run_threads_full", 3);
  train::train(full);
  omp_set_num_threads(1);
  train::TrainConfig part = config("erc_run_threads_part", 2);
  train::train(part);
  omp_set_num_threads(3);
  part.epochs = 3;
  part.resume = true;
  train::train(part);
  omp_set_num_threads(max_threads);
  const auto resumed = checkpoint_values(part.out + "/last.safetensors");
  for (const auto& [name, values] : checkpoint_values(full.out + "/last.safetensors"))
    EXPECT_TRUE(resumed.at(name) == values) << name << " differs";
  EXPECT_EQ(train::read_text(full.out + "/report.json"), train::read_text(part.out + "/report.json"));
}

TEST(Train, InitWithWrongTensorsListsThem) {
  train::TrainConfig c = tiny_config("erc_run_init");
  const std::string init = ::testing::TempDir() + "erc_bad_init.safetensors";
  save_safetensors(init, {{"input_proj.weight", Tensor::zeros({3, 3})}, {"surplus", Tensor::zeros({1})}});
  c.init = init;
  try {
    train::train(c);
    FAIL() << "a mismatched --init must be refused";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("wrong shape: input_proj.weight"), std::string::npos) << m;
    EXPECT_NE(m.find("unexpected: surplus"), std::string::npos) << m;
    EXPECT_NE(m.find("missing: classifier.weight"), std::string::npos) << m;
  }
}

TEST(Train, FoldWithoutDataIsAnError) {
  train::TrainConfig c = tiny_config("erc_run_nofold");
  c.folds = {4};
  EXPECT_THROW(train::train(c), Error);
  train::TrainConfig missing = tiny_config("erc_run_nofile");
  missing.features = "/nonexistent/features.h5";
  EXPECT_THROW(train::train(missing), Error);
}

TEST(Train, NonFiniteLossStopsAndKeepsTheLastGoodCheckpoint) {
  train::TrainConfig c = tiny_config("erc_run_nan");
  c.epochs = 1;
  train::train(c);
  const auto good = checkpoint_values(c.out + "/last.safetensors");
  c.epochs = 50;
  c.lr = 1e30;  // the update overflows and the next loss is not finite
  c.resume = true;
  try {
    train::train(c);
    FAIL() << "a non-finite loss must stop training";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("non-finite loss"), std::string::npos) << m;
    EXPECT_NE(m.find("step"), std::string::npos) << m;
    EXPECT_NE(m.find("last good checkpoint"), std::string::npos) << m;
  }
  // The checkpoint on disk is a complete, loadable file from an epoch whose loss was finite.
  auto after = checkpoint_values(c.out + "/last.safetensors");
  for (auto& [name, values] : after)
    for (float v : values) ASSERT_TRUE(std::isfinite(v)) << name;
}

TEST(Train, InterruptKeepsTheCheckpointAndSaysHowToResume) {
  train::TrainConfig c = tiny_config("erc_run_sigint");
  train::interrupt_requested = true;
  try {
    train::train(c);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--resume"), std::string::npos) << e.what();
  }
  train::interrupt_requested = false;
  EXPECT_FALSE(fs::exists(c.out + "/last.safetensors"));
}

TEST(Train, MajorityBaselinePredictsTheTrainingSessionsMostCommonEmotion) {
  // The tiny cache's session 2 (fold 1's training data) labels ang, exc, fru, hap and sad twice each and neu once:
  // the tie goes to ang, first in class order. Session 1 holds 12 utterances, 10 of them labelled, one ang.
  train::TrainConfig c = tiny_config("erc_run_majority");
  c.classes = data::ClassSet::paper();
  const auto predictions = train::majority_predictions(c, {1});
  ASSERT_EQ(predictions.size(), 12u);
  for (const auto& p : predictions) {
    EXPECT_EQ(p.session, 1);
    EXPECT_EQ(p.prediction, 0) << p.utt_id;
  }
  const eval::Metrics m = train::metrics_of(predictions, c.classes);
  EXPECT_EQ(m.n, 10);
  EXPECT_DOUBLE_EQ(m.wa, 0.1);
  EXPECT_EQ(eval::n_predicted_classes(m), 1);
}

// config.json's one list of settings: each one written reads back, a run from before classes were recorded trained
// on the paper's six, and a bad value names the file and the setting.
TEST(RunConfig, EverySettingWrittenReadsBack) {
  train::TrainConfig c;
  c.features = "f.h5";
  c.folds = {2, 3};
  c.classes = data::ClassSet::parse("a,bc=b+c");
  c.epochs = 7;
  c.lr = 0.5;
  c.mode = data::Mode::utterance;
  c.shuffle = data::Shuffle::inter_speaker;
  c.batch_size = 3;
  c.seed = 9;
  c.init = "w.safetensors";
  c.select = "val";
  c.val_fraction = 0.25;
  c.dropout = 0.2;
  c.d_model = 12;
  c.recompute_layers = true;
  const std::string dir = test::temp_path("erc_run_config");
  fs::create_directories(dir);
  nlohmann::json j = train::run_config_json(c, data::CacheAttributes{});
  write_file_atomically(dir + "/config.json", j.dump());
  const train::TrainConfig back = train::read_run_config(dir);
  EXPECT_EQ(back.features, c.features);
  EXPECT_EQ(back.folds, c.folds);
  EXPECT_EQ(back.classes, c.classes);
  EXPECT_EQ(back.epochs, c.epochs);
  EXPECT_EQ(back.lr, c.lr);
  EXPECT_EQ(back.mode, c.mode);
  EXPECT_EQ(back.shuffle, c.shuffle);
  EXPECT_EQ(back.batch_size, c.batch_size);
  EXPECT_EQ(back.seed, c.seed);
  EXPECT_EQ(back.init, c.init);
  EXPECT_EQ(back.select, c.select);
  EXPECT_EQ(back.val_fraction, c.val_fraction);
  EXPECT_EQ(back.dropout, c.dropout);
  EXPECT_EQ(back.d_model, c.d_model);
  EXPECT_EQ(back.recompute_layers, c.recompute_layers);
  EXPECT_EQ(back.out, dir);

  j.erase("classes");
  write_file_atomically(dir + "/config.json", j.dump());
  EXPECT_EQ(train::read_run_config(dir).classes, data::ClassSet::paper());
  j["mode"] = "sideways";
  write_file_atomically(dir + "/config.json", j.dump());
  EXPECT_TRUE(test::mentions(test::error_of([&] { train::read_run_config(dir); }),
                             dir + "/config.json: mode: mode must be conversation or utterance, got 'sideways'"));
}
