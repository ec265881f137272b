// The spoken demo corpus on a tiny instance: the IEMOCAP indexer reads it as planned, every WAV is 16 kHz mono and
// as long as its summary line says, a dialogue's recording holds its turns where its RTTM says, the same seed gives
// the same bytes, and a root is never written over.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "corpora/demo_corpus.h"
#include "data/audio.h"
#include "data/dataset.h"
#include "data/iemocap.h"
#include "test_util.h"

using namespace erc;
using erc::test::error_of;
using namespace erc::data;
using namespace erc::corpora;
namespace fs = std::filesystem;

namespace {

int64_t label_index(const std::string& label) { return ClassSet::paper().index(label); }

// Per test and process: CTest runs tests in parallel processes, which must not share a tree.
// 2 sessions x 2 dialogues x 4 utterances; seed 3 gives three xxx among the 16.
DemoCorpusOptions tiny() {
  DemoCorpusOptions o;
  o.seed = 3;
  o.sessions = 2;
  o.dialogues_per_session = 2;
  o.min_utterances = o.max_utterances = 4;
  o.xxx_share = 0.3;
  return o;
}

// Written once per process: most tests only read it.
const fs::path& tiny_corpus() {
  static const fs::path root = [] {
    const fs::path dir = test::fresh_dir("tiny", /*create=*/false);
    EXPECT_EQ(corpora::write_demo_corpus(dir.string(), tiny()), DemoCorpusOutcome::written);
    return dir;
  }();
  return root;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

fs::path dialog_path(const DemoDialogue& d, const std::string& folder, const std::string& extension) {
  return tiny_corpus() / ("Session" + std::to_string(d.session)) / "dialog" / folder / (d.name + extension);
}

// One turn of an RTTM file, parsed here rather than by data/segments so that the test reads the format as written.
struct RttmTurn {
  double onset = 0, duration = 0;
  std::string speaker;
};

std::vector<RttmTurn> read_rttm(const fs::path& path, const std::string& recording) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::vector<RttmTurn> turns;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string field; fields >> field;) f.push_back(field);
    EXPECT_EQ(f.size(), 10u) << line;
    if (f.size() != 10) continue;
    EXPECT_EQ(f[0], "SPEAKER") << line;
    EXPECT_EQ(f[1], recording) << line;
    EXPECT_EQ(f[2], "1") << line;
    for (const size_t na : {5, 6, 8, 9}) EXPECT_EQ(f[na], "<NA>") << line;
    turns.push_back({std::stod(f[3]), std::stod(f[4]), f[7]});
  }
  return turns;
}

int64_t to_sample(double seconds) { return std::llround(seconds * 16000.0); }

// Relative path -> contents of every file under root.
std::map<std::string, std::string> snapshot(const fs::path& root) {
  std::map<std::string, std::string> files;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) files[fs::relative(e.path(), root).string()] = read_bytes(e.path());
  return files;
}

}  // namespace

TEST(DemoCorpus, IndexesAsPlanned) {
  const std::vector<corpora::DemoDialogue> plan = corpora::demo_corpus_plan(tiny());
  const IemocapIndex index = index_iemocap(tiny_corpus().string(), {1, 2});
  EXPECT_TRUE(index.missing_wavs.empty());
  EXPECT_EQ(index.dialogues, 4);

  std::vector<UtteranceInfo> expected;
  for (const DemoDialogue& d : plan) {
    EXPECT_NE(d.voices[0].find("+f"), std::string::npos) << d.voices[0];
    EXPECT_NE(d.voices[1].find("+m"), std::string::npos) << d.voices[1];
    EXPECT_EQ(d.utterances.size(), 4u);
    EXPECT_EQ(d.name.substr(0, 5), "Ses0" + std::to_string(d.session)) << d.name;
    EXPECT_EQ(d.name.substr(5, 1), d.utterances.front().speaker) << "the name's letter is the first speaker";
    expected.insert(expected.end(), d.utterances.begin(), d.utterances.end());
  }
  ASSERT_EQ(index.utterances.size(), expected.size());
  std::map<std::string, int64_t> turns;  // per dialogue and speaker: the next turn number
  for (size_t i = 0; i < expected.size(); ++i) {
    const UtteranceInfo& u = index.utterances[i];
    SCOPED_TRACE(expected[i].utt_id);
    EXPECT_EQ(u.utt_id, expected[i].utt_id);
    EXPECT_EQ(u.dialogue, expected[i].dialogue);
    EXPECT_EQ(u.session, expected[i].session);
    EXPECT_EQ(u.speaker, expected[i].speaker);
    EXPECT_EQ(u.label, expected[i].label);
    char number[8];
    std::snprintf(number, sizeof number, "%03lld", static_cast<long long>(turns[u.dialogue + u.speaker]++));
    EXPECT_EQ(u.utt_id, u.dialogue + "_" + u.speaker + number);
    EXPECT_GT(u.end, u.start);
    // Turns laid end to end: each starts after the previous one ends, by at least the shortest gap.
    if (i > 0 && index.utterances[i - 1].dialogue == u.dialogue) {
      EXPECT_GE(u.start, index.utterances[i - 1].end + demo::kGapMin - 2e-4);
    }
  }
}

// The written corpus's labels are the six classes and the input-only xxx, sur and oth, xxx among them; the default
// corpus (the demo's) plans every one of the six classes, and xxx, sur and oth, so that its default classes are
// the paper's.
TEST(DemoCorpus, LabelsAreTheSixClassesAndTheInputOnlyOnes) {
  std::set<std::string> written;
  for (const UtteranceInfo& u : index_iemocap(tiny_corpus().string(), {1, 2}).utterances) written.insert(u.label);
  EXPECT_TRUE(written.count("xxx"));
  for (const std::string& label : written)
    EXPECT_TRUE(label_index(label) != kIgnoreLabel || label == "xxx" || label == "sur" || label == "oth") << label;
  std::set<std::string> planned;
  std::vector<UtteranceInfo> utterances;
  for (const DemoDialogue& d : demo_corpus_plan(DemoCorpusOptions{}))
    for (const UtteranceInfo& u : d.utterances) {
      planned.insert(u.label);
      utterances.push_back(u);
    }
  EXPECT_EQ(ClassSet::of_corpus(utterances), ClassSet::paper());
  std::set<std::string> expected(kPaperEmotions.begin(), kPaperEmotions.end());
  expected.insert({"xxx", "sur", "oth"});
  EXPECT_EQ(planned, expected);
}

TEST(DemoCorpus, WavsAre16kMonoAndAsLongAsTheirTimes) {
  for (const UtteranceInfo& u : index_iemocap(tiny_corpus().string(), {1, 2}).utterances) {
    SCOPED_TRACE(u.utt_id);
    const std::string path = wav_path(tiny_corpus().string(), u);
    const AudioInfo info = audio_info(path);
    EXPECT_EQ(info.sample_rate, 16000);
    EXPECT_EQ(info.channels, 1);
    const Tensor audio = load_audio(path, 16000);
    ASSERT_GT(audio.numel(), 0);
    // The times are written to 0.1 ms: far inside one WavLM frame (20 ms).
    EXPECT_NEAR(double(audio.numel()) / 16000.0, u.end - u.start, 2e-4);
    // Speech, not a near-silent file: espeak-ng's output peaks far above the room noise.
    double peak = 0;
    for (const float v : audio.to_vector<float>()) peak = std::max(peak, double(std::fabs(v)));
    EXPECT_GT(peak, 0.1);
  }
}

TEST(DemoCorpus, TranscriptionsSayThePlannedSentences) {
  const IemocapIndex index = index_iemocap(tiny_corpus().string(), {1, 2});
  std::map<std::string, const UtteranceInfo*> by_id;
  for (const UtteranceInfo& u : index.utterances) by_id[u.utt_id] = &u;
  for (const DemoDialogue& d : demo_corpus_plan(tiny())) {
    std::ifstream in(tiny_corpus() / ("Session" + std::to_string(d.session)) / "dialog" / "transcriptions" /
                     (d.name + ".txt"));
    std::string line;
    for (size_t i = 0; i < d.utterances.size(); ++i) {
      ASSERT_TRUE(std::getline(in, line)) << d.name;
      const UtteranceInfo& u = *by_id.at(d.utterances[i].utt_id);
      char times[64];
      std::snprintf(times, sizeof times, " [%08.4f-%08.4f]: ", u.start, u.end);
      EXPECT_EQ(line, u.utt_id + times + d.texts[i]);
    }
    EXPECT_FALSE(std::getline(in, line)) << d.name << ": more lines than turns";
  }
}

// The recording is every turn's WAV, sample for sample (load_audio maps 16-bit values to floats one to one), from
// the first sample of its EmoEvaluation start, and ends with the last turn.
TEST(DemoCorpus, DialogueRecordingHoldsEveryTurnSampleForSample) {
  const IemocapIndex index = index_iemocap(tiny_corpus().string(), {1, 2});
  std::map<std::string, const UtteranceInfo*> by_id;
  for (const UtteranceInfo& u : index.utterances) by_id[u.utt_id] = &u;
  for (const DemoDialogue& d : demo_corpus_plan(tiny())) {
    SCOPED_TRACE(d.name);
    const std::string path = dialog_path(d, "wav", ".wav").string();
    const AudioInfo info = audio_info(path);
    EXPECT_EQ(info.sample_rate, 16000);
    EXPECT_EQ(info.channels, 1);
    const std::vector<float> recording = load_audio(path, 16000).to_vector<float>();
    int64_t end = 0;
    for (const UtteranceInfo& planned : d.utterances) {
      const UtteranceInfo& u = *by_id.at(planned.utt_id);
      SCOPED_TRACE(u.utt_id);
      const std::vector<float> turn = load_audio(wav_path(tiny_corpus().string(), u), 16000).to_vector<float>();
      const int64_t first = to_sample(u.start);
      ASSERT_GE(first, end) << "turns overlap in the recording";
      ASSERT_LE(first + int64_t(turn.size()), int64_t(recording.size()));
      EXPECT_TRUE(std::equal(turn.begin(), turn.end(), recording.begin() + first));
      end = first + int64_t(turn.size());
    }
    EXPECT_EQ(int64_t(recording.size()), end);
    EXPECT_GE(double(recording.size()) / 16000.0, by_id.at(d.utterances.back().utt_id)->end - 0.14e-3);
  }
}

// The RTTM gives each turn, in time order, to the sample: the first sample of EmoEvaluation's start, the end of the
// turn's WAV (EmoEvaluation's end, written to 0.1 ms, is within 0.14 ms of it), and the speaker.
TEST(DemoCorpus, RttmGivesEachTurnToTheSample) {
  const IemocapIndex index = index_iemocap(tiny_corpus().string(), {1, 2});
  std::map<std::string, const UtteranceInfo*> by_id;
  for (const UtteranceInfo& u : index.utterances) by_id[u.utt_id] = &u;
  for (const DemoDialogue& d : demo_corpus_plan(tiny())) {
    SCOPED_TRACE(d.name);
    const std::vector<RttmTurn> turns = read_rttm(dialog_path(d, "rttm", ".rttm"), d.name);
    ASSERT_EQ(turns.size(), d.utterances.size());
    for (size_t i = 0; i < turns.size(); ++i) {
      const UtteranceInfo& u = *by_id.at(d.utterances[i].utt_id);
      SCOPED_TRACE(u.utt_id);
      const RttmTurn& r = turns[i];
      const int64_t first = to_sample(r.onset), end = to_sample(r.onset + r.duration);
      EXPECT_EQ(first, to_sample(u.start));
      EXPECT_EQ(end - first, audio_info(wav_path(tiny_corpus().string(), u)).frames);
      EXPECT_NEAR(r.onset + r.duration, u.end, 0.14e-3);
      // Sample times as written, not only once rounded (3 decimals would be up to 8 samples off).
      EXPECT_NEAR(r.onset * 16000.0, double(first), 1e-6);
      EXPECT_NEAR((r.onset + r.duration) * 16000.0, double(end), 1e-6);
      EXPECT_EQ(r.speaker, u.speaker);
      if (i > 0) {
        EXPECT_GT(r.onset, turns[i - 1].onset + turns[i - 1].duration);
      }
    }
  }
}

TEST(DemoCorpus, SameSeedSameBytes) {
  const fs::path again = test::fresh_dir("again", /*create=*/false);
  ASSERT_EQ(corpora::write_demo_corpus(again.string(), tiny()), DemoCorpusOutcome::written);
  const auto a = snapshot(tiny_corpus()), b = snapshot(again);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(a.size(), 16u + 4 * 4 + 1)
      << "turn WAVs; per dialogue its EmoEvaluation, transcription, recording and RTTM; the marker";
  for (const auto& [name, bytes] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    EXPECT_TRUE(bytes == b.at(name)) << name << " differs between two runs of the same seed";
  }
  corpora::DemoCorpusOptions other = tiny();
  other.seed = 4;
  std::vector<std::string> labels_a, labels_b;
  for (const DemoDialogue& d : demo_corpus_plan(tiny()))
    for (const UtteranceInfo& u : d.utterances) labels_a.push_back(u.utt_id + u.label);
  for (const DemoDialogue& d : demo_corpus_plan(other))
    for (const UtteranceInfo& u : d.utterances) labels_b.push_back(u.utt_id + u.label);
  EXPECT_NE(labels_a, labels_b);
}

TEST(DemoCorpus, RerunIsANoOpAndOtherRootsAreRefused) {
  const fs::path root = test::fresh_dir("rerun", /*create=*/false);
  ASSERT_EQ(corpora::write_demo_corpus(root.string(), tiny()), DemoCorpusOutcome::written);
  const auto before = snapshot(root);
  const auto stamp = fs::last_write_time(root / demo::kMarker);
  EXPECT_EQ(corpora::write_demo_corpus(root.string(), tiny()), DemoCorpusOutcome::already_complete);
  EXPECT_EQ(fs::last_write_time(root / demo::kMarker), stamp);
  EXPECT_TRUE(snapshot(root) == before);

  corpora::DemoCorpusOptions other = tiny();
  other.seed = 4;
  const std::string msg = error_of([&] { corpora::write_demo_corpus(root.string(), other); });
  EXPECT_NE(msg.find("other options"), std::string::npos) << msg;
  EXPECT_NE(msg.find(root.string()), std::string::npos) << msg;
  EXPECT_TRUE(snapshot(root) == before);

  // An interrupted run of the same options is written again; of other options, refused.
  fs::rename(root / demo::kMarker, root / demo::kStarted);
  EXPECT_THROW(corpora::write_demo_corpus(root.string(), other), Error);
  EXPECT_EQ(corpora::write_demo_corpus(root.string(), tiny()), DemoCorpusOutcome::written);
  EXPECT_FALSE(fs::exists(root / corpora::demo::kStarted));
  EXPECT_TRUE(snapshot(root) == before);

  // A corpus of another generator version (version 1 had no dialogue recordings): refused, not completed.
  const std::string marker = read_bytes(root / demo::kMarker);
  const std::string version = "\"version\": " + std::to_string(demo::kVersion);
  ASSERT_NE(marker.find(version), std::string::npos) << marker;
  std::string old_marker = marker;
  old_marker.replace(marker.find(version), version.size(), "\"version\": 1");
  std::ofstream(root / demo::kMarker) << old_marker;
  const auto old_corpus = snapshot(root);
  const std::string old_msg = error_of([&] { corpora::write_demo_corpus(root.string(), tiny()); });
  EXPECT_NE(old_msg.find("generator version"), std::string::npos) << old_msg;
  EXPECT_NE(old_msg.find("delete this one"), std::string::npos) << old_msg;
  EXPECT_TRUE(snapshot(root) == old_corpus);

  // A user's folder: refused, and left as it was.
  const fs::path user = test::fresh_dir("user", /*create=*/false);
  fs::create_directories(user);
  std::ofstream(user / "notes.txt") << "mine";
  const std::string foreign = error_of([&] { corpora::write_demo_corpus(user.string(), tiny()); });
  EXPECT_NE(foreign.find("not empty"), std::string::npos) << foreign;
  EXPECT_NE(foreign.find(user.string()), std::string::npos) << foreign;
  EXPECT_EQ(snapshot(user).size(), 1u);

  // A marker that is not ours, and a root that is a file.
  std::ofstream(user / corpora::demo::kMarker) << "{\"version\": 1, \"options\": {}}";
  EXPECT_NE(error_of([&] { corpora::write_demo_corpus(user.string(), tiny()); }).find("not an erc demo corpus marker"),
            std::string::npos);
  EXPECT_NE(error_of([&] { corpora::write_demo_corpus((user / "notes.txt").string(), tiny()); }).find("not a folder"),
            std::string::npos);
}

TEST(DemoCorpus, BadOptionsAreRefused) {
  const auto refused = [](auto change, const std::string& words) {
    corpora::DemoCorpusOptions o = tiny();
    change(o);
    const std::string msg = error_of([&] { demo_corpus_plan(o); });
    EXPECT_NE(msg.find(words), std::string::npos) << msg;
  };
  refused([](DemoCorpusOptions& o) { o.sessions = 6; }, "sessions must be 1..5");
  refused([](DemoCorpusOptions& o) { o.dialogues_per_session = 0; }, "dialogues per session");
  refused([](DemoCorpusOptions& o) { o.min_utterances = 1; }, "at least 2 utterances");
  refused([](DemoCorpusOptions& o) { o.min_utterances = 9; }, "exceed the maximum");
  refused([](DemoCorpusOptions& o) { o.xxx_share = 0.98; }, "sum below 1");
  refused([](DemoCorpusOptions& o) { o.dominant_share_min = 0.4; }, "dominant share");
  refused([](DemoCorpusOptions& o) { o.jitter = -1; }, "jitter");
}
