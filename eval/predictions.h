// A run's per-utterance predictions (predictions.csv of the run directory): what erc_eval and the analyses read.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/classes.h"

namespace erc::eval {

struct Prediction {
  std::string utt_id, dialogue;
  int64_t session = 0;
  std::string speaker;
  double start = 0;                       // seconds within the dialogue
  std::string label;                      // as annotated, whether in a class of the run's or not
  int64_t label_index = 0;                // its class in the run's ClassSet, or kIgnoreLabel
  int64_t prediction = 0;                 // a class of the run's
  std::vector<double> probabilities;      // softmax over the run's classes, in their order
};

// Columns utt_id,dialogue,session,speaker,start,label,label_index,prediction,p_<class>... (one per class of
// `classes`, in order); the prediction is written as the class name and numbers with the fewest digits that read
// back to the same double. Written to path + ".tmp", then renamed. A text field with a comma, a quote or a line
// break is quoted (RFC 4180, io/csv.h), as is a class name in the header.
void write_predictions_csv(const std::string& path, const std::vector<Prediction>& predictions,
                           const data::ClassSet& classes);

// Columns are found by name in the header (their order and extra columns do not matter). Errors name the file,
// the line and the problem: a missing column, a wrong field count, a bad number, an unknown class, a label_index
// that disagrees with the label under `classes`.
std::vector<Prediction> read_predictions_csv(const std::string& path, const data::ClassSet& classes);

}  // namespace erc::eval
