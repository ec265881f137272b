// erc_predict's library and program: the probabilities equal erc_eval's on the same utterances through an f32
// feature cache, a recording cut at its turns gives what its utterance files give, and bad input (another front
// end, an unparsable or impossible turn, an unreadable recording) is refused naming it, with nothing written.

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "data/audio.h"
#include "extract/extract.h"
#include "predict/predict.h"
#include "test_util.h"
#include "train/run_config.h"

using namespace erc;
using erc::test::error_of;
using erc::test::mentions;
namespace fs = std::filesystem;

namespace {

const std::string kTinyWavLM = "random:" + std::string(ERC_FIXTURE_DIR) + "/wavlm_tiny.json";
constexpr int64_t kGap = 1234;
// Both paths compute in f32 from the same features; docs/TESTING.md has the measured difference.
constexpr double kProbabilityTolerance = 1e-6;  // samples of silence between two turns of the test recording

extract::FrontEndOptions tiny_wavlm(uint64_t seed = 3, int64_t layer = 2) {
  return {.frontend = "wavlm", .wavlm = kTinyWavLM, .layer = layer, .seed = seed};
}

void write_text(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// Three dialogues cut from the speech fixture, d1 and d2 in session 1 and d3 in session 2; their f32 feature
// cache; a conversation run and a single-utterance run of fold 2 (test d3); and d3 again as one recording with
// its turns in RTTM. Made once per process.
struct World {
  fs::path dir = test::fresh_dir("predict");
  std::string list, cache, conversation_run, utterance_run, recording, rttm;
  std::vector<Tensor> d3_waves;

  World() {
    const Tensor speech = data::load_audio(std::string(ERC_FIXTURE_DIR) + "/speech.wav");
    const int64_t lengths[] = {9000, 4000, 12000, 6000, 7000, 5200, 8800, 3000};
    const char* rows[] = {"d1,F,ang,1", "d1,M,neu,1", "d1,F,xxx,1", "d2,F,sad,1",
                          "d2,M,hap,1", "d3,F,ang,2", "d3,M,sad,2", "d3,F,neu,2"};
    std::string csv = "path,utt_id,dialogue,speaker,label,session\n";
    for (int i = 0; i < 8; ++i) {
      const Tensor wave = speech.narrow(0, 2000 * i, lengths[i]).contiguous();
      const std::string name = "u" + std::to_string(i);
      data::write_wav((dir / (name + ".wav")).string(), wave, 16000);
      csv += name + ".wav," + name + "," + rows[i] + "\n";
      if (i >= 5) d3_waves.push_back(data::load_audio((dir / (name + ".wav")).string()));
    }
    list = (dir / "list.csv").string();
    write_text(list, csv);

    const auto front_end = extract::make_front_end(tiny_wavlm());
    extract::ExtractOptions options;
    options.dtype = DType::f32;
    cache = (dir / "features.h5").string();
    extract::extract_features(*front_end, data::read_audio_list(list), cache, options);
    conversation_run = train_run("conversation", data::Mode::conversation);
    utterance_run = train_run("utterance", data::Mode::utterance);

    // d3 as one recording: each turn after a gap of silence, its samples those of its utterance file.
    int64_t n = kGap;
    for (const Tensor& w : d3_waves) n += w.size(0) + kGap;
    Tensor joined = Tensor::zeros({n});
    std::string turns;
    int64_t at = kGap;
    const char* speakers[] = {"F", "M", "F"};
    for (size_t u = 0; u < d3_waves.size(); ++u) {
      std::copy_n(d3_waves[u].data<float>(), d3_waves[u].size(0), joined.data<float>() + at);
      char line[128];
      std::snprintf(line, sizeof line, "SPEAKER d3 1 %.6f %.6f <NA> <NA> %s <NA> <NA>\n", double(at) / 16000,
                    double(d3_waves[u].size(0)) / 16000, speakers[u]);
      turns += line;
      at += d3_waves[u].size(0) + kGap;
    }
    recording = (dir / "d3.wav").string();
    data::write_wav(recording, joined, 16000);
    rttm = (dir / "d3.rttm").string();
    write_text(rttm, turns);
  }

  std::string train_run(const std::string& name, data::Mode mode) {
    train::TrainConfig config;
    config.features = cache;
    config.folds = {2};
    config.epochs = 2;
    config.d_model = 8;
    config.lr = 1e-2;
    config.mode = mode;
    config.batch_size = 2;
    config.progress = false;
    config.out = (dir / name).string();
    train::train(config);
    return config.out;
  }
};

const World& world() {
  static const World w;
  return w;
}

std::vector<predict::UtterancePrediction> predict_list(const std::string& run, const std::string& dialogue) {
  const predict::Predictor predictor({run, 0, "best", Device::cpu}, tiny_wavlm());
  for (const auto& c : predict::read_list(world().list, predictor.front_end().min_samples()))
    if (c.name == dialogue) return predictor.predict(c);
  return {};
}

void expect_same_as_erc_eval(const std::string& run) {
  const train::TrainConfig config = train::read_run_config(run);
  const auto evaluated = train::evaluate_checkpoint(config, train::checkpoint_path(config, 2, "best"), 2);
  const auto predicted = predict_list(run, "d3");
  ASSERT_EQ(predicted.size(), 3u);
  ASSERT_EQ(evaluated.size(), 3u);
  double worst = 0;
  for (size_t u = 0; u < 3; ++u) {
    EXPECT_EQ(predicted[u].utterance.utt_id, evaluated[u].utt_id);
    EXPECT_EQ(predicted[u].emotion, evaluated[u].prediction);
    ASSERT_EQ(predicted[u].probabilities.size(), config.classes.size());
    ASSERT_EQ(evaluated[u].probabilities.size(), config.classes.size());
    for (size_t c = 0; c < config.classes.size(); ++c) {
      EXPECT_NEAR(predicted[u].probabilities[c], evaluated[u].probabilities[c], kProbabilityTolerance)
          << run << " " << u << " " << c;
      worst = std::max(worst, std::abs(predicted[u].probabilities[c] - evaluated[u].probabilities[c]));
    }
  }
  std::printf("largest difference from erc_eval's probabilities: %.3g\n", worst);
}

}  // namespace

TEST(Predict, ConversationModelGivesErcEvalsProbabilitiesThroughAnF32Cache) {
  expect_same_as_erc_eval(world().conversation_run);
}

TEST(Predict, UtteranceModelGivesErcEvalsProbabilitiesThroughAnF32Cache) {
  expect_same_as_erc_eval(world().utterance_run);
}

TEST(Predict, RecordingCutAtItsTurnsGivesWhatItsUtteranceFilesGive) {
  const predict::Predictor predictor({world().conversation_run, 0, "best", Device::cpu}, tiny_wavlm());
  const predict::ConversationAudio recording =
      predict::read_recording(world().recording, world().rttm, predictor.front_end().min_samples());
  EXPECT_EQ(recording.name, "d3");
  ASSERT_EQ(recording.utterances.size(), 3u);
  EXPECT_EQ(recording.utterances[1].utt_id, "d3_002");
  EXPECT_EQ(recording.utterances[1].speaker, "M");
  for (size_t u = 0; u < 3; ++u) EXPECT_TRUE(test::allclose(recording.waveforms[u], world().d3_waves[u], 0, 0)) << u;
  const auto from_recording = predictor.predict(recording);
  const auto from_files = predict_list(world().conversation_run, "d3");
  for (size_t u = 0; u < 3; ++u) {
    ASSERT_EQ(from_recording[u].probabilities.size(), from_files[u].probabilities.size());
    for (size_t c = 0; c < from_files[u].probabilities.size(); ++c)
      EXPECT_NEAR(from_recording[u].probabilities[c], from_files[u].probabilities[c], 1e-6) << u << " " << c;
  }
}

TEST(Predict, OtherWeightsLayerOrFrontEndAreRefusedNamingBoth) {
  const std::string run = world().conversation_run;
  const std::string weights = error_of([&] { predict::Predictor({run, 0, "best", Device::cpu}, tiny_wavlm(4)); });
  EXPECT_TRUE(mentions(weights, "not the one"));
  EXPECT_TRUE(mentions(weights, "extractor: the run's features WavLM hidden 32"));
  const std::string layer = error_of([&] { predict::Predictor({run, 0, "best", Device::cpu}, tiny_wavlm(3, 1)); });
  EXPECT_TRUE(mentions(layer, "layer: the run's features 2, offered 1"));
  const std::string fbank = error_of([&] {
    predict::Predictor({run, 0, "best", Device::cpu}, {.frontend = "fbank", .wavlm = "", .layer = 0, .seed = 0});
  });
  EXPECT_TRUE(mentions(fbank, "offered fbank"));
  const std::string none = error_of([&] {
    predict::Predictor({run, 0, "best", Device::cpu}, {.frontend = "", .wavlm = "", .layer = 0, .seed = 0});
  });
  EXPECT_TRUE(mentions(none, "give those weights with --wavlm PATH"));
}

TEST(Predict, RunOfSeveralFoldsNeedsTheFoldNamed) {
  const std::string run = world().dir / "two_folds";
  train::TrainConfig config;
  config.features = world().cache;
  config.folds = {1, 2};
  config.epochs = 1;
  config.d_model = 8;
  config.progress = false;
  config.out = run;
  train::train(config);
  EXPECT_TRUE(mentions(error_of([&] {
                         predict::Predictor({run, 0, "best", Device::cpu}, tiny_wavlm());
                       }),
                       "trained folds 1, 2: choose its model with --fold"));
  const predict::Predictor fold_1({run, 1, "best", Device::cpu}, tiny_wavlm());
  EXPECT_TRUE(mentions(fold_1.checkpoint(), "fold1/best.safetensors"));
}

TEST(Predict, MismatchOfNormalisationIsNamed) {
  data::CacheAttributes run, offered;
  offered.normalised = false;
  EXPECT_EQ(predict::front_end_mismatch(run, run), "");
  EXPECT_TRUE(mentions(predict::front_end_mismatch(run, offered), "normalisation: the run's features on, offered off"));
}

// ---- the program: each bad input is a clear error with file and line, exit status 1, and no output folder.

test::ProgramOutcome run_predict(const std::string& args) {
  return test::run_program(std::string(ERC_PREDICT_PATH) + " --run " + world().conversation_run + " --wavlm " +
                           kTinyWavLM + " --seed 3 " + args);
}

void expect_refused(const std::string& what, const std::string& segments_text, const std::string& message,
                    const std::string& recording = "") {
  const fs::path dir = world().dir / ("bad_" + what);
  fs::create_directories(dir);
  const std::string segments = (dir / (what + ".rttm")).string();
  write_text(segments, segments_text);
  const fs::path out = dir / "out";
  const test::ProgramOutcome o = run_predict("--audio " + (recording.empty() ? world().recording : recording) +
                                             " --segments " + segments + " --out " + out.string());
  EXPECT_EQ(o.status, 1) << o.output;
  EXPECT_TRUE(mentions(o.output, message)) << what;
  EXPECT_FALSE(fs::exists(out)) << what << ": " << out << " was written";
}

TEST(PredictProgram, WritesPredictionsTimelineAndPrintsTheAtmosphere) {
  const fs::path out = world().dir / "program_out";
  const test::ProgramOutcome o =
      run_predict("--audio " + world().recording + " --segments " + world().rttm + " --out " + out.string());
  ASSERT_EQ(o.status, 0) << o.output;
  EXPECT_TRUE(mentions(o.output, "d3: 3 utterances"));
  EXPECT_TRUE(mentions(o.output, "atmosphere:"));
  for (const char* file : {"predictions.csv", "predictions.json", "timeline_d3.svg"})
    EXPECT_TRUE(fs::exists(out / file)) << file;
  const std::string csv = test::file_bytes((out / "predictions.csv").string());
  // The run's classes, the corpus's labels (this small corpus has no exc or fru), not a list compiled in.
  EXPECT_TRUE(mentions(o.output, "classes: ang,hap,neu,sad"));
  EXPECT_TRUE(mentions(csv, "conversation,utterance,start,end,speaker,emotion,p_ang,p_hap,p_neu,p_sad\n"));
  EXPECT_TRUE(mentions(csv, "\nd3,d3_002,"));
}

TEST(PredictProgram, SeveralRecordingsInOneCallEachGetTheirRowsAndTimeline) {
  const fs::path dir = world().dir / "several";
  fs::create_directories(dir);
  const fs::path copy = dir / "e3.wav";
  fs::copy_file(world().recording, copy);
  const fs::path out = dir / "out";
  const test::ProgramOutcome o = run_predict("--audio " + world().recording + " " + copy.string() + " --segments " +
                                             world().rttm + " " + world().rttm + " --out " + out.string());
  ASSERT_EQ(o.status, 0) << o.output;
  const std::string csv = test::file_bytes((out / "predictions.csv").string());
  EXPECT_TRUE(mentions(csv, "\nd3,d3_003,"));
  EXPECT_TRUE(mentions(csv, "\ne3,e3_003,"));
  EXPECT_TRUE(fs::exists(out / "timeline_d3.svg"));
  EXPECT_TRUE(fs::exists(out / "timeline_e3.svg"));
}

TEST(PredictProgram, TwoRecordingsOfOneNameAreRefused) {
  const fs::path out = world().dir / "same_name_out";
  const test::ProgramOutcome o = run_predict("--audio " + world().recording + " " + world().recording + " --segments " +
                                             world().rttm + " " + world().rttm + " --out " + out.string());
  EXPECT_EQ(o.status, 1);
  EXPECT_TRUE(mentions(o.output, "two conversations are named 'd3'"));
  EXPECT_FALSE(fs::exists(out));
}

TEST(PredictProgram, UnparsableSegmentLineIsRefusedWithFileAndLine) {
  expect_refused("unparsable", "SPEAKER d3 1 0.1 0.5 <NA> <NA> F <NA> <NA>\nSPEAKER d3 1 zero 1 <NA> <NA> M <NA>\n",
                 "unparsable.rttm:2: onset 'zero' is not a number");
}

TEST(PredictProgram, SegmentOutsideTheRecordingIsRefused) {
  expect_refused("outside", "SPEAKER d3 1 0.1 0.5 <NA> <NA> F <NA> <NA>\nSPEAKER d3 1 1.0 100 <NA> <NA> M <NA>\n",
                 "outside.rttm:2: the turn ends at 101 s, after the end of");
}

TEST(PredictProgram, ZeroLengthSegmentIsRefused) {
  expect_refused("zero", "SPEAKER d3 1 0.5 0 <NA> <NA> F <NA> <NA>\n", "zero.rttm:1: the turn has no length");
}

TEST(PredictProgram, OverlappingSegmentsOfOneSpeakerAreRefused) {
  expect_refused("overlap", "SPEAKER d3 1 0.1 0.5 <NA> <NA> F <NA> <NA>\nSPEAKER d3 1 0.3 0.5 <NA> <NA> F <NA> <NA>\n",
                 "overlap.rttm:2: speaker F's turn from 0.3 s overlaps their turn of line 1");
}

TEST(PredictProgram, UnreadableRecordingIsRefused) {
  const fs::path bad = world().dir / "not_audio.wav";
  write_text(bad, "this is not a WAV file");
  expect_refused("unreadable", "SPEAKER d3 1 0.1 0.5 <NA> <NA> F <NA> <NA>\n", "not_audio.wav", bad.string());
}
