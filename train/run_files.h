// Small helpers for the run directory: atomic text files, JSON forms of metrics, the build's git commit.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "data/classes.h"
#include "data/feature_cache.h"
#include "eval/metrics.h"

namespace erc::train {

std::string read_text(const std::string& path);

// per_class is keyed by the class names.
nlohmann::json metrics_json(const eval::Metrics& m, const data::ClassSet& classes);

// How a run's features were made (config.json's "feature_extractor"): what erc_predict must make again. The
// storage dtype is not part of it (a model reads f32 features whatever the cache stored).
nlohmann::json feature_extractor_json(const data::CacheAttributes& a);
data::CacheAttributes feature_extractor_from_json(const nlohmann::json& j, const std::string& source);

// The commit the binaries were built from, "+dirty" with uncommitted changes ("unknown" outside git).
const char* git_commit();

// "2026-11-24T08:30:00Z"
std::string utc_timestamp();

}  // namespace erc::train
