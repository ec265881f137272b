// What the apps share: --fold and --threads handling, the label counts.
#pragma once
#include <omp.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "tensor/check.h"

namespace erc::apps {

// "1".."5" -> {k}; "all" -> `all`.
inline std::vector<int64_t> parse_folds(const std::string& fold, const std::vector<int64_t>& all) {
  if (fold == "all") return all;
  const bool digit = fold.size() == 1 && fold[0] >= '1' && fold[0] <= '5';
  ERC_CHECK(digit, "--fold must be 1..5 or all, got '", fold, "'");
  return {int64_t(fold[0] - '0')};
}

// 0 keeps the defaults (all cores). OpenMP's threads run everything, GEMMs included (ops/blas.h): no bit depends on
// the count.
inline void set_threads(int threads) {
  ERC_CHECK(threads >= 0, "--threads must be >= 0, got ", threads);
  if (threads == 0) return;
  omp_set_num_threads(threads);
}

// One line: "labelled N: ang a exc b ...; unlabelled M (oth x, sur y, xxx z)".
inline void print_label_counts(const std::vector<data::UtteranceInfo>& utterances) {
  std::map<std::string, int64_t> hidden;
  int64_t per_class[data::kEmotions.size()] = {};
  int64_t labelled = 0;
  for (const data::UtteranceInfo& u : utterances) {
    const int64_t c = data::label_index(u.label);
    if (c == data::kIgnoreLabel) {
      ++hidden[u.label];
    } else {
      ++per_class[c];
      ++labelled;
    }
  }
  std::printf("labelled %lld:", static_cast<long long>(labelled));
  for (size_t c = 0; c < data::kEmotions.size(); ++c)
    std::printf(" %s %lld", data::kEmotions[c], static_cast<long long>(per_class[c]));
  std::printf("; unlabelled %lld (", static_cast<long long>(utterances.size()) - labelled);
  const char* separator = "";
  for (const auto& [label, n] : hidden) {
    std::printf("%s%s %lld", separator, label.c_str(), static_cast<long long>(n));
    separator = ", ";
  }
  std::printf(")\n");
}

}  // namespace erc::apps
