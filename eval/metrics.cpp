#include "eval/metrics.h"

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <sstream>

#include "tensor/check.h"

namespace erc::eval {

Metrics compute_metrics(const std::vector<int64_t>& labels, const std::vector<int64_t>& predictions,
                        int64_t n_classes) {
  ERC_CHECK(labels.size() == predictions.size(), "metrics: ", labels.size(), " labels but ", predictions.size(),
            " predictions");
  Metrics m;
  m.confusion.assign(size_t(n_classes), std::vector<int64_t>(size_t(n_classes), 0));
  int64_t correct = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0) continue;
    ERC_CHECK(labels[i] < n_classes && predictions[i] >= 0 && predictions[i] < n_classes, "metrics: label ",
              labels[i], " or prediction ", predictions[i], " outside 0..", n_classes - 1);
    ++m.confusion[size_t(labels[i])][size_t(predictions[i])];
    correct += labels[i] == predictions[i];
    ++m.n;
  }
  m.per_class.resize(size_t(n_classes));
  int64_t classes_with_support = 0;
  for (int64_t c = 0; c < n_classes; ++c) {
    ClassMetrics& k = m.per_class[size_t(c)];
    const int64_t tp = m.confusion[size_t(c)][size_t(c)];
    for (int64_t o = 0; o < n_classes; ++o) {
      k.support += m.confusion[size_t(c)][size_t(o)];
      k.predicted += m.confusion[size_t(o)][size_t(c)];
    }
    k.precision = k.predicted ? double(tp) / double(k.predicted) : 0.0;
    k.recall = k.support ? double(tp) / double(k.support) : 0.0;
    k.f1 = k.precision + k.recall > 0 ? 2 * k.precision * k.recall / (k.precision + k.recall) : 0.0;
    if (k.support == 0) continue;
    ++classes_with_support;
    m.ua += k.recall;
    m.macro_f1 += k.f1;
    m.weighted_f1 += k.f1 * double(k.support);
  }
  if (m.n > 0) {
    m.wa = double(correct) / double(m.n);
    m.weighted_f1 /= double(m.n);
    m.ua /= double(classes_with_support);
    m.macro_f1 /= double(classes_with_support);
  }
  return m;
}

int64_t n_predicted_classes(const Metrics& m) {
  int64_t n = 0;
  for (const ClassMetrics& c : m.per_class) n += c.predicted > 0;
  return n;
}

std::string format_metrics(const Metrics& m, const std::vector<std::string>& names) {
  ERC_CHECK(names.size() == m.per_class.size(), "format_metrics: ", names.size(), " names for ", m.per_class.size(),
            " classes");
  // Columns as wide as the longest class name (the paper's three letters fit the narrowest).
  size_t longest = 5;
  for (const std::string& n : names) longest = std::max(longest, n.size());
  const int name_width = int(longest), cell = int(longest) + 1;
  std::ostringstream out;
  char line[256];
  std::snprintf(line, sizeof line, "WA %.2f  UA %.2f  W-F1 %.2f  macro-F1 %.2f  (%lld labelled utterances)\n",
                100 * m.wa, 100 * m.ua, 100 * m.weighted_f1, 100 * m.macro_f1, static_cast<long long>(m.n));
  out << line << "\n"
      << std::left << std::setw(name_width) << "class"
      << "  precision  recall    F1   support\n";
  for (size_t c = 0; c < m.per_class.size(); ++c) {
    const ClassMetrics& k = m.per_class[c];
    std::snprintf(line, sizeof line, "%-*s %10.2f %7.2f %6.2f %8lld\n", name_width, names[c].c_str(), 100 * k.precision,
                  100 * k.recall, 100 * k.f1, static_cast<long long>(k.support));
    out << line;
  }
  out << "\nconfusion (rows: true, columns: predicted)\n" << std::string(size_t(name_width), ' ');
  for (const std::string& n : names) {
    std::snprintf(line, sizeof line, "%*s", cell, n.c_str());
    out << line;
  }
  out << "\n";
  for (size_t r = 0; r < m.confusion.size(); ++r) {
    std::snprintf(line, sizeof line, "%-*s", name_width, names[r].c_str());
    out << line;
    for (int64_t v : m.confusion[r]) {
      std::snprintf(line, sizeof line, "%*lld", cell, static_cast<long long>(v));
      out << line;
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace erc::eval
