#include "train/baselines.h"

#include <array>

namespace erc::train {

std::vector<eval::Prediction> majority_predictions(const TrainConfig& config, const std::vector<int64_t>& folds) {
  const data::FeatureCacheReader cache(config.features);
  std::vector<eval::Prediction> out;
  for (int64_t fold : folds) {
    std::array<int64_t, data::kEmotions.size()> counts{};
    for (const data::UtteranceInfo& u : cache.utterances())
      if (u.session != fold && data::label_index(u.label) >= 0) ++counts[size_t(data::label_index(u.label))];
    int64_t majority = 0;
    for (size_t c = 1; c < counts.size(); ++c)
      if (counts[c] > counts[size_t(majority)]) majority = int64_t(c);
    for (const data::UtteranceInfo& u : cache.utterances()) {
      if (u.session != fold) continue;
      eval::Prediction p{u.utt_id, u.dialogue, u.session, u.speaker, u.start, u.label, data::label_index(u.label),
                         majority, {}};
      p.probabilities[size_t(majority)] = 1.0;
      out.push_back(std::move(p));
    }
  }
  return out;
}

}  // namespace erc::train
