// What the apps share: --fold and --threads handling, the label counts.
#pragma once
#include <omp.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "tensor/check.h"

namespace erc::apps {

// "k" -> {k}, a session of `all`; "split" -> {kFixedSplit}, when `all` holds it; "all" -> `all`.
inline std::vector<int64_t> parse_folds(const std::string& fold, const std::vector<int64_t>& all) {
  if (fold == "all") return all;
  int64_t k = 0;
  const auto [end, ec] = std::from_chars(fold.data(), fold.data() + fold.size(), k);
  const bool number = ec == std::errc() && end == fold.data() + fold.size() && k != data::kFixedSplit;
  if (fold == "split") k = data::kFixedSplit;
  const bool known = (number || fold == "split") && std::find(all.begin(), all.end(), k) != all.end();
  std::string folds;
  for (int64_t s : all) folds += (folds.empty() ? "" : ", ") + (s == data::kFixedSplit ? "split" : std::to_string(s));
  ERC_CHECK(known, "--fold must be one of ", folds, " or all, got '", fold, "'");
  return {k};
}

// The sessions of a corpus, ascending: the folds of leave-one-session-out.
inline std::vector<int64_t> sessions_of(const std::vector<data::UtteranceInfo>& utterances) {
  std::set<int64_t> sessions;
  for (const data::UtteranceInfo& u : utterances) sessions.insert(u.session);
  return {sessions.begin(), sessions.end()};
}

// 0 keeps the defaults (all cores). OpenMP's threads run everything, GEMMs included (ops/blas.h): no bit depends on
// the count.
inline void set_threads(int threads) {
  ERC_CHECK(threads >= 0, "--threads must be >= 0, got ", threads);
  if (threads == 0) return;
  omp_set_num_threads(threads);
}

// One line: "labelled N: ang a exc b ...; unlabelled M (oth x, sur y, xxx z)", under `classes`.
inline void print_label_counts(const std::vector<data::UtteranceInfo>& utterances, const data::ClassSet& classes) {
  std::map<std::string, int64_t> hidden;
  std::vector<int64_t> per_class(classes.size(), 0);
  int64_t labelled = 0;
  for (const data::UtteranceInfo& u : utterances) {
    const int64_t c = classes.index(u.label);
    if (c == data::kIgnoreLabel) {
      ++hidden[u.label];
    } else {
      ++per_class[size_t(c)];
      ++labelled;
    }
  }
  std::printf("labelled %lld:", static_cast<long long>(labelled));
  for (size_t c = 0; c < classes.size(); ++c)
    std::printf(" %s %lld", classes.name(int64_t(c)).c_str(), static_cast<long long>(per_class[c]));
  std::printf("; unlabelled %lld (", static_cast<long long>(utterances.size()) - labelled);
  const char* separator = "";
  for (const auto& [label, n] : hidden) {
    std::printf("%s%s %lld", separator, label.c_str(), static_cast<long long>(n));
    separator = ", ";
  }
  std::printf(")\n");
}

}  // namespace erc::apps
