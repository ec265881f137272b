// What the training tests share: a tiny feature cache and a training configuration that runs on it in a second.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "data/feature_cache.h"
#include "test_util.h"
#include "train/trainer.h"

namespace erc::test {

constexpr int64_t kTinyFeatureDim = 8;

// Two sessions of two dialogues, six utterances each of `min_frames` to `min_frames` + 2 frames; features carry a
// little label signal. Written once per process (CTest runs the tests of this file in parallel processes, each with
// its own file).
inline std::string write_tiny_cache(const std::string& path, int64_t feature_dim = kTinyFeatureDim,
                                    int64_t min_frames = 3) {
  data::CacheAttributes a;
  a.extractor = "test";
  a.feature_dim = feature_dim;
  a.dtype = DType::f32;
  data::FeatureCacheWriter w(path, a);
  Generator gen(5);
  const char* labels[] = {"ang", "neu", "xxx", "sad", "hap", "exc", "fru"};
  std::vector<std::string> order;
  for (int s = 1; s <= 2; ++s)
    for (int d = 0; d < 2; ++d)
      for (int u = 0; u < 6; ++u) {
        data::UtteranceInfo info;
        info.dialogue = "Ses0" + std::to_string(s) + "F_impro0" + std::to_string(d);
        info.speaker = u % 2 ? "M" : "F";
        info.utt_id = info.dialogue + "_" + info.speaker + "00" + std::to_string(u);
        info.session = s;
        info.label = labels[(s + d + u) % 7];
        info.start = u;
        info.end = u + 0.5;
        Tensor f = randn({min_frames + u % 3, feature_dim}, gen);
        const int64_t c = data::ClassSet::paper().index(info.label);
        if (c >= 0)
          for (int64_t t = 0; t < f.size(0); ++t) f.data<float>()[t * feature_dim + c] += 2.0f;
        w.write(info, f);
        order.push_back(info.utt_id);
      }
  w.finish(order);
  return path;
}

inline train::TrainConfig tiny_config(const std::string& out) {
  train::TrainConfig c;
  static const std::string cache = write_tiny_cache(temp_path("erc_train_tiny.h5"));
  c.features = cache;
  c.folds = {1};
  c.epochs = 3;
  c.lr = 1e-2;
  c.out = ::testing::TempDir() + out;
  c.d_model = 8;
  c.progress = false;
  std::filesystem::remove_all(c.out);
  return c;
}

}  // namespace erc::test
