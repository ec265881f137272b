// erc_extract: audio -> WavLM layer features (or log-mel bands) -> the HDF5 feature cache that erc_train reads
// (docs/FEATURES.md).

#include <CLI/CLI.hpp>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <set>

#include "app_common.h"
#include "app_device.h"
#include "data/iemocap.h"
#include "extract/extract.h"
#include "io/progress.h"

using namespace erc;

namespace {

volatile std::sig_atomic_t interrupted = 0;

// "iemocap:PATH" or "list:CSV" -> the utterances to extract, in corpus order.
std::vector<data::AudioItem> read_corpus(const std::string& corpus, const std::vector<int64_t>& sessions) {
  const size_t colon = corpus.find(':');
  const std::string kind = corpus.substr(0, colon), where = colon == std::string::npos ? "" : corpus.substr(colon + 1);
  ERC_CHECK(colon != std::string::npos && !where.empty() && (kind == "iemocap" || kind == "list"),
            "--corpus must be iemocap:PATH (an IEMOCAP_full_release folder) or list:CSV (a list of audio files), got '",
            corpus, "'");
  if (kind == "list") return data::read_audio_list(where);
  const data::IemocapIndex index = data::index_iemocap(where, sessions);
  if (!index.missing_wavs.empty()) {
    std::fprintf(stderr, "erc_extract: %zu utterance(s) listed in EmoEvaluation have no WAV and are left out, e.g.\n",
                 index.missing_wavs.size());
    for (size_t i = 0; i < index.missing_wavs.size() && i < 5; ++i)
      std::fprintf(stderr, "  %s\n", index.missing_wavs[i].c_str());
  }
  std::vector<data::AudioItem> items;
  for (const data::UtteranceInfo& u : index.utterances) items.push_back({u, data::wav_path(where, u)});
  std::printf("corpus: %lld dialogues, %zu utterances from %s\n", static_cast<long long>(index.dialogues), items.size(),
              where.c_str());
  return items;
}

// An existing complete cache is either this run's result already (nothing to do, whichever device computed it) or
// something else (refused).
bool already_complete(const std::string& out, data::CacheAttributes wanted, const std::vector<data::AudioItem>& items) {
  if (!std::filesystem::exists(out)) return false;
  data::FeatureCacheReader existing(out);
  wanted.computed_on = existing.attributes().computed_on;
  ERC_CHECK(existing.attributes() == wanted, out, " exists and was made with other settings (",
            existing.attributes().describe(), "; this run: ", wanted.describe(),
            "); remove it or choose another --out");
  std::set<std::string> have;
  for (const auto& u : existing.utterances()) have.insert(u.utt_id);
  for (const auto& item : items)
    ERC_CHECK(have.count(item.info.utt_id), out, " exists without utterance ", item.info.utt_id,
              " of this corpus; remove it or choose another --out");
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "erc_extract: run WavLM over every utterance of a corpus and cache one layer's hidden states (docs/MODEL.md §1)\n"
      "in an HDF5 file for erc_train (or, with --frontend fbank, 80 log-mel bands at the same 50 frames/s). Audio in "
      "any format libsndfile reads is brought to 16 kHz mono; each\n"
      "waveform is normalised to zero mean and unit variance unless --no-normalise. The file is written to\n"
      "OUT.partial and renamed when complete; an interrupted run (Ctrl-C, a crash) resumes where it stopped when\n"
      "run again with the same settings. A cache made with other settings (weights, layer, normalisation, dtype)\n"
      "is refused, never mixed (a different device or --precision only with --mix-devices). WavLM runs on the GPU\n"
      "when one answers (--device auto), on the CPU otherwise.\n\n"
      "  erc_extract --corpus iemocap:IEMOCAP_full_release --wavlm wavlm-large/ --out features.h5\n"
      "  erc_extract --corpus iemocap:IEMOCAP_full_release --frontend fbank --out fbank.h5"};
  std::string corpus, out, dtype = "f16", device = "auto";
  bool mix_devices = false;
  extract::FrontEndOptions front;
  std::vector<int64_t> sessions = {1, 2, 3, 4, 5};
  int threads = 0;
  bool no_normalise = false, quiet = false;
  double batch_seconds = 60;
  app.add_option("--corpus", corpus,
                 "iemocap:PATH (IEMOCAP_full_release) or list:CSV (columns "
                 "path[,utt_id,dialogue,speaker,label,session])")
      ->required();
  app.add_option("--sessions", sessions, "IEMOCAP sessions to extract")->delimiter(',')->capture_default_str();
  app.add_option("--frontend", front.frontend,
                 "wavlm (the paper's) or fbank (80 log-mel bands, Kaldi's, at 50 frames/s: no weights)")
      ->check(CLI::IsMember({"wavlm", "fbank"}))
      ->capture_default_str();
  app.add_option("--wavlm", front.wavlm,
                 "wavlm: a Hugging Face WavLM folder (config.json + model.safetensors or "
                 "pytorch_model.bin, e.g. microsoft/wavlm-large), a weights file, or random:CONFIG.json for seeded "
                 "random weights");
  app.add_option("--layer", front.layer, "hidden_states index to keep (1..blocks; the paper: 21)")
      ->capture_default_str();
  app.add_option("--dtype", dtype, "storage of the features")
      ->check(CLI::IsMember({"f16", "f32"}))
      ->capture_default_str();
  app.add_option("--out", out, "the HDF5 feature cache to write")->required();
  app.add_option("--device", device,
                 "where WavLM runs: cpu | cuda | auto (the GPU when one answers); fbank runs on the CPU")
      ->capture_default_str();
  app.add_option("--precision", front.precision,
                 "WavLM's GEMMs on the GPU: f32 (the CPU's features within 1e-4), tf32 or bf16 (tensor "
                 "cores; bf16 weights, f32 sums: the fastest, docs/FEATURES.md says how close)")
      ->check(CLI::IsMember({"f32", "tf32", "bf16"}))
      ->capture_default_str();
  app.add_flag("--mix-devices", mix_devices,
               "resume a .partial cache that another device or precision began (the cache then names "
               "both); refused otherwise");
  app.add_option("--threads", threads, "CPU threads (0 = all cores)")->capture_default_str();
  app.add_option("--batch-seconds", batch_seconds, "audio seconds of one dialogue per WavLM call")
      ->capture_default_str();
  app.add_option("--seed", front.seed, "seed of random:CONFIG weights")->capture_default_str();
  app.add_flag("--no-normalise", no_normalise, "feed the waveform as it is (WavLM-Large expects it normalised)");
  app.add_flag("--quiet", quiet, "no progress line");
  CLI11_PARSE(app, argc, argv);

  ProgressLine line(!quiet);
  try {
    if (front.frontend == "wavlm")
      front.device = apps::choose_device(device, "erc_extract");
    else if (device == "cuda")
      std::fprintf(stderr, "erc_extract: fbank runs on the CPU (--device is for WavLM)\n");
    apps::set_threads(threads);
    for (int64_t s : sessions) ERC_CHECK(s >= 1 && s <= 5, "--sessions: sessions are 1..5, got ", s);
    const std::vector<data::AudioItem> items = read_corpus(corpus, sessions);
    ERC_CHECK(!items.empty(), corpus, ": no utterances to extract");
    const auto front_end = extract::make_front_end(front);
    std::printf("%s\n", front_end->summary().c_str());
    extract::ExtractOptions options;
    options.normalise = !no_normalise;
    options.dtype = dtype == "f32" ? DType::f32 : DType::f16;
    options.max_batch_seconds = batch_seconds;
    options.mix_devices = mix_devices;
    if (already_complete(out, extract::extract_attributes(*front_end, options), items)) {
      std::printf("%s is complete for this corpus and these settings: nothing to do\n", out.c_str());
      return 0;
    }
    std::signal(SIGINT, [](int) {
      if (interrupted) std::_Exit(130);  // a second Ctrl-C: at once (the .partial file stays resumable)
      interrupted = 1;
    });
    extract::extract_features(*front_end, items, out, options, [&](const extract::ExtractProgress& p) {
      if (interrupted) throw Error("interrupted: " + out + ".partial keeps what was extracted; run again to resume");
      const int64_t this_run = p.done - p.skipped;
      const double per_utt = this_run > 0 ? p.elapsed_seconds / double(this_run) : 0;
      char status[256];
      std::snprintf(status, sizeof status,
                    "erc_extract: %lld/%lld utterances (%.0f %%), %.2f utt/s, real-time factor %.3f, elapsed %s, "
                    "left ~%s",
                    static_cast<long long>(p.done), static_cast<long long>(p.total),
                    100.0 * double(p.done) / double(p.total), per_utt > 0 ? 1.0 / per_utt : 0.0,
                    p.audio_seconds > 0 ? p.elapsed_seconds / p.audio_seconds : 0.0,
                    clock_text(p.elapsed_seconds).c_str(), clock_text(per_utt * double(p.total - p.done)).c_str());
      line.show(p.done, p.total, status);
    });
    data::FeatureCacheReader cache(out);
    int64_t frames = 0;
    for (const auto& u : cache.utterances()) frames += u.n_frames;
    std::printf("wrote %s: %zu utterances, %lld frames (%s)\n", out.c_str(), cache.utterances().size(),
                static_cast<long long>(frames), cache.attributes().describe().c_str());
    return 0;
  } catch (const std::exception& e) {
    line.finish_line();
    std::fprintf(stderr, "erc_extract: %s\n", e.what());
    return interrupted ? 130 : 1;
  }
}
