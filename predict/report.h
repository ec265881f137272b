// What erc_predict writes and prints: every utterance's emotion and probabilities, and each conversation's
// atmosphere (the shares of the predicted emotions, overall and per speaker, and the emotions that dominate it,
// as in the paper's per-conversation analysis), in CSV, JSON and text.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "predict/predict.h"

namespace erc::predict {

struct SpeakerShares {
  std::string speaker;
  int64_t n_utterances = 0;
  std::vector<double> shares;  // of the speaker's utterances predicted as each class
};

struct ConversationSummary {
  std::string name;
  std::vector<std::string> classes;  // the run's class names: the order of counts and shares
  int64_t n_utterances = 0;
  double seconds = 0;                   // from the first utterance's start to the last one's end
  std::vector<int64_t> counts;          // utterances predicted as each class
  std::vector<double> shares;           // counts / n_utterances
  std::vector<SpeakerShares> speakers;  // in order of first turn
  int64_t dominant = 0, second = 0;     // the two largest shares (a tie goes to the first in class order)
  bool one_over_half = false;           // the dominant emotion alone holds more than half
  bool two_over_half = false;           // the two together do
};

ConversationSummary summarise(const std::string& name, const std::vector<UtterancePrediction>& predictions,
                              const std::vector<std::string>& classes);

// A few lines: the shares, per speaker, the dominant emotions.
std::string format_summary(const ConversationSummary& summary);

struct ConversationResult {
  std::string name;
  std::vector<UtterancePrediction> predictions;
  ConversationSummary summary;
};

// Columns conversation,utterance,start,end,speaker,emotion,p_<class>...; numbers with the fewest digits that
// read back to the same double; a field holding ',' or '"' is quoted. .tmp + rename.
void write_predictions_csv(const std::string& path, const std::vector<ConversationResult>& results,
                           const std::vector<std::string>& classes);

// {"emotions": classes, "conversations": [{"name", "atmosphere": {...}, "utterances": [...]}], plus `header`'s
// fields}. .tmp + rename.
void write_predictions_json(const std::string& path, const std::vector<ConversationResult>& results,
                            const std::vector<std::string>& classes, const nlohmann::json& header);
nlohmann::json summary_json(const ConversationSummary& summary);

// The timeline figure of one conversation (eval/charts.h): a lane per speaker, turns coloured by emotion.
void write_timeline(const std::string& path, const ConversationResult& result);

}  // namespace erc::predict
