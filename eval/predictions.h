// A run's per-utterance predictions (predictions.csv of the run directory): what erc_eval and the analyses read.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace erc::eval {

struct Prediction {
  std::string utt_id, dialogue;
  int64_t session = 0;
  std::string speaker;
  double start = 0;                       // seconds within the dialogue
  std::string label;                      // as annotated: one of kEmotions, or xxx, sur, ... (unlabelled)
  int64_t label_index = 0;                // 0..5, or kIgnoreLabel
  int64_t prediction = 0;                 // 0..5
  std::array<double, 6> probabilities{};  // softmax over kEmotions
};

// Columns utt_id,dialogue,session,speaker,start,label,label_index,prediction,p_ang,...,p_sad; the prediction is
// written as the class name and numbers with the fewest digits that read back to the same double. Written to
// path + ".tmp", then renamed. A text field with a comma, a quote or a line break is quoted (RFC 4180, io/csv.h).
void write_predictions_csv(const std::string& path, const std::vector<Prediction>& predictions);

// Columns are found by name in the header (their order and extra columns do not matter). Errors name the file,
// the line and the problem: a missing column, a wrong field count, a bad number, an unknown class, a label_index
// that disagrees with the label.
std::vector<Prediction> read_predictions_csv(const std::string& path);

}  // namespace erc::eval
