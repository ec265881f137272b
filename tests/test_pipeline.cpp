// The main job at a tiny size, through the same library calls the programs make: a spoken demo corpus in
// IEMOCAP's layout -> the IEMOCAP indexer -> WavLM features (a seeded random tiny WavLM) -> training on one fold
// -> evaluation of the best checkpoint.
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "corpora/demo_corpus.h"
#include "data/iemocap.h"
#include "extract/extract.h"
#include "test_util.h"
#include "train/run_config.h"
#include "train/trainer.h"

using namespace erc;
namespace fs = std::filesystem;

namespace {

TEST(Pipeline, CorpusFeaturesTrainEvaluate) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("erc_pipeline_" + std::to_string(getpid()));
  fs::remove_all(dir);
  corpora::DemoCorpusOptions corpus;
  corpus.sessions = 2;
  corpus.dialogues_per_session = 2;
  corpus.min_utterances = 4;
  corpus.max_utterances = 5;
  ASSERT_EQ(corpora::write_demo_corpus((dir / "corpus").string(), corpus), corpora::DemoCorpusOutcome::written);

  const data::IemocapIndex index = data::index_iemocap((dir / "corpus").string(), {1, 2});
  EXPECT_TRUE(index.missing_wavs.empty());
  EXPECT_EQ(index.dialogues, 4);
  std::vector<data::AudioItem> items;
  for (const auto& u : index.utterances) items.push_back({u, data::wav_path((dir / "corpus").string(), u)});

  const auto wavlm = extract::make_front_end(
      {.frontend = "wavlm", .wavlm = "random:" + std::string(ERC_FIXTURE_DIR) + "/wavlm_tiny.json", .layer = 2});
  const std::string features = (dir / "features.h5").string();
  extract::extract_features(*wavlm, items, features, {});
  ASSERT_EQ(data::FeatureCacheReader(features).utterances().size(), items.size());

  train::TrainConfig config;
  config.features = features;
  config.folds = {2};
  config.epochs = 2;
  config.d_model = 8;
  config.lr = 1e-3;
  config.progress = false;
  config.out = (dir / "run").string();
  const auto results = train::train(config);
  ASSERT_EQ(results.size(), 1u);
  // The default classes are the corpus's labels, recorded in config.json.
  const train::TrainConfig run = train::read_run_config(config.out);
  EXPECT_EQ(run.classes, data::ClassSet::of_corpus(index.utterances));
  int64_t labelled_in_session_2 = 0;
  for (const auto& u : index.utterances) labelled_in_session_2 += u.session == 2 && run.classes.index(u.label) >= 0;
  EXPECT_EQ(results[0].test.n, labelled_in_session_2);
  EXPECT_TRUE(std::isfinite(results[0].test.weighted_f1));
  for (const char* file : {"config.json", "metrics.jsonl", "best.safetensors", "last.safetensors", "report.json",
                           "predictions.csv"})
    EXPECT_TRUE(fs::exists(dir / "run" / file)) << file;

  const auto predictions = train::evaluate_checkpoint(run, train::checkpoint_path(config, 2, "best"), 2);
  EXPECT_EQ(train::metrics_of(predictions, run.classes).n, labelled_in_session_2);
  EXPECT_DOUBLE_EQ(train::metrics_of(predictions, run.classes).weighted_f1, results[0].test.weighted_f1);
  fs::remove_all(dir);
}

}  // namespace
