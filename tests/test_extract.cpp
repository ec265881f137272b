// Feature extraction end to end at a tiny size: an audio list -> a seeded random WavLM -> the HDF5 cache, with
// the features equal to the model's own output, resuming after an interruption, and refused misuse; the threads
// of the extraction (reader, front end, writer) and the queues between them: a failure on any of them stops the
// run with its error and leaves what was extracted before it resumable.
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>

#include "autograd/grad_mode.h"
#include "data/audio.h"
#include "extract/bounded_queue.h"
#include "extract/extract.h"
#include "test_util.h"

using namespace erc;
using erc::test::error_of;
using erc::test::mentions;
namespace fs = std::filesystem;

namespace {

void write_text(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

// Four utterances cut from the speech fixture, two dialogues, written as WAV beside a list.csv.
fs::path make_list(const fs::path& dir) {
  const Tensor speech = data::load_audio(std::string(ERC_FIXTURE_DIR) + "/speech.wav");
  const int64_t lengths[] = {16000, 400, 12345, 30000};
  for (int i = 0; i < 4; ++i)
    data::write_wav((dir / ("u" + std::to_string(i) + ".wav")).string(),
                    speech.narrow(0, 1000 * i, lengths[i]).contiguous(), 16000);
  write_text(dir / "list.csv",
             "path,dialogue,speaker,label\nu0.wav,d1,F,ang\nu1.wav,d1,M,xxx\nu2.wav,d2,F,neu\nu3.wav,d2,M,sad\n");
  return dir / "list.csv";
}

// read_audio_list's error on `csv`, written as dir/bad.csv.
std::string list_error(const fs::path& dir, const std::string& csv) {
  write_text(dir / "bad.csv", csv);
  return error_of([&] { data::read_audio_list((dir / "bad.csv").string()); });
}

std::unique_ptr<extract::FrontEnd> tiny_wavlm() {
  return extract::make_front_end({.frontend = "wavlm",
                                  .wavlm = "random:" + std::string(ERC_FIXTURE_DIR) + "/wavlm_tiny.json",
                                  .layer = 2,
                                  .seed = 3});
}

extract::ExtractOptions f32_options() {
  extract::ExtractOptions options;
  options.dtype = DType::f32;
  options.max_batch_seconds = 1.5;  // d2 (0.77 s + 1.88 s) goes in two calls, d1 (1 s + 0.025 s) in one
  return options;
}

TEST(Extract, ListToCacheMatchesTheModel) {
  const fs::path dir = test::fresh_dir("list");
  const auto items = data::read_audio_list(make_list(dir).string());
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[1].info.utt_id, "u1");
  EXPECT_EQ(items[1].info.label, "xxx");
  EXPECT_DOUBLE_EQ(items[1].info.start, 1.0);  // laid out after u0's 16,000 samples
  EXPECT_DOUBLE_EQ(items[2].info.start, 0.0);  // a new dialogue starts at 0
  auto model = tiny_wavlm();
  std::vector<int64_t> calls;
  extract::extract_features(*model, items, (dir / "f.h5").string(), f32_options(),
                            [&](const extract::ExtractProgress& p) { calls.push_back(p.done); });
  EXPECT_EQ(calls, (std::vector<int64_t>{2, 3, 4}));
  EXPECT_FALSE(fs::exists(dir / "f.h5.partial"));
  data::FeatureCacheReader cache((dir / "f.h5").string());
  EXPECT_EQ(cache.attributes().extractor, model->attributes().extractor);
  EXPECT_TRUE(mentions(cache.attributes().extractor, "weights fnv1a64:"));
  EXPECT_EQ(cache.attributes().layer, 2);
  EXPECT_EQ(cache.attributes().feature_dim, 32);
  ASSERT_EQ(cache.utterances().size(), 4u);
  NoGradGuard no_grad;
  for (size_t u = 0; u < 4; ++u) {
    const Tensor wave = extract::front_end_input(data::load_audio(items[u].path), true);
    const Tensor want = model->features({wave})[0];
    EXPECT_EQ(cache.utterances()[u].n_frames, want.size(0));
    EXPECT_TRUE(test::allclose(cache.read(u), want, 1e-6, 1e-5)) << items[u].info.utt_id;
  }
  fs::remove_all(dir);
}

TEST(Extract, ResumesAfterInterruption) {
  const fs::path dir = test::fresh_dir("resume");
  const auto items = data::read_audio_list(make_list(dir).string());
  auto model = tiny_wavlm();
  const std::string out = (dir / "f.h5").string();
  EXPECT_THROW(extract::extract_features(*model, items, out, f32_options(),
                                         [](const extract::ExtractProgress&) { throw Error("stop"); }),
               Error);
  EXPECT_TRUE(fs::exists(out + ".partial"));
  EXPECT_FALSE(fs::exists(out));
  // Other settings do not touch the partial file.
  extract::ExtractOptions other = f32_options();
  other.normalise = false;
  EXPECT_TRUE(mentions(error_of([&] { extract::extract_features(*model, items, out, other); }), "other settings"));
  extract::ExtractProgress last;
  extract::extract_features(*model, items, out, f32_options(), [&](const extract::ExtractProgress& p) { last = p; });
  EXPECT_EQ(last.skipped, 2);
  EXPECT_EQ(last.done, 4);
  // The resumed cache holds what an uninterrupted run writes: the same utterances in the same order, the same
  // attributes and the same features, bit for bit.
  const std::string straight = (dir / "straight.h5").string();
  extract::extract_features(*model, items, straight, f32_options());
  const data::FeatureCacheReader resumed(out), uninterrupted(straight);
  EXPECT_EQ(resumed.attributes().extractor, uninterrupted.attributes().extractor);
  EXPECT_EQ(resumed.attributes().layer, uninterrupted.attributes().layer);
  ASSERT_EQ(resumed.utterances().size(), 4u);
  ASSERT_EQ(uninterrupted.utterances().size(), 4u);
  for (size_t u = 0; u < 4; ++u) {
    EXPECT_EQ(resumed.utterances()[u].utt_id, uninterrupted.utterances()[u].utt_id);
    EXPECT_EQ(resumed.utterances()[u].n_frames, uninterrupted.utterances()[u].n_frames);
    EXPECT_EQ(resumed.read(u).to_vector<float>(), uninterrupted.read(u).to_vector<float>()) << u;
  }
  fs::remove_all(dir);
}

// A .partial file begun on another device (or in another precision) is resumed only when asked, and the cache then
// names both.
TEST(Extract, ResumesWhatAnotherDeviceBeganOnlyWhenAskedAndThenNamesBoth) {
  const fs::path dir = test::fresh_dir("mix");
  const auto items = data::read_audio_list(make_list(dir).string());
  auto model = tiny_wavlm();
  const std::string out = (dir / "f.h5").string();
  data::CacheAttributes on_gpu = extract::extract_attributes(*model, f32_options());
  EXPECT_EQ(on_gpu.computed_on, "cpu f32");
  on_gpu.computed_on = "cuda tf32";
  { data::FeatureCacheWriter begun(out, on_gpu); }  // interrupted before its first utterance
  EXPECT_TRUE(
      mentions(error_of([&] { extract::extract_features(*model, items, out, f32_options()); }), "--mix-devices"));
  extract::ExtractOptions mixed = f32_options();
  mixed.mix_devices = true;
  extract::extract_features(*model, items, out, mixed);
  EXPECT_EQ(data::FeatureCacheReader(out).attributes().computed_on, "cuda tf32 + cpu f32");
}

// RFC 4180 quoting: a path and a speaker with commas, a label in quotes, a byte-order mark and CRLF line ends, as
// a spreadsheet program saves a list.
TEST(Extract, ListFieldsMayHoldCommasWhenQuoted) {
  const fs::path dir = test::fresh_dir("quoted");
  make_list(dir);
  fs::copy_file(dir / "u0.wav", dir / "call 7, turn 1.wav");
  write_text(dir / "quoted.csv", "\xEF\xBB\xBFpath,speaker,label\r\n\"call 7, turn 1.wav\",\"Doe, Jane\",\"ang\"\r\n");
  const auto items = data::read_audio_list((dir / "quoted.csv").string());
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].path, (dir / "call 7, turn 1.wav").string());
  EXPECT_EQ(items[0].info.utt_id, "call 7, turn 1");
  EXPECT_EQ(items[0].info.speaker, "Doe, Jane");
  EXPECT_EQ(items[0].info.label, "ang");
  EXPECT_DOUBLE_EQ(items[0].info.end, 1.0);  // the file was read: 16,000 samples
  fs::remove_all(dir);
}

// One recording of a call and its turns as spans: each utterance is its span's samples, cut as erc_predict cuts a
// recording at its turns, and the cache holds the features of those samples.
TEST(Extract, ListSpansOfOneRecordingAreItsTurns) {
  const fs::path dir = test::fresh_dir("spans");
  const Tensor speech = data::load_audio(std::string(ERC_FIXTURE_DIR) + "/speech.wav");
  const Tensor call = speech.narrow(0, 0, 40000).contiguous();  // 2.5 s
  data::write_wav((dir / "call.wav").string(), call, 16000);
  write_text(dir / "turns.csv",
             "path,speaker,label,start,end\ncall.wav,agent,neu,0.25,1.0\n"
             "call.wav,caller,ang,1.0,2.4375\ncall.wav,agent,xxx,0.5,0.75\n");
  const auto items = data::read_audio_list((dir / "turns.csv").string());
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[1].info.utt_id, "call_002");  // the file is the dialogue, its spans numbered
  EXPECT_EQ(items[1].info.dialogue, "call");
  EXPECT_EQ(items[1].info.split, "");  // no split column: folds are sessions
  EXPECT_DOUBLE_EQ(items[1].info.start, 1.0);
  EXPECT_DOUBLE_EQ(items[1].info.end, 2.4375);
  EXPECT_TRUE(items[1].span);
  data::AudioItemReader reader;
  const int64_t first[] = {4000, 16000, 8000}, length[] = {12000, 23000, 4000};
  for (size_t i = 0; i < 3; ++i)
    EXPECT_TRUE(test::allclose(reader.read(items[i]), call.narrow(0, first[i], length[i]), 0, 0)) << i;

  auto model = tiny_wavlm();
  const std::string out = (dir / "spans.h5").string();
  extract::extract_features(*model, items, out, f32_options());
  data::FeatureCacheReader cache(out);
  ASSERT_EQ(cache.utterances().size(), 3u);
  NoGradGuard no_grad;
  for (size_t i = 0; i < 3; ++i) {
    const Tensor expected = model->features({extract::front_end_input(call.narrow(0, first[i], length[i]), true)})[0];
    EXPECT_TRUE(test::allclose(cache.read(i), expected, 1e-6, 1e-5)) << i;
  }

  auto error_for = [&](const std::string& csv) { return list_error(dir, csv); };
  EXPECT_TRUE(mentions(error_for("path,start\ncall.wav,0\n"), "bad.csv:1: a span needs both columns"));
  EXPECT_TRUE(mentions(error_for("path,start,end\ncall.wav,1,1\n"), "bad.csv:2: the span 1 s to 1 s is empty"));
  EXPECT_TRUE(mentions(error_for("path,start,end\ncall.wav,1,2.6\n"), "the span ends at 2.6 s, past the end of"));
  EXPECT_TRUE(mentions(error_for("path,start,end\ncall.wav,-1,2\n"), "start must be a time in seconds"));
  EXPECT_TRUE(mentions(error_for("path,start,end\ncall.wav,0,\n"), "end must be a time in seconds, 0 or more, got ''"));
  fs::remove_all(dir);
}

TEST(Extract, RefusesBadLists) {
  const fs::path dir = test::fresh_dir("bad");
  make_list(dir);
  auto error_for = [&](const std::string& csv) { return list_error(dir, csv); };
  EXPECT_TRUE(mentions(error_for("file,label\nu0.wav,ang\n"), "unknown column 'file'"));
  EXPECT_TRUE(mentions(error_for("label\nang\n"), "no 'path' column"));
  EXPECT_TRUE(mentions(error_for("path,label\nu0.wav\n"), "bad.csv:2"));
  EXPECT_TRUE(mentions(error_for("path\nu0.wav\nu0.wav\n"), "listed twice"));
  EXPECT_TRUE(mentions(error_for("path,session\nu0.wav,0\n"), ":2: session must be a whole number from 1"));
  EXPECT_TRUE(mentions(error_for("path,session\nu0.wav,2a\n"), "got '2a'"));
  EXPECT_TRUE(mentions(error_for("path,split\nu0.wav,val\n"), ":2: split must be train, dev or test, got 'val'"));
  EXPECT_TRUE(mentions(error_for("path\nmissing.wav\n"), "missing.wav"));
  EXPECT_TRUE(mentions(error_for("path\n\"u0.wav\n"), "bad.csv:2: a quoted field is not closed"));
  EXPECT_TRUE(mentions(error_for("path\n"), "no utterances"));
  // Too short for one frame: named, nothing renamed into place.
  const Tensor tiny = Tensor::zeros({399});
  data::write_wav((dir / "short.wav").string(), tiny, 16000);
  write_text(dir / "short.csv", "path\nshort.wav\n");
  auto model = tiny_wavlm();
  const auto items = data::read_audio_list((dir / "short.csv").string());
  EXPECT_TRUE(
      mentions(error_of([&] { extract::extract_features(*model, items, (dir / "s.h5").string(), f32_options()); }),
               "short.wav"));
  EXPECT_FALSE(fs::exists(dir / "s.h5"));
  fs::remove_all(dir);
}

// A front end that gives each waveform one frame per 320 samples of a constant, except on call `poisoned_call`
// (0-based), whose features are NaN: the cache writer refuses them.
class FakeFrontEnd final : public extract::FrontEnd {
 public:
  explicit FakeFrontEnd(int poisoned_call = -1) : poisoned_call_(poisoned_call) {}
  std::vector<Tensor> features(const std::vector<Tensor>& waveforms) const override {
    const float value = calls_++ == poisoned_call_ ? std::numeric_limits<float>::quiet_NaN() : 0.5f;
    std::vector<Tensor> out;
    for (const Tensor& w : waveforms) out.push_back(Tensor::full({w.size(0) / 320, 4}, value));
    return out;
  }
  int64_t min_samples() const override { return 320; }
  data::CacheAttributes attributes() const override {
    data::CacheAttributes a;
    a.extractor = "fake";
    a.sample_rate = 16000;
    a.frame_rate = 50;
    a.feature_dim = 4;
    return a;
  }
  std::string summary() const override { return "fake"; }

 private:
  int poisoned_call_;
  mutable int calls_ = 0;
};

// The utterances of a .partial cache, by resuming it with a front end that then has nothing left to do but d2's.
int64_t utterances_in_partial(const std::vector<data::AudioItem>& items, const std::string& out) {
  extract::ExtractProgress last;
  extract::extract_features(FakeFrontEnd(), items, out, f32_options(),
                            [&](const extract::ExtractProgress& p) { last = p; });
  return last.skipped;
}

// The reader thread meets an unreadable file in d2's first batch: the run stops with its name, after writing the
// batch read before it (u0 and u1).
TEST(ExtractThreads, AReadingErrorStopsTheRunAfterTheBatchesBeforeIt) {
  const fs::path dir = test::fresh_dir("read_error");
  auto items = data::read_audio_list(make_list(dir).string());
  const fs::path good = dir / "u2.wav", bad = dir / "u2_broken.wav";
  write_text(bad, "RIFF, but not a WAV file");
  items[2].path = bad.string();
  const std::string out = (dir / "f.h5").string();
  const std::string error = error_of([&] { extract::extract_features(FakeFrontEnd(), items, out, f32_options()); });
  EXPECT_TRUE(mentions(error, "u2_broken.wav")) << error;
  EXPECT_FALSE(fs::exists(out));
  items[2].path = good.string();
  EXPECT_EQ(utterances_in_partial(items, out), 2);
  fs::remove_all(dir);
}

// The writer thread refuses the second batch's features (NaN): the run stops with the writer's error, the first
// batch (u0, u1) in the cache, however far the reader and the front end had gone.
TEST(ExtractThreads, AWritingErrorStopsTheRunWithTheWritersError) {
  const fs::path dir = test::fresh_dir("write_error");
  const auto items = data::read_audio_list(make_list(dir).string());
  const std::string out = (dir / "f.h5").string();
  const std::string error =
      error_of([&] { extract::extract_features(FakeFrontEnd(/*poisoned_call=*/1), items, out, f32_options()); });
  EXPECT_TRUE(mentions(error, "features of u2 are not finite")) << error;
  EXPECT_EQ(utterances_in_partial(items, out), 2);
  fs::remove_all(dir);
}

TEST(BoundedQueue, HandsItemsOutInOrderAndWhatWasQueuedAfterClose) {
  extract::BoundedQueue<int> queue(3);
  for (int i : {1, 2, 3}) EXPECT_TRUE(queue.push(i));
  EXPECT_EQ(queue.pop(), 1);
  queue.close();
  EXPECT_FALSE(queue.push(4));
  EXPECT_EQ(queue.pop(), 2);
  EXPECT_EQ(queue.pop(), 3);
  EXPECT_EQ(queue.pop(), std::nullopt);
}

// A producer at a full queue waits until the consumer takes an item, or until the queue is closed (then its push
// fails). The waits are shown by the pushing thread not having returned 50 ms later.
TEST(BoundedQueue, AFullQueueHoldsItsProducerUntilThereIsRoomOrItCloses) {
  for (bool close : {false, true}) {
    extract::BoundedQueue<int> queue(1);
    ASSERT_TRUE(queue.push(1));
    std::atomic<int> pushed{-1};  // -1 while the second push waits, then its result
    std::thread producer([&] { pushed = queue.push(2) ? 1 : 0; });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(pushed, -1) << "a push into a full queue returned";
    if (close)
      queue.close();
    else
      EXPECT_EQ(queue.pop(), 1);
    producer.join();
    EXPECT_EQ(pushed, close ? 0 : 1);
    EXPECT_EQ(queue.pop(), close ? std::optional<int>(1) : std::optional<int>(2));
  }
}

}  // namespace
