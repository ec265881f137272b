#include "train/run_config.h"

#include <filesystem>

#include "data/feature_cache.h"
#include "train/run_files.h"

namespace erc::data {

// nlohmann's converters for the settings' own types, found by argument-dependent lookup.
void to_json(nlohmann::json& j, Mode m) { j = mode_name(m); }
void from_json(const nlohmann::json& j, Mode& m) { m = parse_mode(j.get<std::string>()); }
void to_json(nlohmann::json& j, Shuffle s) { j = shuffle_name(s); }
void from_json(const nlohmann::json& j, Shuffle& s) { s = parse_shuffle(j.get<std::string>()); }
void to_json(nlohmann::json& j, const ClassSet& c) { j = c.to_json(); }
void from_json(const nlohmann::json& j, ClassSet& c) { c = ClassSet::from_json(j, "classes"); }

}  // namespace erc::data

namespace erc::train {
namespace {

// Every setting of a run that config.json keeps, by its key. `Config` is TrainConfig or const TrainConfig.
template <typename Config, typename Visit>
void visit_settings(Config& c, Visit&& visit) {
  visit("features", c.features);
  visit("folds", c.folds);
  visit("classes", c.classes);
  visit("epochs", c.epochs);
  visit("lr", c.lr);
  visit("mode", c.mode);
  visit("shuffle", c.shuffle);
  visit("batch_size", c.batch_size);
  visit("seed", c.seed);
  visit("init", c.init);
  visit("select", c.select);
  visit("val_fraction", c.val_fraction);
  visit("dropout", c.dropout);
  visit("d_model", c.d_model);
  visit("recompute_layers", c.recompute_layers);
}

}  // namespace

nlohmann::json run_config_json(const TrainConfig& config, const data::CacheAttributes& features) {
  nlohmann::json j;
  visit_settings(config, [&](const char* key, const auto& value) { j[key] = value; });
  j["optimizer"] = "RAdamScheduleFree";
  j["device"] = device_name(config.device);
  j["tf32"] = config.tf32;
  j["feature_cache"] = features.describe();
  j["feature_extractor"] = feature_extractor_json(features);
  j["git_commit"] = git_commit();
  j["started"] = utc_timestamp();
  return j;
}

TrainConfig read_run_config(const std::string& run_dir) {
  const std::string path = run_dir + "/config.json";
  ERC_CHECK(std::filesystem::exists(path), run_dir, ": not an erc_train run directory (no config.json)");
  const nlohmann::json j = nlohmann::json::parse(read_text(path), nullptr, /*allow_exceptions=*/false);
  ERC_CHECK(j.is_object(), path, ": not valid JSON");
  ERC_CHECK(j.contains("features") && j.contains("folds"), path,
            ": not an erc_train run's config (no features or "
            "folds)");
  TrainConfig c;
  c.out = run_dir;
  c.classes = data::ClassSet::paper();
  visit_settings(c, [&](const char* key, auto& value) {
    if (!j.contains(key)) return;
    try {
      j.at(key).get_to(value);
    } catch (const std::exception& e) {
      throw Error(path + ": " + key + ": " + e.what());
    }
  });
  return c;
}

data::CacheAttributes run_feature_extractor(const std::string& run_dir) {
  const std::string path = run_dir + "/config.json";
  const nlohmann::json j = nlohmann::json::parse(read_text(path), nullptr, /*allow_exceptions=*/false);
  ERC_CHECK(j.is_object(), path, ": not valid JSON");
  if (j.contains("feature_extractor")) return feature_extractor_from_json(j["feature_extractor"], path);
  const std::string features = j.value("features", "");
  ERC_CHECK(std::filesystem::exists(features), path,
            " does not record how its features were made (a run from before erc ",
            "recorded it) and its feature cache ", features, " is gone: nothing says which front end it needs");
  return data::FeatureCacheReader(features).attributes();
}

}  // namespace erc::train
