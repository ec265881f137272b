// The model in use: a trained run plus audio in, per-utterance emotions out (docs/PREDICT.md).
//
// Features are made on the fly by the front end the run's features came from, rebuilt from the run's record and
// refused when it differs (other weights, layer or normalisation give a model confident nonsense); the model then
// reads each conversation as it was trained to: the whole conversation as one sequence, or each utterance alone.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "data/feature_cache.h"
#include "extract/front_end.h"
#include "train/trainer.h"

namespace erc::predict {

// One conversation's utterances, in time order, with their audio at 16 kHz.
struct ConversationAudio {
  std::string name;                             // the dialogue, or the recording's file name without extension
  std::string source;                           // what it was read from, for messages
  std::vector<data::UtteranceInfo> utterances;  // start and end in seconds within the conversation
  std::vector<Tensor> waveforms;                // [n_samples] f32 each, not normalised
};

// A `list:` CSV as erc_extract reads it (data/audio_list.h): its dialogues, in order of first appearance.
std::vector<ConversationAudio> read_list(const std::string& csv_path, int64_t min_samples);

// One long recording cut at its turns (data/segments.h). Utterances are named <recording>_<turn number, from 1,
// three digits> unless the segments name them; every turn is checked against the recording first.
ConversationAudio read_recording(const std::string& audio_path, const std::string& segments_path, int64_t min_samples);

struct UtterancePrediction {
  data::UtteranceInfo utterance;
  int64_t emotion = 0;                // the most probable class of the run's
  std::vector<double> probabilities;  // softmax over the run's classes
};

struct RunChoice {
  std::string run_dir;
  int64_t fold = 0;            // 0: the run's only fold (an error naming them when it trained several)
  std::string which = "best";  // best | last
  Device device = Device::cpu;
};

class Predictor {
 public:
  // `front` names the front end the caller offers: its frontend, wavlm, seed, and a layer of 0 for the run's own.
  // Errors: no such run or checkpoint, and a front end other than the run's (both named).
  Predictor(const RunChoice& run, extract::FrontEndOptions front);
  ~Predictor();

  std::vector<UtterancePrediction> predict(const ConversationAudio& conversation) const;
  const extract::FrontEnd& front_end() const { return *front_end_; }
  const data::CacheAttributes& features() const { return features_; }  // what the run's features were
  const std::string& checkpoint() const { return checkpoint_; }
  const train::TrainConfig& run() const { return config_; }

 private:
  train::TrainConfig config_;
  data::CacheAttributes features_;
  std::string checkpoint_;
  std::unique_ptr<extract::FrontEnd> front_end_;
  std::unique_ptr<nn::ErcModel> model_;
};

// Why a front end's features are not the run's, or "" when they are: the differing fields, both values named.
std::string front_end_mismatch(const data::CacheAttributes& run, const data::CacheAttributes& offered);

}  // namespace erc::predict
