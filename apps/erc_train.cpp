// erc_train: trains the BiMamba ERC model on a feature cache with the paper's protocol (docs/RUNS.md).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <csignal>
#include <cstdio>

#include "app_common.h"
#include "app_device.h"
#include "train/trainer.h"

using namespace erc;

static void on_sigint(int) {
  // A second Ctrl-C kills at once; checkpoints are renamed into place, so even that leaves no corrupt file.
  if (train::interrupt_requested.exchange(true)) std::_Exit(130);
}

int main(int argc, char** argv) {
  CLI::App app{
      "erc_train: train the BiMamba emotion-recognition model (docs/MODEL.md §2-§4) on an HDF5 feature cache.\n"
      "Leave-one-session-out: fold k tests on session k and trains on the others. Writes RUN_DIR/config.json,\n"
      "metrics.jsonl, last.safetensors, best.safetensors, predictions.csv and report.json (a fold<k>/ folder\n"
      "each with --fold all, plus the pooled report). Ctrl-C stops at the next step; --resume continues."};
  train::TrainConfig config;
  std::string fold = "1", mode = "conversation", shuffle = "none", device = "auto", classes;
  int threads = 0;
  app.add_option("--features", config.features, "HDF5 feature cache (erc_extract or erc_synth)")->required();
  app.add_option("--fold", fold,
                 "test session (one of the cache's), all, or split (a corpus's fixed train/dev/test "
                 "split; the best epoch chosen on dev)")
      ->capture_default_str();
  app.add_option("--classes", classes,
                 "the classes to tell apart, in order: ang,hap+exc,neu,sad ('+' merges labels, hap=hap+exc names "
                 "the class; other labels are input only). Default: every label of the cache, alphabetical, but "
                 "xxx oth sur fea dis (on IEMOCAP: the paper's ang,exc,fru,hap,neu,sad)");
  app.add_option("--epochs", config.epochs, "epochs per fold")->capture_default_str();
  app.add_option("--lr", config.lr, "RAdamScheduleFree learning rate")->capture_default_str();
  app.add_option("--mode", mode, "conversation (one conversation per step) | utterance (--batch-size per step)")
      ->capture_default_str();
  app.add_option("--batch-size", config.batch_size, "utterances per step in utterance mode")->capture_default_str();
  app.add_option("--shuffle", shuffle, "training-data shuffle: none | intra | inter-speaker | inter")
      ->capture_default_str();
  app.add_option("--seed", config.seed, "seed for weights, dropout and data order")->capture_default_str();
  app.add_option("--device", device, "cpu | cuda | auto (the GPU when one answers, else the CPU)")
      ->capture_default_str();
  app.add_flag("--tf32", config.tf32, "GPU GEMMs in TF32 on tensor cores (faster; default FP32, as the CPU)");
  app.add_flag("--recompute-layers", config.recompute_layers,
               "keep only each BiMamba layer's input and rerun the layer in backward: the same results in about a "
               "third of the activation memory, for about a quarter more time per step");
  app.add_option("--out", config.out, "run directory")->required();
  app.add_option("--init", config.init, "initial weights (safetensors: an erc checkpoint or a PyTorch state dict)");
  app.add_flag("--resume", config.resume, "continue the run in --out from its last checkpoint");
  app.add_option("--select", config.select,
                 "pick the best epoch on: test (as the paper) | val (held-out training "
                 "conversations; with --fold split, dev, the default there)")
      ->capture_default_str();
  app.add_option("--val-fraction", config.val_fraction, "share of training conversations held out for --select val")
      ->capture_default_str();
  app.add_option("--dropout", config.dropout, "dropout rate")->capture_default_str();
  app.add_option("--d-model", config.d_model, "encoder width (the paper: 256)")->capture_default_str();
  app.add_option("--threads", threads, "CPU threads (0 = all cores)")->capture_default_str();
  app.add_flag("--log-every-step", config.log_every_step, "write each step's loss to metrics.jsonl");
  bool quiet = false;
  app.add_flag("--quiet", quiet, "no progress bar");
  CLI11_PARSE(app, argc, argv);

  try {
    config.progress = !quiet;
    config.mode = data::parse_mode(mode);
    config.shuffle = data::parse_shuffle(shuffle);
    const data::FeatureCacheReader cache(config.features);
    const bool has_split = std::any_of(cache.utterances().begin(), cache.utterances().end(),
                                       [](const data::UtteranceInfo& u) { return !u.split.empty(); });
    if (fold == "split") {
      ERC_CHECK(has_split, config.features,
                " has no fixed split (no utterance of train, dev or test): --fold takes "
                "a session or all");
      config.folds = {data::kFixedSplit};
      // The best epoch of a fixed split is chosen on dev, unless asked otherwise.
      if (app.count("--select") == 0) config.select = "val";
    } else {
      config.folds = apps::parse_folds(fold, apps::sessions_of(cache.utterances()));
    }
    if (!classes.empty()) config.classes = data::ClassSet::parse(classes);
    config.device = apps::choose_device(device, "erc_train");
    ERC_CHECK(!config.tf32 || config.device == Device::cuda, "--tf32 is for the GPU's GEMMs; this run is on the CPU");
    ops::use_tf32_gemms(config.tf32);
    apps::set_threads(threads);
    std::signal(SIGINT, on_sigint);
    auto results = train::train(config);
    std::printf("\n%-6s %-10s %7s %7s %7s %9s\n", "fold", "best epoch", "WA", "UA", "W-F1", "macro-F1");
    for (const auto& r : results)
      std::printf("%-6s %-10lld %7.2f %7.2f %7.2f %9.2f\n",
                  r.fold == data::kFixedSplit ? "split" : std::to_string(r.fold).c_str(),
                  static_cast<long long>(r.best_epoch), 100 * r.test.wa, 100 * r.test.ua, 100 * r.test.weighted_f1,
                  100 * r.test.macro_f1);
    if (results.size() > 1) {
      eval::Metrics pooled = train::pooled_metrics(results);
      std::printf("%-6s %-10s %7.2f %7.2f %7.2f %9.2f\n", "pooled", "", 100 * pooled.wa, 100 * pooled.ua,
                  100 * pooled.weighted_f1, 100 * pooled.macro_f1);
    }
    std::printf("(test metrics at the epoch selected on %s; run directory: %s)\n", config.select.c_str(),
                config.out.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "erc_train: %s\n", e.what());
    return train::interrupt_requested ? 130 : 1;
  }
}
