// erc_predict: a trained run plus recorded conversations in, per-utterance emotions, each conversation's
// atmosphere and its timeline out (docs/PREDICT.md).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <set>

#include "app_common.h"
#include "app_device.h"
#include "predict/report.h"
#include "train/run_files.h"

using namespace erc;

namespace {

// A conversation's name as a file name: anything but letters, digits, '.', '-' and '_' becomes '_'.
std::string file_name_of(const std::string& name) {
  std::string out = name;
  for (char& c : out)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '_';
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "erc_predict: the emotion of every utterance of recorded conversations, by a model erc_train trained.\n"
      "Give the conversations as utterance files (--list, the CSV erc_extract reads) or as one recording each with\n"
      "its turns (--audio REC.wav --segments REC.rttm|REC.csv: RTTM as diarizers such as pyannote write it, or a\n"
      "CSV start,end,speaker in seconds). Features are made on the fly by the front end the run was trained on;\n"
      "other WavLM weights, another layer or normalisation are refused. Writes predictions.csv, predictions.json\n"
      "(with each conversation's atmosphere) and timeline_<conversation>.svg to --out, and prints the atmosphere.\n\n"
      "  erc_predict --run runs/conversation --audio call.wav --segments call.rttm --out predictions/"};
  std::string run_dir, out, list, which = "best", device = "auto";
  std::vector<std::string> audio, segments;
  extract::FrontEndOptions front;
  front.frontend = "";
  front.layer = 0;
  int64_t fold = 0;
  int threads = 0;
  app.add_option("--run", run_dir, "run directory written by erc_train")->required();
  app.add_option("--out", out, "output folder")->required();
  app.add_option("--list", list, "a CSV of utterance files: path[,utt_id,dialogue,speaker,label,session]");
  app.add_option("--audio", audio, "one recording per conversation (any format libsndfile reads)");
  app.add_option("--segments", segments, "the turns of each --audio recording, in the same order: .rttm or .csv");
  app.add_option("--wavlm", front.wavlm,
                 "the WavLM weights the run's features came from (a Hugging Face folder, "
                 "a weights file, or random:CONFIG.json with its --seed)");
  app.add_option("--frontend", front.frontend, "wavlm | fbank (default: the run's)");
  app.add_option("--layer", front.layer, "WavLM layer (default: the run's)");
  app.add_option("--seed", front.seed, "seed of random:CONFIG weights")->capture_default_str();
  app.add_option("--fold", fold, "which fold's model, for a run of several folds");
  app.add_option("--checkpoint", which, "best | last")->capture_default_str();
  app.add_option("--device", device, "cpu | cuda | auto: where WavLM and the model run (fbank on the CPU)")
      ->capture_default_str();
  app.add_option("--precision", front.precision,
                 "WavLM's GEMMs on the GPU: f32, tf32 or bf16 (tensor cores; bf16 weights, f32 sums)")
      ->check(CLI::IsMember({"f32", "tf32", "bf16"}))
      ->capture_default_str();
  app.add_option("--threads", threads, "CPU threads (0 = all cores)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    ERC_CHECK(!list.empty() || !audio.empty(), "give the conversations: --list CSV, or --audio REC --segments SEG");
    ERC_CHECK(list.empty() || audio.empty(), "--list and --audio are two ways to give conversations: choose one");
    ERC_CHECK(audio.size() == segments.size(), audio.size(), " --audio recording(s) but ", segments.size(),
              " --segments file(s): give each recording its segments, in the same order");
    const Device on = apps::choose_device(device, "erc_predict");
    apps::set_threads(threads);
    const predict::Predictor predictor({run_dir, fold, which, on}, front);
    const data::CacheAttributes& features = predictor.features();
    const std::vector<std::string>& classes = predictor.run().classes.names();
    std::printf("model: %s (%s mode; trained on %s, layer %lld, normalisation %s)\nclasses: %s\nfront end: %s\n",
                predictor.checkpoint().c_str(), data::mode_name(predictor.run().mode), features.extractor.c_str(),
                static_cast<long long>(features.layer), features.normalised ? "on" : "off",
                predictor.run().classes.spec().c_str(), predictor.front_end().summary().c_str());

    // Every input is read and checked before anything is computed or written.
    std::vector<predict::ConversationAudio> conversations;
    const int64_t min_samples = predictor.front_end().min_samples();
    if (!list.empty()) conversations = predict::read_list(list, min_samples);
    for (size_t i = 0; i < audio.size(); ++i)
      conversations.push_back(predict::read_recording(audio[i], segments[i], min_samples));
    std::set<std::string> names;
    for (const auto& c : conversations)
      ERC_CHECK(names.insert(file_name_of(c.name)).second, "two conversations are named '", c.name, "' (", c.source,
                "): rename one recording");

    std::vector<predict::ConversationResult> results;
    for (size_t i = 0; i < conversations.size(); ++i) {
      const predict::ConversationAudio& c = conversations[i];
      std::fprintf(stderr, "erc_predict: conversation %zu/%zu: %s (%zu utterances)\n", i + 1, conversations.size(),
                   c.name.c_str(), c.utterances.size());
      predict::ConversationResult r{c.name, predictor.predict(c), {}};
      r.summary = predict::summarise(c.name, r.predictions, classes);
      results.push_back(std::move(r));
    }

    std::filesystem::create_directories(out);
    predict::write_predictions_csv(out + "/predictions.csv", results, classes);
    const nlohmann::json header = {{"run", run_dir},
                                   {"checkpoint", predictor.checkpoint()},
                                   {"features", train::feature_extractor_json(features)},
                                   {"git_commit", train::git_commit()}};
    predict::write_predictions_json(out + "/predictions.json", results, classes, header);
    for (const auto& r : results) {
      predict::write_timeline(out + "/timeline_" + file_name_of(r.name) + ".svg", r);
      std::printf("\n%s", predict::format_summary(r.summary).c_str());
    }
    std::printf("\nwrote %s/: predictions.csv, predictions.json, %zu timeline_*.svg\n", out.c_str(), results.size());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "erc_predict: %s\n", e.what());
    return 1;
  }
}
