// A synthetic feature cache with IEMOCAP's shape (five sessions of two-speaker dialogues, six emotions plus
// unlabelled utterances) whose features reward conversation context: for tests, the demo and erc_synth.
//
// The model. Every conversation has a dominant emotion d (its "atmosphere", drawn with IEMOCAP's class
// frequencies) carried by a strict majority, kDominantShareMin..Max, of its labelled utterances; the others
// carry one of the other five. Unlabelled utterances (xxx, sur, fea, oth) express an emotion too, only hidden.
// With e[c] six random unit directions in feature space (fixed by the seed), the frames of an utterance with
// emotion y in a conversation with atmosphere strength b (kAtmosphereMin..Max, one per conversation) are
//
//   x_t = kOwnSignal e[y] + b e[d] + o_session + o_speaker + kUtteranceNoise sum_c z_c e[c] + kFrameNoise n_t
//
// with z, n and the offsets' entries standard normal (offsets scaled by kSessionOffset / kSpeakerOffset, one
// per session and one per actor = session + speaker). One utterance alone shows two bumps of similar height,
// along e[y] and e[d], and cannot tell which one is its own; the mean of its conversation shows e[d] and b
// clearly (averaged over tens of utterances), so a model that sees the conversation can discount it. The
// utterance-level noise lives in the span of the class directions, so the task is as hard at F = 1024 as at
// F = 16 and stays learnable from a few thousand utterances; the per-frame noise is isotropic and large, so
// pooling the frames matters. Same options and seed: the same index and bit-identical features.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/feature_cache.h"

namespace erc::corpora {

namespace synth {
inline constexpr int64_t kSessions = 5;
// IEMOCAP's labelled counts in kPaperEmotions order (ang exc fru hap neu sad): the odds of a conversation's atmosphere
// and of its other utterances' emotions.
inline constexpr std::array<double, 6> kClassWeights = {1103, 1041, 1849, 595, 1708, 1084};
inline constexpr double kDominantShareMin = 0.5, kDominantShareMax = 0.65;
// Hidden labels and the share of utterances carrying each (IEMOCAP: xxx 25 %, sur, fea, oth rare).
inline constexpr std::array<const char*, 4> kHiddenLabels = {"xxx", "sur", "fea", "oth"};
inline constexpr std::array<double, 4> kHiddenShares = {0.25, 0.010, 0.005, 0.005};
inline constexpr double kTurnSwitch = 0.8;  // chance that the next utterance is the other speaker's
inline constexpr double kGapMin = 0.1, kGapMax = 1.5;  // seconds of silence before an utterance
inline constexpr int64_t kMinFrames = 5;
inline constexpr double kFrameSpread = 0.5;  // log-normal spread of the frame count around its mean
inline constexpr double kOwnSignal = 1.0;
inline constexpr double kAtmosphereMin = 0.5, kAtmosphereMax = 2.0;
inline constexpr double kUtteranceNoise = 0.3;
inline constexpr double kFrameNoise = 1.0;
inline constexpr double kSessionOffset = 0.2, kSpeakerOffset = 0.2;
}  // namespace synth

struct SyntheticOptions {
  uint64_t seed = 0;
  int64_t dialogues_per_session = 8;
  int64_t min_utterances = 20, max_utterances = 100;  // per dialogue, drawn uniformly
  int64_t mean_frames = 30;                           // per utterance, at least synth::kMinFrames
  int64_t feature_dim = 1024;
  DType dtype = DType::f16;  // storage: f16 or f32
};

struct SyntheticDialogue {
  std::string name;  // e.g. Ses01F_impro01: session 1, F speaks first
  int64_t session = 0;
  std::string dominant;                         // the atmosphere's emotion, one of kPaperEmotions
  std::vector<data::UtteranceInfo> utterances;  // by start time, as written to the cache
};

// The index the cache of these options will hold, with each dialogue's dominant emotion; draws no features.
// Errors name a bad option.
std::vector<SyntheticDialogue> synthetic_plan(const SyntheticOptions& options);

// Called after each utterance is written.
using SyntheticProgress = std::function<void(int64_t written, int64_t total)>;

// Writes the cache through FeatureCacheWriter (extractor "synthetic", layer 21): nothing appears at `path`
// until it is complete. A ".partial" left there by an interrupted run is discarded, not resumed: the
// attributes do not record the seed, so resuming could mix two corpora.
void write_synthetic_cache(const SyntheticOptions& options, const std::string& path,
                           const SyntheticProgress& progress = {});

}  // namespace erc::corpora
