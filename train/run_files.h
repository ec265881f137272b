// Small helpers for the run directory: atomic text files, JSON forms of metrics, the build's git commit.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "eval/metrics.h"

namespace erc::train {

std::string read_text(const std::string& path);

nlohmann::json metrics_json(const eval::Metrics& m);

// The commit the binaries were built from, "+dirty" with uncommitted changes ("unknown" outside git).
const char* git_commit();

// "2026-11-24T08:30:00Z"
std::string utc_timestamp();

}  // namespace erc::train
