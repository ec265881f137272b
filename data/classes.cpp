#include "data/classes.h"

#include <algorithm>
#include <set>

#include "io/text.h"
#include "tensor/check.h"

namespace erc::data {
namespace {

// IEMOCAP's labels that are no class of the paper's: "other", "no agreement", and three emotions too rare to learn.
const std::set<std::string> kLeftOutByThePaper = {"xxx", "oth", "sur", "fea", "dis"};

std::string trimmed(const std::string& s) {
  const size_t first = s.find_first_not_of(" \t");
  return first == std::string::npos ? "" : s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

}  // namespace

ClassSet ClassSet::paper() {
  ClassSet set;
  for (const char* e : kPaperEmotions) {
    set.names_.push_back(e);
    set.labels_.push_back({e});
  }
  return set;
}

ClassSet ClassSet::parse(const std::string& spec) {
  ClassSet set;
  std::set<std::string> seen_labels, seen_names;
  for (const std::string& part : split(spec, ',')) {
    const std::string cls = trimmed(part);
    const size_t equals = cls.find('=');
    const std::string members = equals == std::string::npos ? cls : cls.substr(equals + 1);
    std::vector<std::string> labels;
    for (const std::string& label : split(members, '+')) {
      labels.push_back(trimmed(label));
      ERC_CHECK(!labels.back().empty() && labels.back().find('=') == std::string::npos, "classes '", spec, "': '", cls,
                "' is not a class (LABEL, LABEL+LABEL or NAME=LABEL+LABEL)");
      ERC_CHECK(seen_labels.insert(labels.back()).second, "classes '", spec, "': label '", labels.back(),
                "' is in two classes");
    }
    std::string joined;
    for (const std::string& label : labels) joined += (joined.empty() ? "" : "+") + label;
    const std::string name = equals == std::string::npos ? joined : trimmed(cls.substr(0, equals));
    ERC_CHECK(!name.empty(), "classes '", spec, "': '", cls, "' has an empty name");
    ERC_CHECK(seen_names.insert(name).second, "classes '", spec, "': two classes are named '", name, "'");
    set.names_.push_back(name);
    set.labels_.push_back(labels);
  }
  ERC_CHECK(set.size() >= 2, "classes '", spec, "': a classifier needs at least two classes");
  return set;
}

ClassSet ClassSet::of_corpus(const std::vector<UtteranceInfo>& utterances) {
  std::set<std::string> labels;
  for (const UtteranceInfo& u : utterances)
    if (!u.label.empty() && !kLeftOutByThePaper.count(u.label)) labels.insert(u.label);
  ERC_CHECK(labels.size() >= 2, "the corpus has ", labels.size(),
            " class label(s) (xxx, oth, sur, fea, dis and empty labels are left out): a classifier needs two; "
            "choose them with --classes");
  ClassSet set;
  for (const std::string& label : labels) {
    set.names_.push_back(label);
    set.labels_.push_back({label});
  }
  return set;
}

nlohmann::json ClassSet::to_json() const {
  nlohmann::json j = nlohmann::json::array();
  for (size_t c = 0; c < names_.size(); ++c) j.push_back({{"name", names_[c]}, {"labels", labels_[c]}});
  return j;
}

ClassSet ClassSet::from_json(const nlohmann::json& j, const std::string& source) {
  ERC_CHECK(j.is_array(), source, ": classes must be a list of classes, [{\"name\": ..., \"labels\": [...]}, ...]");
  ClassSet set;
  std::set<std::string> seen_labels, seen_names;
  try {
    for (const nlohmann::json& cls : j) {
      set.names_.push_back(cls.at("name").get<std::string>());
      set.labels_.push_back(cls.at("labels").get<std::vector<std::string>>());
      ERC_CHECK(seen_names.insert(set.names_.back()).second, source, ": two classes are named '", set.names_.back(),
                "'");
      ERC_CHECK(!set.labels_.back().empty(), source, ": class '", set.names_.back(), "' has no label");
      for (const std::string& label : set.labels_.back())
        ERC_CHECK(seen_labels.insert(label).second, source, ": label '", label, "' is in two classes");
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": classes: " + e.what());
  }
  ERC_CHECK(set.size() >= 2, source, ": classes must be a list of at least two classes");
  return set;
}

int64_t ClassSet::index(const std::string& label) const {
  for (size_t c = 0; c < labels_.size(); ++c)
    if (std::find(labels_[c].begin(), labels_[c].end(), label) != labels_[c].end()) return int64_t(c);
  return kIgnoreLabel;
}

std::string ClassSet::spec() const {
  std::string out;
  for (size_t c = 0; c < names_.size(); ++c) {
    std::string joined;
    for (const std::string& label : labels_[c]) joined += (joined.empty() ? "" : "+") + label;
    out += (c ? "," : "") + (joined == names_[c] ? joined : names_[c] + "=" + joined);
  }
  return out;
}

}  // namespace erc::data
