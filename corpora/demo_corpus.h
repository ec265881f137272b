// A small spoken corpus in IEMOCAP_full_release's own layout, synthesised with espeak-ng, so that the real
// pipeline (IEMOCAP indexer -> WavLM features -> training) runs end to end on a machine without the corpus.
//
// The model (docs/DEMO_CORPUS.md has the tables). Sessions of two-speaker dialogues; each session has its own pair
// of actors (an espeak-ng female and male voice variant with their own habitual pitch and rate), as IEMOCAP's
// sessions do. Every dialogue has a dominant emotion (its "atmosphere", drawn with IEMOCAP's class frequencies)
// carried by a strict majority of its labelled utterances, as in corpora/synthetic.h. An utterance says a neutral
// sentence; its emotion lives only in the prosody: espeak-ng's rate, pitch, pitch range, volume and pause between
// words, from a per-emotion row of demo::kProsody, shifted by the actor's habits and jittered per utterance.
// Neighbouring rows overlap once jittered and the voices differ, so one utterance alone is ambiguous; the
// dialogue around it tells which emotion dominates and how this actor sounds. Unlabelled utterances lean to the
// atmosphere too: xxx (the annotators disagreed) and oth blend two emotions' rows; sur has its own row.
//
// Same options: byte-identical files. espeak-ng keeps synthesis state across calls in the library's statics, so
// each utterance is synthesised in a forked child process that starts from a fresh library: an utterance's audio
// depends on its own parameters only, never on what was spoken before it in this process.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/feature_cache.h"

namespace erc::corpora {

namespace demo {
inline constexpr int64_t kSampleRate = 16000;
// espeak-ng parameters per emotion: rate in words per minute, base pitch and pitch range 0..100 (50 normal),
// volume (100 normal; above it espeak-ng compresses, a harsher timbre), pause added between words in 10 ms units.
struct Prosody {
  double rate, pitch, range, volume, word_gap;
};
// Rows in data::kPaperEmotions order (ang exc fru hap neu sad), then sur.
inline constexpr std::array<Prosody, 7> kProsody = {{
    {185, 44, 70, 170, 0.0},  // ang: fast, loud, wide range, low pitch
    {205, 70, 85, 140, 0.0},  // exc: fastest, high, widest range
    {150, 42, 50, 130, 2.0},  // fru: slowish, flat-ish, halting
    {180, 64, 70, 115, 0.0},  // hap: brisk, high, lively
    {165, 48, 35, 100, 0.5},  // neu: the voice's defaults, narrow range
    {125, 32, 15, 75, 4.0},   // sad: slow, low, monotone, quiet, long pauses
    {175, 82, 95, 130, 1.0},  // sur: very high, widest range
}};
// Standard deviations of the per-utterance jitter at DemoCorpusOptions::jitter = 1.
inline constexpr Prosody kJitter = {18, 9, 14, 20, 1.0};
// Per actor (one per session and speaker): habitual offsets of pitch and rate (sd), on top of the voice's own.
inline constexpr double kActorPitch = 4, kActorRate = 6;
inline constexpr double kTurnSwitch = 0.85;                    // chance that the next turn is the other speaker's
inline constexpr double kGapMin = 0.15, kGapMax = 0.8;         // seconds of silence before a turn
inline constexpr double kEdgeSilence = 0.05;                   // seconds kept before and after the speech of a turn
inline constexpr double kNoiseMin = 0.001, kNoiseMax = 0.003;  // room-noise std per dialogue (full scale 1)
// Recorded in the markers beside the options: raise it when the same options would give different files (2: the
// dialogue recordings and their RTTM files). A root of another version is refused, never mixed with this one's.
inline constexpr int64_t kVersion = 2;
inline constexpr const char* kMarker = "erc_demo_corpus.json";           // written last: the corpus is complete
inline constexpr const char* kStarted = "erc_demo_corpus.started.json";  // written first: ours, unfinished
}  // namespace demo

struct DemoCorpusOptions {
  uint64_t seed = 0;
  int64_t sessions = 5;  // Session1..Session<sessions>
  int64_t dialogues_per_session = 6;
  int64_t min_utterances = 10, max_utterances = 16;            // per dialogue, drawn uniformly
  double xxx_share = 0.2;                                      // utterances labelled xxx (IEMOCAP: about 25 %)
  double rare_share = 0.03;                                    // utterances labelled sur or oth, half each
  double dominant_share_min = 0.5, dominant_share_max = 0.65;  // of a dialogue's labelled utterances
  double jitter = 1.0;  // scale of demo::kJitter: 0 gives every utterance of a class the same prosody
};

struct DemoDialogue {
  std::string name;  // e.g. Ses01F_impro01 or Ses02M_script01_1; the letter is the speaker of the first turn
  int64_t session = 0;
  std::string dominant;                   // the atmosphere's emotion, one of kPaperEmotions
  std::array<std::string, 2> voices;      // espeak-ng voices of speakers F and M, e.g. "en-us+f3"
  std::vector<data::UtteranceInfo> utterances;  // by turn; start and end are 0 here: they follow from the audio
  std::vector<std::string> texts;         // [U] the sentence each utterance says
};

// The dialogues these options give, sessions in order and dialogues by name within a session (the order
// index_iemocap reads them in); synthesises nothing. Errors name a bad option.
std::vector<DemoDialogue> demo_corpus_plan(const DemoCorpusOptions& options);

// Called after each utterance's WAV is written.
using DemoCorpusProgress = std::function<void(int64_t session, int64_t written, int64_t total)>;

enum class DemoCorpusOutcome { written, already_complete };

// Writes <root>/Session{s}/dialog/EmoEvaluation/<dialogue>.txt, .../dialog/transcriptions/<dialogue>.txt,
// <root>/Session{s}/sentences/wav/<dialogue>/<utt_id>.wav (16 kHz mono 16-bit PCM), and, as IEMOCAP has them, the
// whole dialogue as one recording, .../dialog/wav/<dialogue>.wav (the same format), with its turns in
// .../dialog/rttm/<dialogue>.rttm; every file under a temporary name renamed when complete, then
// <root>/erc_demo_corpus.json with the options. The root must be absent, empty, or hold an unfinished demo corpus
// of the same options and version (it is written again). A complete corpus of the same options and version returns
// already_complete untouched; anything else (another version or corpus, a user's files) is refused.
//
// The recording holds each utterance's WAV, sample for sample, from sample round(start * 16000) of its
// EmoEvaluation start time, with room noise at the dialogue's level between turns; it ends with the last turn. The
// RTTM has one line per turn, in time order: `SPEAKER <dialogue> 1 <onset> <duration> <NA> <NA> <F or M> <NA> <NA>`,
// onset = first sample / 16000 and duration = WAV samples / 16000, both with 7 decimals, which are exact (a sample
// is 0.0000625 s): round(onset * 16000) is the first sample and round((onset + duration) * 16000) the end. The
// first sample is EmoEvaluation's start to the sample; the end may differ from EmoEvaluation's end by up to 0.14 ms
// (2 samples), since that end is the turn's clock rounded to 0.1 ms, not a whole sample.
DemoCorpusOutcome write_demo_corpus(const std::string& root, const DemoCorpusOptions& options,
                                    const DemoCorpusProgress& progress = {});

}  // namespace erc::corpora
