// The emotion classes a run trains on (docs/CORPORA.md): each class is a name and the annotated labels it stands
// for. A label in no class is input only (the paper's xxx): the model reads it as context, the loss skips it.
#pragma once
#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/feature_cache.h"

namespace erc::data {

// docs/MODEL.md §2's classes, the paper's order (alphabetical).
inline constexpr std::array<const char*, 6> kPaperEmotions = {"ang", "exc", "fru", "hap", "neu", "sad"};
inline constexpr int64_t kIgnoreLabel = -100;  // a target cross-entropy skips

class ClassSet {
 public:
  // The paper's six classes, one label each.
  static ClassSet paper();

  // `--classes`: classes separated by ',', in order. In a class, '+' merges labels ("hap+exc" is named so) and
  // "name=" names it ("hap=hap+exc"). Errors: fewer than two classes, an empty class or label, a label or name
  // given twice.
  static ClassSet parse(const std::string& spec);

  // The default of a corpus: every label its utterances hold, alphabetical, as its own class, except the empty
  // label and those of IEMOCAP's annotators that the paper leaves out (xxx, oth, sur, fea, dis). On IEMOCAP (and
  // the demo and synthetic corpora, which use its labels) that is the paper's six.
  static ClassSet of_corpus(const std::vector<UtteranceInfo>& utterances);

  // config.json's form, [{"name": "hap", "labels": ["hap", "exc"]}, ...]: any label, even one holding ',' or '+'.
  nlohmann::json to_json() const;
  static ClassSet from_json(const nlohmann::json& j, const std::string& source);  // errors name `source`

  size_t size() const { return names_.size(); }
  const std::vector<std::string>& names() const { return names_; }
  const std::string& name(int64_t c) const { return names_.at(size_t(c)); }
  int64_t index(const std::string& label) const;  // its class, or kIgnoreLabel
  std::string spec() const;                       // for messages: "ang,hap=hap+exc,neu,sad"

  bool operator==(const ClassSet& other) const = default;

 private:
  std::vector<std::string> names_;
  std::vector<std::vector<std::string>> labels_;  // per class
};

}  // namespace erc::data
