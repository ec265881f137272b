#include "predict/predict.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

#include "autograd/grad_mode.h"
#include "data/audio.h"
#include "data/audio_list.h"
#include "data/dataset.h"
#include "data/segments.h"
#include "extract/extract.h"
#include "nn/erc_model.h"
#include "train/run_config.h"

namespace erc::predict {

namespace {

constexpr int64_t kSampleRate = 16000;
// Audio per front-end call, as erc_extract's default: WavLM's memory grows with it, and a long recording is cut
// into many turns anyway.
constexpr double kMaxBatchSeconds = 60.0;

void check_length(const Tensor& waveform, int64_t min_samples, const std::string& what) {
  ERC_CHECK(waveform.size(0) >= min_samples, what, ": ", waveform.size(0), " samples at 16 kHz, fewer than the ",
            min_samples, " the front end needs for one frame");
}

// The features of each waveform, the front end called on runs of them within the audio budget.
std::vector<Tensor> front_end_features(const extract::FrontEnd& front_end, const std::vector<Tensor>& waveforms,
                                       bool normalise) {
  std::vector<Tensor> out;
  for (size_t next = 0; next < waveforms.size();) {
    std::vector<Tensor> batch;
    double seconds = 0;
    while (next < waveforms.size()) {
      const double s = double(waveforms[next].size(0)) / double(kSampleRate);
      if (!batch.empty() && seconds + s > kMaxBatchSeconds) break;
      batch.push_back(extract::front_end_input(waveforms[next++], normalise));
      seconds += s;
    }
    for (Tensor& f : front_end.features(batch)) out.push_back(std::move(f));
  }
  return out;
}

// The probabilities of `utterances` (indices into `features`) packed as `sequences` of them.
void classify(const nn::ErcModel& model, Device device, const std::vector<Tensor>& features,
              const std::vector<std::vector<size_t>>& sequences, std::vector<UtterancePrediction>& out) {
  const int64_t feature_dim = features[0].size(1);
  std::vector<int64_t> seq_offsets = {0}, utt_offsets = {0};
  std::vector<size_t> order;
  for (const auto& seq : sequences) {
    for (size_t u : seq) {
      order.push_back(u);
      utt_offsets.push_back(utt_offsets.back() + features[u].size(0));
    }
    seq_offsets.push_back(utt_offsets.back());
  }
  Tensor packed = Tensor::empty({utt_offsets.back(), feature_dim}, DType::f32);
  for (size_t i = 0; i < order.size(); ++i) {
    const Tensor f = features[order[i]].contiguous();
    std::memcpy(packed.data<float>() + utt_offsets[i] * feature_dim, f.data<float>(),
                size_t(f.numel()) * sizeof(float));
  }
  const auto probabilities = train::utterance_probabilities(model, packed.to(device), seq_offsets, utt_offsets);
  for (size_t i = 0; i < order.size(); ++i) {
    out[order[i]].probabilities = probabilities[i];
    out[order[i]].emotion = train::most_probable(probabilities[i]);
  }
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

std::vector<ConversationAudio> read_list(const std::string& csv_path, int64_t min_samples) {
  std::vector<ConversationAudio> conversations;
  std::map<std::string, size_t> index;
  data::AudioItemReader reader;
  for (const data::AudioItem& item : data::read_audio_list(csv_path)) {
    auto [it, added] = index.emplace(item.info.dialogue, conversations.size());
    if (added) conversations.push_back({item.info.dialogue, csv_path, {}, {}});
    ConversationAudio& c = conversations[it->second];
    c.waveforms.push_back(reader.read(item, kSampleRate));
    check_length(c.waveforms.back(), min_samples, item.path);
    c.utterances.push_back(item.info);
  }
  return conversations;
}

ConversationAudio read_recording(const std::string& audio_path, const std::string& segments_path, int64_t min_samples) {
  const data::SegmentList turns = data::read_segments(segments_path);
  const Tensor recording = data::load_audio(audio_path, kSampleRate);
  data::check_segments(turns, audio_path, recording.size(0), kSampleRate, min_samples);
  ConversationAudio c;
  c.name = std::filesystem::path(audio_path).stem().string();
  c.source = audio_path + " with " + segments_path;
  for (size_t i = 0; i < turns.segments.size(); ++i) {
    const data::Segment& s = turns.segments[i];
    const int64_t first = std::llround(s.start * kSampleRate), end = std::llround(s.end * kSampleRate);
    data::UtteranceInfo u;
    char number[32];
    std::snprintf(number, sizeof number, "_%03zu", i + 1);
    u.utt_id = s.utt_id.empty() ? c.name + number : s.utt_id;
    u.dialogue = c.name;
    u.speaker = s.speaker;
    u.label = "xxx";
    u.start = double(first) / kSampleRate;  // the times cut, to the sample
    u.end = double(end) / kSampleRate;
    c.utterances.push_back(u);
    c.waveforms.push_back(recording.narrow(0, first, end - first).contiguous());
  }
  return c;
}

std::string front_end_mismatch(const data::CacheAttributes& run, const data::CacheAttributes& offered) {
  std::ostringstream why;
  auto differ = [&](const char* what, const auto& a, const auto& b) {
    if (a == b) return;
    why << (why.tellp() > 0 ? "; " : "") << what << ": the run's features " << a << ", offered " << b;
  };
  differ("extractor", run.extractor, offered.extractor);
  differ("layer", run.layer, offered.layer);
  differ("normalisation", run.normalised ? "on" : "off", offered.normalised ? "on" : "off");
  differ("sample rate", run.sample_rate, offered.sample_rate);
  differ("frames per second", run.frame_rate, offered.frame_rate);
  differ("feature width", run.feature_dim, offered.feature_dim);
  return why.str();
}

Predictor::Predictor(const RunChoice& run, extract::FrontEndOptions front) {
  config_ = train::read_run_config(run.run_dir);
  config_.device = run.device;
  features_ = train::run_feature_extractor(run.run_dir);
  int64_t fold = run.fold;
  if (fold == 0) {
    std::ostringstream folds;
    for (int64_t k : config_.folds) folds << (folds.tellp() > 0 ? ", " : "") << k;
    ERC_CHECK(config_.folds.size() == 1, run.run_dir, " trained folds ", folds.str(), ": choose its model with --fold");
    fold = config_.folds[0];
  }
  checkpoint_ = train::checkpoint_path(config_, fold, run.which);

  const bool run_used_fbank = starts_with(features_.extractor, "fbank");
  if (front.frontend.empty()) front.frontend = run_used_fbank ? "fbank" : "wavlm";
  if (front.layer == 0) front.layer = features_.layer;
  ERC_CHECK(front.frontend != "wavlm" || !front.wavlm.empty() || run_used_fbank, run.run_dir, "'s features came from ",
            features_.extractor, ", layer ", features_.layer, ": give those weights with --wavlm PATH");
  if (front.frontend == "wavlm") front.device = run.device;
  front_end_ = extract::make_front_end(front);
  data::CacheAttributes offered = front_end_->attributes();
  offered.normalised = features_.normalised;
  const std::string mismatch = front_end_mismatch(features_, offered);
  ERC_CHECK(mismatch.empty(), "the front end is not the one ", run.run_dir, " was trained on (a model fed other ",
            "features gives confident nonsense): ", mismatch);
  model_ = train::load_trained_model(config_, features_.feature_dim, checkpoint_);
}

Predictor::~Predictor() = default;

std::vector<UtterancePrediction> Predictor::predict(const ConversationAudio& conversation) const {
  ERC_CHECK(!conversation.utterances.empty(), conversation.source, ": no utterances");
  NoGradGuard no_grad;
  const std::vector<Tensor> features = front_end_features(*front_end_, conversation.waveforms, features_.normalised);
  std::vector<UtterancePrediction> out(conversation.utterances.size());
  for (size_t u = 0; u < out.size(); ++u) out[u].utterance = conversation.utterances[u];
  if (config_.mode == data::Mode::conversation) {
    std::vector<size_t> all(out.size());
    for (size_t u = 0; u < all.size(); ++u) all[u] = u;
    classify(*model_, config_.device, features, {all}, out);
  } else {
    for (size_t first = 0; first < out.size(); first += size_t(config_.batch_size)) {
      std::vector<std::vector<size_t>> singles;
      for (size_t u = first; u < std::min(out.size(), first + size_t(config_.batch_size)); ++u) singles.push_back({u});
      classify(*model_, config_.device, features, singles, out);
    }
  }
  return out;
}

}  // namespace erc::predict
