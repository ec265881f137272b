#include "train/baselines.h"

namespace erc::train {

std::vector<eval::Prediction> majority_predictions(const TrainConfig& config, const std::vector<int64_t>& folds) {
  ERC_CHECK(config.classes.size() > 0, "majority_predictions: the run's classes are not set");
  const data::FeatureCacheReader cache(config.features);
  std::vector<eval::Prediction> out;
  for (int64_t fold : folds) {
    // A session fold tests on its session and trains on the others; the fixed split on test and on train.
    auto tested = [&](const data::UtteranceInfo& u) {
      return fold == data::kFixedSplit ? u.split == "test" : u.session == fold;
    };
    auto trained = [&](const data::UtteranceInfo& u) {
      return fold == data::kFixedSplit ? u.split == "train" : u.session != fold;
    };
    std::vector<int64_t> counts(config.classes.size(), 0);
    for (const data::UtteranceInfo& u : cache.utterances())
      if (trained(u) && config.classes.index(u.label) >= 0) ++counts[size_t(config.classes.index(u.label))];
    int64_t majority = 0;
    for (size_t c = 1; c < counts.size(); ++c)
      if (counts[c] > counts[size_t(majority)]) majority = int64_t(c);
    for (const data::UtteranceInfo& u : cache.utterances()) {
      if (!tested(u)) continue;
      eval::Prediction p{u.utt_id,
                         u.dialogue,
                         u.session,
                         u.speaker,
                         u.start,
                         u.label,
                         config.classes.index(u.label),
                         majority,
                         std::vector<double>(config.classes.size(), 0.0)};
      p.probabilities[size_t(majority)] = 1.0;
      out.push_back(std::move(p));
    }
  }
  return out;
}

}  // namespace erc::train
