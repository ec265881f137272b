// Classification metrics of the paper: WA (accuracy), UA (mean recall), weighted and macro F1, confusion.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace erc::eval {

struct ClassMetrics {
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;    // labelled utterances of this class
  int64_t predicted = 0;  // utterances predicted as this class
};

struct Metrics {
  int64_t n = 0;            // labelled utterances scored (ignored labels excluded)
  double wa = 0;            // weighted accuracy: correct / n
  double ua = 0;            // unweighted accuracy: mean recall over classes with support
  double weighted_f1 = 0;   // F1 averaged with support weights
  double macro_f1 = 0;      // F1 averaged over classes with support
  std::vector<ClassMetrics> per_class;
  std::vector<std::vector<int64_t>> confusion;  // [true class][predicted class]
};

// labels and predictions per utterance; a label < 0 is unlabelled and not scored. A class without support is
// left out of UA and macro-F1 (it has no recall to average) and has weight 0 in weighted F1; a precision with no
// predictions is 0, as scikit-learn's zero_division=0.
Metrics compute_metrics(const std::vector<int64_t>& labels, const std::vector<int64_t>& predictions, int64_t n_classes);

// The classes predicted for at least one labelled utterance: 1 means a model that says the same class whatever it
// hears, whose WA is only that class's share (never a result to report as one).
int64_t n_predicted_classes(const Metrics& m);

// The per-class table and the confusion matrix as aligned text, with class names.
std::string format_metrics(const Metrics& m, const std::vector<std::string>& class_names);

}  // namespace erc::eval
