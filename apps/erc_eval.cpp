// erc_eval: evaluates a run's checkpoints (the schedule-free x parameters) and, with --compare, the paper's
// per-conversation "atmosphere" analysis of a conversation model against a single-utterance model.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>

#include "app_common.h"
#include "app_device.h"
#include "eval/atmosphere.h"
#include "eval/charts.h"
#include "io/atomic_file.h"
#include "train/baselines.h"
#include "train/run_config.h"
#include "train/run_files.h"
#include "train/trainer.h"

using namespace erc;

namespace {

std::vector<eval::Prediction> evaluate_run(const train::TrainConfig& run, const std::vector<int64_t>& folds,
                                           const std::string& which) {
  std::vector<eval::Prediction> all;
  for (int64_t k : folds) {
    std::fprintf(stderr, "evaluating %s fold %lld ...\n", run.out.c_str(), static_cast<long long>(k));
    auto preds = train::evaluate_checkpoint(run, train::checkpoint_path(run, k, which), k);
    all.insert(all.end(), preds.begin(), preds.end());
  }
  return all;
}

// A row of Table 2: WA and W-F1, and for a trained model a warning where it says one class whatever it hears.
void print_row(const std::string& name, const eval::Metrics& m, const data::ClassSet& classes, bool trained = true) {
  std::printf("%-44s %7.2f %7.2f", name.c_str(), 100 * m.wa, 100 * m.weighted_f1);
  if (trained && eval::n_predicted_classes(m) == 1) {
    size_t only = 0;
    while (m.per_class[only].predicted == 0) ++only;
    std::printf("   ONE CLASS: predicts %s for every utterance, not a result", classes.name(int64_t(only)).c_str());
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "erc_eval: evaluate an erc_train run's checkpoints on their test sessions. Prints WA, UA, W-F1, macro-F1,\n"
      "the per-class table and the confusion matrix beside the majority class (each fold's most common training\n"
      "label); writes report.json, predictions.csv and confusion.svg to --out. --compare OTHER_RUN (typically\n"
      "the single-utterance baseline) adds the paper's Table 2 and the per-conversation analysis: emotion\n"
      "distribution per conversation (atmosphere.csv, atmosphere.svg) and the accuracy change per\n"
      "conversation and emotion of this run over OTHER_RUN, dominant emotion marked (change.csv and a table)."};
  std::string run_dir, fold = "all", out, compare, which = "best", device = "auto", features;
  int threads = 0;
  app.add_option("--run", run_dir, "run directory written by erc_train")->required();
  app.add_option("--fold", fold, "a fold the run trained (its test session, or split), or all")->capture_default_str();
  app.add_option("--checkpoint", which, "best | last")->capture_default_str();
  app.add_option("--features", features, "feature cache (default: the one the run was trained on)");
  app.add_option("--out", out, "output folder (default: RUN/eval)");
  app.add_option("--compare", compare, "a second run (e.g. single-utterance) for the atmosphere analysis");
  app.add_option("--device", device, "cpu | cuda | auto (the GPU when one answers, else the CPU)")
      ->capture_default_str();
  app.add_option("--threads", threads, "CPU threads (0 = all cores)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    const Device on = apps::choose_device(device, "erc_eval");
    apps::set_threads(threads);
    train::TrainConfig run = train::read_run_config(run_dir);
    run.device = on;
    if (!features.empty()) run.features = features;
    const std::vector<int64_t> folds = apps::parse_folds(fold, run.folds);
    train::TrainConfig other;
    if (!compare.empty()) {
      other = train::read_run_config(compare);
      ERC_CHECK(other.classes == run.classes, run_dir, " trained on classes ", run.classes.spec(), " but ", compare,
                " on ", other.classes.spec(), ": the atmosphere analysis compares two runs over the same classes");
      other.device = on;
      if (!features.empty()) other.features = features;
    }
    if (out.empty()) out = run_dir + "/eval";
    std::filesystem::create_directories(out);

    std::vector<eval::Prediction> preds = evaluate_run(run, folds, which);
    const data::ClassSet& classes = run.classes;
    eval::Metrics m = train::metrics_of(preds, classes);
    const std::vector<std::string>& names = classes.names();
    std::printf("%s (%s checkpoints, folds", run_dir.c_str(), which.c_str());
    for (int64_t k : folds) std::printf(" %lld", static_cast<long long>(k));
    std::printf(")\n%s", eval::format_metrics(m, names).c_str());
    eval::write_predictions_csv(out + "/predictions.csv", preds, classes);
    eval::write_confusion_svg(out + "/confusion.svg", m.confusion, names,
                              "confusion on the test sessions: " + run_dir);
    const eval::Metrics majority = train::metrics_of(train::majority_predictions(run, folds), classes);
    nlohmann::json report = {{"run", run_dir},
                             {"checkpoint", which},
                             {"folds", folds},
                             {"classes", classes.to_json()},
                             {"test", train::metrics_json(m, classes)},
                             {"predicted_classes", eval::n_predicted_classes(m)},
                             {"majority_class", train::metrics_json(majority, classes)},
                             {"git_commit", train::git_commit()}};

    if (compare.empty()) {
      std::printf("\n%-44s %7s %7s\n", "test metrics, %", "WA", "W-F1");
      print_row("majority class (no model)", majority, classes, false);
      print_row(run_dir, m, classes);
    } else {
      std::vector<eval::Prediction> other_preds = evaluate_run(other, folds, which);
      eval::AtmosphereReport atmosphere = eval::analyse_atmosphere(preds, other_preds, names);
      eval::write_distribution_csv(out + "/atmosphere.csv", atmosphere);
      eval::write_distribution_svg(out + "/atmosphere.svg", atmosphere);
      eval::write_change_csv(out + "/change.csv", atmosphere);
      const eval::Metrics other_m = train::metrics_of(other_preds, classes);
      // The paper's Table 2: the two inputs side by side, and by how much context changes them.
      std::printf("\n%-44s %7s %7s\n", "input (test metrics, %)", "WA", "W-F1");
      print_row("majority class (no model)", majority, classes, false);
      print_row(std::string(data::mode_name(other.mode)) + ": " + compare, other_m, classes);
      print_row(std::string(data::mode_name(run.mode)) + ": " + run_dir, m, classes);
      std::printf("%-44s %+7.2f %+7.2f\n", "difference (points)", 100 * (m.wa - other_m.wa),
                  100 * (m.weighted_f1 - other_m.weighted_f1));
      std::printf("\n%s (this run) against %s:\n%s", run_dir.c_str(), compare.c_str(),
                  eval::format_change_table(atmosphere).c_str());
      report["compare"] = {{"run", compare},
                           {"test", train::metrics_json(other_m, classes)},
                           {"predicted_classes", eval::n_predicted_classes(other_m)}};
    }
    write_file_atomically(out + "/report.json", report.dump(2) + "\n");
    std::printf("\nwrote %s/\n", out.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "erc_eval: %s\n", e.what());
    return 1;
  }
}
