// config.json: a run's settings in one JSON form, written when the run starts and read back by --resume, erc_eval
// and erc_predict. One list of the settings serves both directions, so a setting cannot be written and forgotten on
// reading; beside them the file records where the run ran and what it ran on (device, TF32, the feature cache,
// the commit, the start), which is read by nothing but people and run_feature_extractor.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "train/trainer.h"

namespace erc::train {

nlohmann::json run_config_json(const TrainConfig& config, const data::CacheAttributes& features);

// Settings missing from the file keep their defaults (a run from before erc recorded its classes trained on the
// paper's six). Errors name the file: not a run directory, not JSON, a setting of the wrong type or value.
TrainConfig read_run_config(const std::string& run_dir);

// How the run's features were made: config.json's record, or for a run written before erc recorded it, the
// attributes of the feature cache it names (an error when that is gone too).
data::CacheAttributes run_feature_extractor(const std::string& run_dir);

}  // namespace erc::train
