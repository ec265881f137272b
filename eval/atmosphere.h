// The paper's per-conversation "atmosphere" analysis (docs/MODEL.md §4): each test conversation's emotion
// distribution, and per conversation and emotion what a conversation-context model gains over a single-utterance
// model.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "eval/predictions.h"

namespace erc::eval {

// One emotion present in one conversation: both models' accuracy on its labelled utterances (their recall).
struct EmotionChange {
  int64_t emotion = 0;  // a class of the report's
  int64_t count = 0;    // labelled utterances of this emotion in the conversation
  double accuracy_context = 0, accuracy_utterance = 0;
  double change = 0;           // accuracy_context - accuracy_utterance
  double relative_change = 0;  // change / accuracy_utterance; NaN when accuracy_utterance is 0
  bool dominant = false;
};

struct ConversationAtmosphere {
  std::string dialogue;
  int64_t session = 0;
  int64_t n_labelled = 0;
  std::vector<int64_t> counts;            // labelled utterances per class, in the report's class order
  std::vector<double> shares;             // counts / n_labelled
  int64_t dominant = 0;                   // the largest share; a tie goes to the first in class order
  double top1_share = 0, top2_share = 0;  // the largest share, and the two largest together
  bool one_over_half = false;             // top1_share > 50%
  bool two_over_half = false;             // top2_share > 50% (so also true when one_over_half is)
  std::vector<EmotionChange> changes;     // the emotions present, in class order
};

struct AtmosphereSummary {
  int64_t n_conversations = 0, n_one_over_half = 0, n_two_over_half = 0;
  int64_t n_labelled = 0;
  double accuracy_context = 0, accuracy_utterance = 0;  // over every labelled utterance
  // Mean change over the (conversation, dominant emotion) pairs and over all other (conversation, emotion)
  // pairs: does context help most with the emotion that sets a conversation's atmosphere? NaN with no pairs.
  int64_t n_dominant_pairs = 0, n_other_pairs = 0;
  double mean_change_dominant = 0, mean_change_other = 0;
};

struct AtmosphereReport {
  std::vector<std::string> classes;                   // the runs' class names, the order of every per-class list
  std::vector<ConversationAtmosphere> conversations;  // by dialogue name; those with no labelled utterance left out
  AtmosphereSummary summary;
};

// Both models' predictions on the same test utterances, matched by utt_id, over the same classes. Errors name the
// first utterance found in one and not the other, a repeated utt_id, or an utterance whose dialogue or label differ.
AtmosphereReport analyse_atmosphere(const std::vector<Prediction>& context_model,
                                    const std::vector<Prediction>& utterance_model,
                                    const std::vector<std::string>& classes);

// dialogue,session,n_labelled,n_<class>...,share_<class>...,dominant,top1_share,top2_share,one_over_half,
// two_over_half (.tmp + rename).
void write_distribution_csv(const std::string& path, const AtmosphereReport& report);

// dialogue,session,emotion,count,dominant,accuracy_context,accuracy_utterance,change,relative_change, one line
// per conversation and emotion present; an undefined relative change is left empty (.tmp + rename).
void write_change_csv(const std::string& path, const AtmosphereReport& report);

// One row per conversation, one column per class with the change in percentage points (dominant marked '*',
// '.' where the emotion is absent), then the summary lines.
std::string format_change_table(const AtmosphereReport& report);

}  // namespace erc::eval
