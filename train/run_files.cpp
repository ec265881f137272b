#include "train/run_files.h"

#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include "git_commit.h"  // generated in the build folder at every build
#include "tensor/check.h"

namespace erc::train {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  ERC_CHECK(in.good(), path, ": cannot open");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

nlohmann::json metrics_json(const eval::Metrics& m, const data::ClassSet& classes) {
  ERC_CHECK(m.per_class.size() == classes.size(), "metrics of ", m.per_class.size(), " classes named by ",
            classes.size());
  nlohmann::json per_class = nlohmann::json::object();
  for (size_t c = 0; c < m.per_class.size(); ++c) {
    const auto& k = m.per_class[c];
    per_class[classes.name(int64_t(c))] = {
        {"precision", k.precision}, {"recall", k.recall}, {"f1", k.f1}, {"support", k.support}};
  }
  return {{"n", m.n},           {"wa", m.wa},          {"ua", m.ua},           {"weighted_f1", m.weighted_f1},
          {"macro_f1", m.macro_f1}, {"per_class", per_class}, {"confusion", m.confusion}};
}

nlohmann::json feature_extractor_json(const data::CacheAttributes& a) {
  return {{"extractor", a.extractor},     {"layer", a.layer},           {"normalised", a.normalised},
          {"sample_rate", a.sample_rate}, {"frame_rate", a.frame_rate}, {"feature_dim", a.feature_dim}};
}

data::CacheAttributes feature_extractor_from_json(const nlohmann::json& j, const std::string& source) {
  ERC_CHECK(j.is_object(), source, ": feature_extractor is not an object");
  data::CacheAttributes a;
  try {
    a.extractor = j.at("extractor").get<std::string>();
    a.layer = j.at("layer").get<int64_t>();
    a.normalised = j.at("normalised").get<bool>();
    a.sample_rate = j.at("sample_rate").get<int64_t>();
    a.frame_rate = j.at("frame_rate").get<double>();
    a.feature_dim = j.at("feature_dim").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": feature_extractor: " + e.what());
  }
  return a;
}

const char* git_commit() { return ERC_GIT_COMMIT; }

std::string utc_timestamp() {
  std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buf;
}

}  // namespace erc::train
