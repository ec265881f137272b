#include "corpora/synthetic.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "corpora/corpus_draws.h"
#include "data/dataset.h"
#include "tensor/random.h"

namespace erc::corpora {

namespace {

constexpr int64_t kClasses = int64_t(data::kPaperEmotions.size());

using namespace draws;

// A dialogue as planned, with what the features need and the index does not say.
struct Planned {
  SyntheticDialogue dialogue;
  int64_t dominant = 0;
  double atmosphere = 0;           // b of the header's model
  std::vector<int64_t> expressed;  // per utterance: the emotion its features carry, labelled or hidden
};

void check_options(const SyntheticOptions& o) {
  ERC_CHECK(o.dialogues_per_session >= 1, "synthetic cache: dialogues per session must be at least 1, got ",
            o.dialogues_per_session);
  ERC_CHECK(o.min_utterances >= 2, "synthetic cache: a two-speaker dialogue needs at least 2 utterances, got a "
            "minimum of ", o.min_utterances);
  ERC_CHECK(o.min_utterances <= o.max_utterances, "synthetic cache: the minimum utterances per dialogue (",
            o.min_utterances, ") exceed the maximum (", o.max_utterances, ")");
  ERC_CHECK(o.mean_frames >= synth::kMinFrames, "synthetic cache: mean frames per utterance must be at least ",
            synth::kMinFrames, ", got ", o.mean_frames);
  ERC_CHECK(o.feature_dim >= kClasses, "synthetic cache: feature_dim must be at least ", kClasses,
            " (one signal direction per emotion), got ", o.feature_dim);
  ERC_CHECK(o.dtype == DType::f16 || o.dtype == DType::f32, "synthetic cache: features are stored as f16 or f32, "
            "not ", dtype_name(o.dtype));
}

Planned plan_dialogue(const SyntheticOptions& o, int64_t session, Generator& gen, int64_t (&per_letter)[2]) {
  const data::CacheAttributes timing;  // the frame rate every cache shares
  Planned p;
  const int64_t n = o.min_utterances + int64_t(gen.next_index(uint64_t(o.max_utterances - o.min_utterances + 1)));
  p.dominant = draw_class(gen, -1);
  p.atmosphere = gen.next_uniform(synth::kAtmosphereMin, synth::kAtmosphereMax);
  const double share = gen.next_uniform(synth::kDominantShareMin, synth::kDominantShareMax);

  std::vector<int> speaker(static_cast<size_t>(n));  // 0 = F, 1 = M
  speaker[0] = int(gen.next_index(2));
  for (int64_t i = 1; i < n; ++i)
    speaker[i] = gen.next_uniform() < synth::kTurnSwitch ? 1 - speaker[i - 1] : speaker[i - 1];

  std::vector<std::string> label(static_cast<size_t>(n));
  std::vector<size_t> labelled;
  for (int64_t i = 0; i < n; ++i) {
    double r = gen.next_uniform();
    for (size_t h = 0; h < synth::kHiddenLabels.size() && label[i].empty(); ++h)
      if ((r -= synth::kHiddenShares[h]) < 0) label[i] = synth::kHiddenLabels[h];
    if (label[i].empty()) labelled.push_back(size_t(i));
  }

  // The dominant emotion goes to a strict majority of the labelled utterances, so it is always the most
  // frequent label; which ones is random.
  p.expressed.assign(size_t(n), 0);
  const size_t n_labelled = labelled.size();
  const size_t n_dominant =
      std::min(n_labelled, std::max(n_labelled / 2 + 1, size_t(std::lround(share * double(n_labelled)))));
  const std::vector<size_t> order = data::permutation(n_labelled, gen);
  for (size_t j = 0; j < n_labelled; ++j) {
    const size_t i = labelled[order[j]];
    p.expressed[i] = j < n_dominant ? p.dominant : draw_class(gen, p.dominant);
    label[i] = data::kPaperEmotions[p.expressed[i]];
  }
  for (int64_t i = 0; i < n; ++i)
    if (data::ClassSet::paper().index(label[i]) == data::kIgnoreLabel)
      p.expressed[i] = gen.next_uniform() < share ? p.dominant : draw_class(gen, p.dominant);

  const char letters[2] = {'F', 'M'};
  SyntheticDialogue& d = p.dialogue;
  d.session = session;
  d.name = numbered("Ses0" + std::to_string(session) + letters[speaker[0]] + "_impro", ++per_letter[speaker[0]], 2);
  d.dominant = data::kPaperEmotions[p.dominant];
  int64_t turns[2] = {0, 0};
  double t = gen.next_uniform(synth::kGapMin, synth::kGapMax);
  for (int64_t i = 0; i < n; ++i) {
    data::UtteranceInfo u;
    u.speaker = std::string(1, letters[speaker[i]]);
    u.utt_id = numbered(d.name + "_" + u.speaker, turns[speaker[i]]++, 3);
    u.dialogue = d.name;
    u.session = session;
    u.label = label[i];
    const double spread = synth::kFrameSpread;
    const double frames = double(o.mean_frames) * std::exp(spread * gen.next_normal() - 0.5 * spread * spread);
    u.n_frames = std::max<int64_t>(synth::kMinFrames, std::llround(frames));
    u.start = round_time(t);
    u.end = round_time(t + double(u.n_frames) / timing.frame_rate);
    t = u.end + gen.next_uniform(synth::kGapMin, synth::kGapMax);
    d.utterances.push_back(u);
  }
  return p;
}

std::vector<Planned> plan_all(const SyntheticOptions& o, Generator& gen) {
  check_options(o);
  std::vector<Planned> out;
  for (int64_t session = 1; session <= synth::kSessions; ++session) {
    int64_t per_letter[2] = {0, 0};  // dialogues opened by F and by M: their number in the name
    for (int64_t k = 0; k < o.dialogues_per_session; ++k) out.push_back(plan_dialogue(o, session, gen, per_letter));
  }
  return out;
}

}  // namespace

std::vector<SyntheticDialogue> synthetic_plan(const SyntheticOptions& options) {
  Generator gen(options.seed);
  std::vector<SyntheticDialogue> out;
  for (Planned& p : plan_all(options, gen)) out.push_back(std::move(p.dialogue));
  return out;
}

void write_synthetic_cache(const SyntheticOptions& options, const std::string& path,
                           const SyntheticProgress& progress) {
  // The plan consumes the generator's first draws exactly as synthetic_plan does; the features follow.
  Generator gen(options.seed);
  const std::vector<Planned> dialogues = plan_all(options, gen);
  ERC_CHECK(!std::filesystem::is_directory(path), path, ": is a folder, not a file name");
  const int64_t F = options.feature_dim;

  // Every fixed vector in one draw, [C + 3 S, F]: the class directions (made unit), then the session offsets,
  // then the actors' (F and M of each session). Few large draws: each parallel fill has a fixed cost.
  Tensor fixed = randn({kClasses + 3 * synth::kSessions, F}, gen);
  float* e = fixed.data<float>();
  for (int64_t c = 0; c < kClasses; ++c) {
    double norm = 0;
    for (int64_t f = 0; f < F; ++f) norm += double(e[c * F + f]) * e[c * F + f];
    for (int64_t f = 0; f < F; ++f) e[c * F + f] = float(e[c * F + f] / std::sqrt(norm));
  }
  float* session_offsets = e + kClasses * F;
  float* speaker_offsets = session_offsets + synth::kSessions * F;
  for (int64_t i = 0; i < synth::kSessions * F; ++i) session_offsets[i] *= float(synth::kSessionOffset);
  for (int64_t i = 0; i < 2 * synth::kSessions * F; ++i) speaker_offsets[i] *= float(synth::kSpeakerOffset);

  data::CacheAttributes attributes;
  attributes.extractor = "synthetic";
  attributes.layer = 21;
  attributes.feature_dim = F;
  attributes.dtype = options.dtype;
  std::error_code ignored;  // a missing folder is reported by the writer, with the path
  std::filesystem::remove(path + ".partial", ignored);
  data::FeatureCacheWriter writer(path, attributes);

  int64_t total = 0;
  for (const Planned& p : dialogues) total += int64_t(p.dialogue.utterances.size());
  std::vector<std::string> order;
  std::vector<float> mean(static_cast<size_t>(F));  // [F] the utterance before its frame noise
  for (const Planned& p : dialogues) {
    const size_t n = p.dialogue.utterances.size();
    std::vector<double> z(n * kClasses);  // [U, C] utterance-level noise
    for (double& v : z) v = gen.next_normal();
    // The frame noise of the whole dialogue in one draw, for the same reason as above.
    int64_t frames_total = 0;
    for (const data::UtteranceInfo& u : p.dialogue.utterances) frames_total += u.n_frames;
    const Tensor noise = randn({frames_total, F}, gen, DType::f32, 0.0, synth::kFrameNoise);  // [T, F]
    const float* session_offset = session_offsets + (p.dialogue.session - 1) * F;
    int64_t first_frame = 0;
    for (size_t i = 0; i < n; ++i) {
      const data::UtteranceInfo& u = p.dialogue.utterances[i];
      const int64_t actor = (p.dialogue.session - 1) * 2 + (u.speaker == "M" ? 1 : 0);
      const float* speaker_offset = speaker_offsets + actor * F;
      const double* zi = z.data() + i * kClasses;
      for (int64_t f = 0; f < F; ++f) {
        double m = synth::kOwnSignal * e[p.expressed[i] * F + f] + p.atmosphere * e[p.dominant * F + f] +
                   session_offset[f] + speaker_offset[f];
        for (int64_t c = 0; c < kClasses; ++c) m += synth::kUtteranceNoise * zi[c] * e[c * F + f];
        mean[f] = float(m);
      }
      Tensor frames = noise.narrow(0, first_frame, u.n_frames).clone();  // [T, F]
      first_frame += u.n_frames;
      float* x = frames.data<float>();
      for (int64_t t = 0; t < u.n_frames; ++t)
        for (int64_t f = 0; f < F; ++f) x[t * F + f] += mean[f];
      writer.write(u, frames);
      order.push_back(u.utt_id);
      if (progress) progress(int64_t(order.size()), total);
    }
  }
  writer.finish(order);
}

}  // namespace erc::corpora
