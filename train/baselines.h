// The reference a trained model must beat: the majority class. Each fold's most common emotion among the labelled
// utterances of its training sessions (of the train split, for the fixed split) is "predicted" for every test
// utterance, as a model that learnt nothing but the class frequencies would; its WA is that class's share of the
// test set.
#pragma once
#include <vector>

#include "train/trainer.h"

namespace erc::train {

// Predictions of the majority-class baseline on the test sessions of `folds`, in the run's feature cache order.
std::vector<eval::Prediction> majority_predictions(const TrainConfig& config, const std::vector<int64_t>& folds);

}  // namespace erc::train
