// erc_synth: writes a synthetic feature cache with IEMOCAP's shape, where conversation context helps
// (corpora/synthetic.h), so the training pipeline can be run and checked without the corpus.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "app_common.h"
#include "corpora/synthetic.h"
#include "data/dataset.h"
#include "io/progress.h"

using namespace erc;

namespace {

void print_summary(const std::string& path) {
  data::FeatureCacheReader cache(path);
  std::set<std::string> dialogues;
  int64_t frames = 0;
  for (const data::UtteranceInfo& u : cache.utterances()) {
    dialogues.insert(u.dialogue);
    frames += u.n_frames;
  }
  const data::CacheAttributes& a = cache.attributes();
  std::printf("wrote %s: %zu dialogues, %zu utterances, %lld frames of %lld-d %s, %.1f MB\n", path.c_str(),
              dialogues.size(), cache.utterances().size(), static_cast<long long>(frames),
              static_cast<long long>(a.feature_dim), dtype_name(a.dtype),
              double(std::filesystem::file_size(path)) / 1e6);
  apps::print_label_counts(cache.utterances(), data::ClassSet::of_corpus(cache.utterances()));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "erc_synth: write a synthetic HDF5 feature cache shaped like IEMOCAP: 5 sessions of two-speaker dialogues\n"
      "(speakers F and M, ids like Ses01F_impro01_F000), labels ang exc fru hap neu sad plus unlabelled ones\n"
      "(xxx about 25 %, a few sur fea oth). Each dialogue has a dominant emotion carried by a majority of its\n"
      "labelled utterances and colouring every utterance's features, so a model that sees the whole conversation\n"
      "can beat one that sees single utterances (the model is described in corpora/synthetic.h). The same seed\n"
      "gives the same file contents. The file is written to OUT.partial and renamed when complete."};
  corpora::SyntheticOptions options;
  std::string out, dtype = "f16";
  app.add_option("--out", out, "the HDF5 feature cache to write")->required();
  app.add_option("--seed", options.seed, "seed of every random draw")->capture_default_str();
  app.add_option("--dialogues-per-session", options.dialogues_per_session, "dialogues in each of the 5 sessions")
      ->capture_default_str();
  app.add_option("--min-utterances", options.min_utterances, "fewest utterances in a dialogue")->capture_default_str();
  app.add_option("--max-utterances", options.max_utterances, "most utterances in a dialogue")->capture_default_str();
  app.add_option("--mean-frames", options.mean_frames, "mean frames per utterance (50 frames = 1 s; at least 5)")
      ->capture_default_str();
  app.add_option("--feature-dim", options.feature_dim, "feature width F (WavLM-Large: 1024)")->capture_default_str();
  app.add_option("--dtype", dtype, "storage type of the features")
      ->check(CLI::IsMember({"f16", "f32"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  options.dtype = dtype == "f32" ? DType::f32 : DType::f16;

  ProgressLine line;
  try {
    corpora::write_synthetic_cache(options, out, [&](int64_t written, int64_t total) {
      line.show(written, total,
                "erc_synth: " + std::to_string(written) + "/" + std::to_string(total) + " utterances (" +
                    std::to_string(100 * written / total) + " %)");
    });
    print_summary(out);
  } catch (const std::exception& e) {  // erc::Error, and the filesystem's errors
    line.finish_line();
    std::fprintf(stderr, "erc_synth: %s\n", e.what());
    return 1;
  }
  return 0;
}
