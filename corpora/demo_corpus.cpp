#include "corpora/demo_corpus.h"

#include <espeak-ng/speak_lib.h>
#include <soxr.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <system_error>

#include "corpora/corpus_draws.h"
#include "corpora/synthetic.h"
#include "data/audio.h"
#include "data/dataset.h"
#include "io/atomic_file.h"
#include "tensor/random.h"

namespace erc::corpora {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kClasses = int64_t(data::kPaperEmotions.size());
constexpr int64_t kSurRow = 6;  // demo::kProsody's row of sur

// Short sentences of neutral wording: the emotion must come from how they are said, not what they say.
constexpr std::array<const char*, 40> kSentences = {
    "The meeting starts at nine tomorrow.",
    "I left the keys on the table.",
    "The train leaves from platform four.",
    "We painted the fence last weekend.",
    "Your package arrived this morning.",
    "The library closes at six today.",
    "She moved to another city in March.",
    "There is coffee in the kitchen.",
    "I will call you after lunch.",
    "The report is due on Friday.",
    "They changed the schedule again.",
    "He bought a new pair of shoes.",
    "The bus stops near the bridge.",
    "We need more paper for the printer.",
    "My brother works at the hospital.",
    "The store is on the next corner.",
    "I read the letter twice.",
    "The weather will change this evening.",
    "Dinner is at seven on Sunday.",
    "The window in the hall is open.",
    "She found the answer in the book.",
    "We drove along the coast road.",
    "The phone rang during the lesson.",
    "He fixed the light in the garage.",
    "The tickets are in the blue envelope.",
    "I saw your sister at the market.",
    "The dog sleeps by the front door.",
    "They will visit us next month.",
    "The office moved to the third floor.",
    "We ordered the same thing as before.",
    "The plane lands at half past two.",
    "I kept the receipt in my wallet.",
    "The car needs new tires soon.",
    "Someone parked in front of the gate.",
    "The results came back this afternoon.",
    "We talked about it on the phone.",
    "The garden gets sun in the morning.",
    "He wrote the number on a napkin.",
    "The class was moved to Thursday.",
    "I have to return these books.",
};

// espeak-ng's variants of each sex (espeak-ng-data/voices/!v); a session's two actors get one of each.
constexpr std::array<const char*, 5> kFemaleVariants = {"f1", "f2", "f3", "f4", "f5"};
constexpr std::array<const char*, 7> kMaleVariants = {"m1", "m2", "m3", "m4", "m5", "m6", "m7"};

// The names IEMOCAP's categorical annotation lines use, in demo::kProsody's row order, then oth.
constexpr std::array<const char*, 8> kCategoryNames = {"Anger",   "Excited", "Frustration", "Happiness",
                                                       "Neutral", "Sadness", "Surprise",    "Other"};
constexpr int64_t kOtherCategory = 7;
// Valence, activation, dominance (IEMOCAP's 1..5 scales) around which the annotators score each row.
constexpr std::array<std::array<double, 3>, 7> kVad = {{
    {1.9, 3.6, 3.7},  // ang
    {3.9, 3.7, 3.3},  // exc
    {2.0, 3.1, 3.1},  // fru
    {3.9, 2.9, 3.1},  // hap
    {3.0, 2.4, 2.7},  // neu
    {1.9, 2.3, 2.2},  // sad
    {3.4, 3.6, 2.8},  // sur
}};
constexpr double kVadSpread = 0.6;  // sd of one annotator's score around the row's

// Speech starts and ends where the 16 kHz waveform first and last reaches this (about -54 dBFS); espeak-ng's own
// leading and trailing silence is cut so that a turn's duration is its speech plus demo::kEdgeSilence each side.
constexpr float kTrimLevel = 0.002f;

using namespace draws;

// espeak-ng's integer parameters: rate, pitch, range, volume, word gap.
struct SpeechParams {
  int rate, pitch, range, volume, word_gap;
};

// One turn as planned, with what the audio and the annotation need and the index does not say.
struct Turn {
  int64_t row_a = 0, row_b = 0;  // demo::kProsody rows blended half and half (equal for a clear emotion)
  SpeechParams params{};
  unsigned noise_seed = 0;                     // srand() of the child, for the breath noise of espeak-ng's f2, f3, f5
  double gap = 0;                              // seconds of silence before the turn
  std::array<int64_t, 3> categories{};         // the three annotators' kCategoryNames indices
  std::array<std::array<int, 3>, 3> scores{};  // [annotator][valence, activation, dominance]
};

struct Planned {
  DemoDialogue dialogue;
  std::vector<Turn> turns;
  double noise = 0;  // room-noise std of the dialogue
};

void check_options(const DemoCorpusOptions& o) {
  ERC_CHECK(o.sessions >= 1 && o.sessions <= 5, "demo corpus: sessions must be 1..5 (IEMOCAP has five), got ",
            o.sessions);
  // Two-digit dialogue numbers per speaker letter and kind keep file-name order equal to the plan's.
  ERC_CHECK(o.dialogues_per_session >= 1 && o.dialogues_per_session <= 99,
            "demo corpus: dialogues per session must be 1..99, got ", o.dialogues_per_session);
  ERC_CHECK(o.min_utterances >= 2, "demo corpus: a two-speaker dialogue needs at least 2 utterances, got a minimum of ",
            o.min_utterances);
  ERC_CHECK(o.min_utterances <= o.max_utterances, "demo corpus: the minimum utterances per dialogue (",
            o.min_utterances, ") exceed the maximum (", o.max_utterances, ")");
  ERC_CHECK(o.max_utterances <= 999, "demo corpus: at most 999 utterances per dialogue (ids number a speaker's turns ",
            "with three digits), got ", o.max_utterances);
  ERC_CHECK(o.xxx_share >= 0 && o.rare_share >= 0 && o.xxx_share + o.rare_share < 1,
            "demo corpus: expected shares of xxx and of sur/oth that are >= 0 and sum below 1, got ", o.xxx_share,
            " and ", o.rare_share);
  ERC_CHECK(o.dominant_share_min >= 0.5 && o.dominant_share_min <= o.dominant_share_max && o.dominant_share_max <= 1,
            "demo corpus: expected 0.5 <= dominant share min <= max <= 1, got ", o.dominant_share_min, " and ",
            o.dominant_share_max);
  ERC_CHECK(o.jitter >= 0 && std::isfinite(o.jitter), "demo corpus: jitter must be >= 0, got ", o.jitter);
}

SpeechParams speech_params(const demo::Prosody& p) {
  const auto clamp = [](double v, int low, int high) { return std::clamp(int(std::lround(v)), low, high); };
  return {clamp(p.rate, espeakRATE_MINIMUM, espeakRATE_MAXIMUM), clamp(p.pitch, 0, 100), clamp(p.range, 0, 100),
          clamp(p.volume, 10, 200), clamp(p.word_gap, 0, 20)};
}

// Three annotators: a label they agree on has at least two votes; xxx is three different emotions (no majority).
void annotate(Turn& turn, int64_t category, bool disagree, Generator& gen) {
  if (disagree) {
    int64_t third = draw_class(gen, turn.row_a);
    while (third == turn.row_b) third = draw_class(gen, turn.row_a);
    turn.categories = {turn.row_a, turn.row_b, third};
  } else {
    const int64_t dissent = gen.next_uniform() < 0.5 ? category : draw_class(gen, category < kClasses ? category : -1);
    turn.categories = {category, category, dissent};
  }
  for (auto& annotator : turn.scores)
    for (int d = 0; d < 3; ++d) {
      const double mean = 0.5 * (kVad[turn.row_a][d] + kVad[turn.row_b][d]);
      annotator[d] = std::clamp(int(std::lround(mean + kVadSpread * gen.next_normal())), 1, 5);
    }
}

struct Actor {
  double pitch = 0, rate = 0;  // habitual offsets
};

Planned plan_dialogue(const DemoCorpusOptions& o, int64_t session, const std::array<std::string, 2>& voices,
                      const std::array<Actor, 2>& actors, Generator& gen, int64_t (&per_kind)[2][2]) {
  Planned p;
  const int64_t n = o.min_utterances + int64_t(gen.next_index(uint64_t(o.max_utterances - o.min_utterances + 1)));
  const int64_t dominant = draw_class(gen, -1);
  const double share = gen.next_uniform(o.dominant_share_min, o.dominant_share_max);
  p.noise = gen.next_uniform(demo::kNoiseMin, demo::kNoiseMax);

  std::vector<int> speaker(static_cast<size_t>(n));  // 0 = F, 1 = M
  speaker[0] = int(gen.next_index(2));
  for (int64_t i = 1; i < n; ++i)
    speaker[i] = gen.next_uniform() < demo::kTurnSwitch ? 1 - speaker[i - 1] : speaker[i - 1];

  std::vector<std::string> label(static_cast<size_t>(n));
  std::vector<size_t> labelled;
  for (int64_t i = 0; i < n; ++i) {
    const double r = gen.next_uniform();
    if (r < o.xxx_share)
      label[i] = "xxx";
    else if (r < o.xxx_share + 0.5 * o.rare_share)
      label[i] = "sur";
    else if (r < o.xxx_share + o.rare_share)
      label[i] = "oth";
    else
      labelled.push_back(size_t(i));
  }

  // As in corpora/synthetic.cpp: the dominant emotion goes to a strict majority of the labelled utterances.
  p.turns.resize(size_t(n));
  const size_t n_labelled = labelled.size();
  const size_t n_dominant =
      std::min(n_labelled, std::max(n_labelled / 2 + 1, size_t(std::lround(share * double(n_labelled)))));
  const std::vector<size_t> order = data::permutation(n_labelled, gen);
  for (size_t j = 0; j < n_labelled; ++j) {
    const size_t i = labelled[order[j]];
    const int64_t c = j < n_dominant ? dominant : draw_class(gen, dominant);
    p.turns[i].row_a = p.turns[i].row_b = c;
    label[i] = data::kPaperEmotions[c];
  }

  for (int64_t i = 0; i < n; ++i) {
    Turn& turn = p.turns[size_t(i)];
    if (label[i] == "sur") {
      turn.row_a = turn.row_b = kSurRow;
      annotate(turn, kSurRow, false, gen);
    } else if (label[i] == "xxx" || label[i] == "oth") {
      // Hidden utterances lean to the atmosphere too, blended with another emotion.
      turn.row_a = gen.next_uniform() < share ? dominant : draw_class(gen, dominant);
      turn.row_b = draw_class(gen, turn.row_a);
      annotate(turn, kOtherCategory, label[i] == "xxx", gen);
    } else {
      annotate(turn, turn.row_a, false, gen);
    }
    const demo::Prosody& a = demo::kProsody[turn.row_a];
    const demo::Prosody& b = demo::kProsody[turn.row_b];
    const auto mix = [&](double demo::Prosody::*field) { return 0.5 * (a.*field + b.*field); };
    const auto jitter = [&](double demo::Prosody::*field) {
      return o.jitter * demo::kJitter.*field * gen.next_normal();
    };
    const Actor& actor = actors[speaker[i]];
    turn.params = speech_params({mix(&demo::Prosody::rate) + actor.rate + jitter(&demo::Prosody::rate),
                                 mix(&demo::Prosody::pitch) + actor.pitch + jitter(&demo::Prosody::pitch),
                                 mix(&demo::Prosody::range) + jitter(&demo::Prosody::range),
                                 mix(&demo::Prosody::volume) + jitter(&demo::Prosody::volume),
                                 mix(&demo::Prosody::word_gap) + jitter(&demo::Prosody::word_gap)});
    turn.noise_seed = unsigned(gen.next_u64() >> 32);
    turn.gap = gen.next_uniform(demo::kGapMin, demo::kGapMax);
    p.dialogue.texts.push_back(kSentences[gen.next_index(kSentences.size())]);
  }

  const char letters[2] = {'F', 'M'};
  const int kind = int(gen.next_index(2));  // 0 impro, 1 script
  const int64_t k = per_kind[speaker[0]][kind]++;
  const std::string prefix = "Ses0" + std::to_string(session) + letters[speaker[0]];
  // IEMOCAP's scripts come in parts: script01_1, script01_2, script01_3, script02_1, ...
  DemoDialogue& dlg = p.dialogue;
  dlg.name = kind == 0 ? numbered(prefix + "_impro", k + 1, 2)
                       : numbered(prefix + "_script", k / 3 + 1, 2) + "_" + std::to_string(k % 3 + 1);
  dlg.session = session;
  dlg.dominant = data::kPaperEmotions[dominant];
  dlg.voices = voices;
  int64_t turns[2] = {0, 0};
  for (int64_t i = 0; i < n; ++i) {
    data::UtteranceInfo u;
    u.speaker = std::string(1, letters[speaker[i]]);
    u.utt_id = numbered(dlg.name + "_" + u.speaker, turns[speaker[i]]++, 3);
    u.dialogue = dlg.name;
    u.session = session;
    u.label = label[i];
    dlg.utterances.push_back(u);
  }
  return p;
}

std::vector<Planned> plan_all(const DemoCorpusOptions& o, Generator& gen) {
  check_options(o);
  const std::vector<size_t> female = data::permutation(kFemaleVariants.size(), gen);
  const std::vector<size_t> male = data::permutation(kMaleVariants.size(), gen);
  std::vector<Planned> out;
  for (int64_t session = 1; session <= o.sessions; ++session) {
    const std::array<std::string, 2> voices = {
        std::string("en-us+") + kFemaleVariants[female[size_t(session - 1) % female.size()]],
        std::string("en-us+") + kMaleVariants[male[size_t(session - 1) % male.size()]]};
    std::array<Actor, 2> actors;
    for (Actor& a : actors) {
      a.pitch = demo::kActorPitch * gen.next_normal();
      a.rate = demo::kActorRate * gen.next_normal();
    }
    int64_t per_kind[2][2] = {};  // dialogues per first speaker and kind: their number in the name
    const size_t first = out.size();
    for (int64_t k = 0; k < o.dialogues_per_session; ++k)
      out.push_back(plan_dialogue(o, session, voices, actors, gen, per_kind));
    std::sort(out.begin() + std::ptrdiff_t(first), out.end(),
              [](const Planned& a, const Planned& b) { return a.dialogue.name < b.dialogue.name; });
  }
  return out;
}

// ---- Synthesis in a child process ----

enum ChildStatus : int { kChildOk = 0, kChildInit = 10, kChildVoice, kChildSynth, kChildPipe, kChildOther };

// espeak-ng's synth callback: events->user_data is espeak_Synth's last argument, the vector being filled.
int collect(short* wav, int n, espeak_EVENT* events) {
  auto* samples = static_cast<std::vector<short>*>(events->user_data);
  if (wav != nullptr && n > 0) samples->insert(samples->end(), wav, wav + n);
  return 0;
}

bool write_all(int fd, const void* data, size_t bytes) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t w = ::write(fd, p, bytes);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    bytes -= size_t(w);
  }
  return true;
}

// Runs in the child: the sample rate (int32), then the samples (int16), down the pipe.
int child_speak(int fd, const std::string& voice, const SpeechParams& params, unsigned noise_seed,
                const std::string& text) {
  try {
    const int32_t rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, espeakINITIALIZE_DONT_EXIT);
    if (rate <= 0) return kChildInit;
    espeak_SetSynthCallback(collect);
    if (espeak_SetVoiceByName(voice.c_str()) != EE_OK) return kChildVoice;
    espeak_SetParameter(espeakRATE, params.rate, 0);
    espeak_SetParameter(espeakPITCH, params.pitch, 0);
    espeak_SetParameter(espeakRANGE, params.range, 0);
    espeak_SetParameter(espeakVOLUME, params.volume, 0);
    espeak_SetParameter(espeakWORDGAP, params.word_gap, 0);
    std::srand(noise_seed);
    std::vector<short> samples;
    if (espeak_Synth(text.c_str(), text.size() + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, nullptr, &samples) != EE_OK)
      return kChildSynth;
    if (!write_all(fd, &rate, sizeof rate) || !write_all(fd, samples.data(), samples.size() * sizeof(short)))
      return kChildPipe;
    return kChildOk;
  } catch (...) {
    return kChildOther;
  }
}

// What espeak-ng said, at its own rate.
struct Speech {
  int32_t sample_rate = 0;
  std::vector<short> samples;
};

Speech speak(const std::string& voice, const SpeechParams& params, unsigned noise_seed, const std::string& text) {
  int fds[2];
  ERC_CHECK(::pipe(fds) == 0, "demo corpus: cannot create a pipe: ", std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    ::_exit(child_speak(fds[1], voice, params, noise_seed, text));  // _exit: the parent's buffers are not ours
  }
  const int fork_error = errno;
  ::close(fds[1]);
  if (pid < 0) ::close(fds[0]);
  ERC_CHECK(pid > 0, "demo corpus: cannot fork the espeak-ng process: ", std::strerror(fork_error));

  std::vector<char> bytes;
  char buffer[1 << 16];
  int read_error = 0;
  for (;;) {
    const ssize_t r = ::read(fds[0], buffer, sizeof buffer);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) read_error = errno;
    if (r <= 0) break;
    bytes.insert(bytes.end(), buffer, buffer + r);
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ERC_CHECK(read_error == 0, "demo corpus: reading from the espeak-ng process failed: ", std::strerror(read_error));
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  const std::string what = "espeak-ng (voice " + voice + ", text '" + text + "')";
  ERC_CHECK(code != kChildInit, "demo corpus: ", what, ": espeak_Initialize failed; is espeak-ng-data installed ",
            "(apt-get install espeak-ng)?");
  ERC_CHECK(code != kChildVoice, "demo corpus: ", what, ": espeak-ng has no such voice");
  ERC_CHECK(code != kChildSynth, "demo corpus: ", what, ": espeak_Synth failed");
  ERC_CHECK(code == kChildOk, "demo corpus: ", what, ": the synthesis process failed (",
            WIFEXITED(status) ? "exit status " + std::to_string(code)
                              : "signal " + std::to_string(WIFSIGNALED(status) ? WTERMSIG(status) : 0),
            ")");
  ERC_CHECK(bytes.size() >= sizeof(int32_t) && (bytes.size() - sizeof(int32_t)) % sizeof(short) == 0,
            "demo corpus: ", what, ": expected a sample rate and whole 16-bit samples, got ", bytes.size(), " bytes");
  Speech speech;
  std::memcpy(&speech.sample_rate, bytes.data(), sizeof(int32_t));
  speech.samples.resize((bytes.size() - sizeof(int32_t)) / sizeof(short));
  std::memcpy(speech.samples.data(), bytes.data() + sizeof(int32_t), speech.samples.size() * sizeof(short));
  return speech;
}

// The turn at 16 kHz, in [-1, 1]: resampled, trimmed to its speech with demo::kEdgeSilence each side.
std::vector<float> render(const Speech& speech, const std::string& what) {
  const size_t out_len =
      size_t(std::llround(double(speech.samples.size()) * double(demo::kSampleRate) / double(speech.sample_rate)));
  std::vector<float> y(out_len);
  const soxr_io_spec_t io = soxr_io_spec(SOXR_INT16_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  size_t done = 0;
  const soxr_error_t err =
      soxr_oneshot(double(speech.sample_rate), double(demo::kSampleRate), 1, speech.samples.data(),
                   speech.samples.size(), nullptr, y.data(), y.size(), &done, &io, &quality, nullptr);
  ERC_CHECK(err == nullptr, "demo corpus: ", what, ": resampling from ", speech.sample_rate,
            " Hz failed (soxr: ", err ? err : "", ")");
  y.resize(done);
  const auto loud = [](float v) { return std::fabs(v) >= kTrimLevel; };
  const auto first = std::find_if(y.begin(), y.end(), loud);
  ERC_CHECK(first != y.end(), "demo corpus: ", what, ": espeak-ng produced silence");
  const auto last = std::find_if(y.rbegin(), y.rend(), loud).base();
  const size_t edge = size_t(std::llround(demo::kEdgeSilence * double(demo::kSampleRate)));
  std::vector<float> out(edge, 0.0f);
  out.insert(out.end(), first, last);
  out.resize(out.size() + edge, 0.0f);
  return out;
}

// ---- Files ----

void write_text(const fs::path& path, const std::string& text) { write_file_atomically(path.string(), text); }

std::string format(const char* fmt, auto... args) {
  char line[512];
  std::snprintf(line, sizeof line, fmt, args...);
  return line;
}

// The EmoEvaluation block of one turn: IEMOCAP's summary line, categorical (C-) and attribute (A-) lines, a blank.
std::string evaluation_block(const data::UtteranceInfo& u, const Turn& turn) {
  double vad[3] = {0, 0, 0};
  for (const auto& annotator : turn.scores)
    for (int d = 0; d < 3; ++d) vad[d] += annotator[d] / 3.0;
  std::string block = format("[%.4f - %.4f]\t%s\t%s\t[%.4f, %.4f, %.4f]\n", u.start, u.end, u.utt_id.c_str(),
                             u.label.c_str(), vad[0], vad[1], vad[2]);
  for (int e = 0; e < 3; ++e) block += format("C-E%d:\t%s;\t()\n", e + 1, kCategoryNames[turn.categories[e]]);
  for (int e = 0; e < 3; ++e)
    block += format("A-E%d:\tval %d; act %d; dom  %d;\t()\n", e + 1, turn.scores[e][0], turn.scores[e][1],
                    turn.scores[e][2]);
  return block + "\n";
}

nlohmann::json options_json(const DemoCorpusOptions& o) {
  return {{"seed", o.seed},
          {"sessions", o.sessions},
          {"dialogues_per_session", o.dialogues_per_session},
          {"min_utterances", o.min_utterances},
          {"max_utterances", o.max_utterances},
          {"xxx_share", o.xxx_share},
          {"rare_share", o.rare_share},
          {"dominant_share_min", o.dominant_share_min},
          {"dominant_share_max", o.dominant_share_max},
          {"jitter", o.jitter}};
}

constexpr const char* kCorpusName = "erc demo corpus: IEMOCAP layout, espeak-ng speech (corpora/demo_corpus.h)";

// What a marker says made the corpus: {"version", "options"}. Errors name a marker that is not ours.
nlohmann::json marker_identity(const fs::path& marker) {
  std::ifstream in(marker);
  ERC_CHECK(in, marker.string(), ": cannot read");
  const nlohmann::json m = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  ERC_CHECK(m.is_object() && m.value("corpus", "") == kCorpusName && m.contains("version") && m.contains("options"),
            marker.string(), ": not an erc demo corpus marker; refusing to touch the folder");
  return {{"version", m["version"]}, {"options", m["options"]}};
}

// Whether `root` already holds the corpus `wanted` ({"version", "options"}) describes; throws when it holds
// anything that is not ours to write over.
bool already_complete(const fs::path& root, const nlohmann::json& wanted) {
  std::error_code ec;
  if (!fs::exists(root, ec)) return false;
  ERC_CHECK(fs::is_directory(root, ec), root.string(), ": exists and is not a folder");
  const std::string again = "; choose another folder or delete this one to write a new corpus";
  if (fs::exists(root / demo::kMarker, ec)) {
    const nlohmann::json found = marker_identity(root / demo::kMarker);
    ERC_CHECK(found == wanted, root.string(), ": holds a demo corpus made with other options or generator version (",
              found.dump(), "; asked for ", wanted.dump(), ")", again);
    return true;
  }
  if (fs::exists(root / demo::kStarted, ec)) {
    const nlohmann::json found = marker_identity(root / demo::kStarted);
    ERC_CHECK(found == wanted, root.string(), ": holds an unfinished demo corpus made with other options or ",
              "generator version (", found.dump(), "; asked for ", wanted.dump(), ")", again);
    return false;  // ours, interrupted: every file is written again
  }
  ERC_CHECK(fs::is_empty(root, ec), root.string(), ": is not empty and holds no demo corpus (no ", demo::kMarker,
            "); refusing to write into it: choose a new or empty folder");
  return false;
}

}  // namespace

std::vector<DemoDialogue> demo_corpus_plan(const DemoCorpusOptions& options) {
  Generator gen(options.seed);
  std::vector<DemoDialogue> out;
  for (Planned& p : plan_all(options, gen)) out.push_back(std::move(p.dialogue));
  return out;
}

DemoCorpusOutcome write_demo_corpus(const std::string& root, const DemoCorpusOptions& options,
                                    const DemoCorpusProgress& progress) {
  // The plan consumes the generator's first draws exactly as demo_corpus_plan does; the room noise follows.
  Generator gen(options.seed);
  std::vector<Planned> dialogues = plan_all(options, gen);
  const nlohmann::json wanted = {{"version", demo::kVersion}, {"options", options_json(options)}};
  const fs::path dir(root);
  if (already_complete(dir, wanted)) return DemoCorpusOutcome::already_complete;

  fs::create_directories(dir);
  nlohmann::json marker = wanted;
  marker["corpus"] = kCorpusName;
  marker["espeak_ng"] = espeak_Info(nullptr);
  write_text(dir / demo::kStarted, marker.dump(2) + "\n");

  // The room noise between turns in the dialogue recordings has its own stream, the seed's from counter 2^63 (the
  // turns never draw that far), so the utterance WAVs draw exactly what they would without the recordings.
  Generator between(options.seed);
  between.set_state(options.seed, uint64_t(1) << 63);
  const double rate = double(demo::kSampleRate);
  int64_t total = 0, written = 0;
  for (const Planned& p : dialogues) total += int64_t(p.dialogue.utterances.size());
  double seconds = 0;
  for (Planned& p : dialogues) {
    DemoDialogue& d = p.dialogue;
    const fs::path session = dir / ("Session" + std::to_string(d.session));
    const fs::path wav_dir = session / "sentences" / "wav" / d.name;
    const fs::path eval_dir = session / "dialog" / "EmoEvaluation";
    const fs::path text_dir = session / "dialog" / "transcriptions";
    const fs::path recording_dir = session / "dialog" / "wav";
    const fs::path rttm_dir = session / "dialog" / "rttm";
    for (const fs::path& folder : {wav_dir, eval_dir, text_dir, recording_dir, rttm_dir})
      fs::create_directories(folder);

    std::string evaluation = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n";
    std::string transcription, rttm;
    // The dialogue's WAV: room noise, and each turn's samples from its first one.
    std::vector<float> recording;
    double t = 0;  // the dialogue's clock: turns laid end to end, each after its gap
    for (size_t i = 0; i < d.utterances.size(); ++i) {
      data::UtteranceInfo& u = d.utterances[i];
      const Turn& turn = p.turns[i];
      const std::string& voice = d.voices[u.speaker == "M" ? 1 : 0];
      const std::vector<float> speech =
          render(speak(voice, turn.params, turn.noise_seed, d.texts[i]), u.utt_id + " ('" + d.texts[i] + "')");
      const int64_t n = int64_t(speech.size());
      // Room noise drawn on this thread: an OpenMP fill (randn) would leave its pool spinning, taking the cores
      // the espeak-ng child needs next.
      Tensor audio = Tensor::empty({n}, DType::f32);  // [n]
      float* x = audio.data<float>();
      for (int64_t k = 0; k < n; ++k)
        x[k] = std::clamp(float(p.noise * gen.next_normal()) + speech[size_t(k)], -1.0f, 1.0f);
      data::write_wav((wav_dir / (u.utt_id + ".wav")).string(), audio, demo::kSampleRate);

      const double duration = double(n) / double(demo::kSampleRate);
      t += turn.gap;
      u.start = round_time(t);
      u.end = round_time(t + duration);
      t += duration;
      seconds += duration;
      evaluation += evaluation_block(u, turn);
      transcription += format("%s [%08.4f-%08.4f]: %s\n", u.utt_id.c_str(), u.start, u.end, d.texts[i].c_str());

      // The first sample follows from the start time as EmoEvaluation writes it; the end from the WAV's length,
      // which the 0.1 ms of the written end time cannot always give to the sample. The RTTM's 7 decimals are
      // sample times exactly (1 / 16000 s = 0.0000625 s).
      const int64_t first = std::llround(u.start * rate);
      ERC_CHECK(first >= int64_t(recording.size()), "demo corpus: ", u.utt_id, " starts at sample ", first,
                ", inside the turn before it (which ends at sample ", recording.size(), ")");
      while (int64_t(recording.size()) < first) recording.push_back(float(p.noise * between.next_normal()));
      recording.insert(recording.end(), x, x + n);
      rttm += format("SPEAKER %s 1 %.7f %.7f <NA> <NA> %s <NA> <NA>\n", d.name.c_str(), double(first) / rate,
                     double(n) / rate, u.speaker.c_str());
      if (progress) progress(d.session, ++written, total);
    }
    write_text(eval_dir / (d.name + ".txt"), evaluation);
    write_text(text_dir / (d.name + ".txt"), transcription);
    data::write_wav((recording_dir / (d.name + ".wav")).string(),
                    Tensor::from_vector(recording, {int64_t(recording.size())}), demo::kSampleRate);
    write_text(rttm_dir / (d.name + ".rttm"), rttm);
  }

  marker["dialogues"] = dialogues.size();
  marker["utterances"] = total;
  marker["audio_seconds"] = std::round(seconds * 100) / 100;
  write_text(dir / demo::kMarker, marker.dump(2) + "\n");
  fs::remove(dir / demo::kStarted);
  return DemoCorpusOutcome::written;
}

}  // namespace erc::corpora
