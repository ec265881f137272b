// Training and evaluation of the ErcModel with the paper's protocol (docs/MODEL.md §4): leave-one-session-out
// folds, conversation or single-utterance batches, training-data shuffles, RAdamScheduleFree, per-epoch metrics,
// selection of the best epoch on the test or a validation split, and a run directory that survives interruption.
#pragma once
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "eval/metrics.h"
#include "eval/predictions.h"

namespace erc::nn {
class ErcModel;
}

namespace erc::train {

struct TrainConfig {
  std::string features;           // the HDF5 feature cache
  std::vector<int64_t> folds;     // test sessions, e.g. {1} or {1, 2, 3, 4, 5}
  data::ClassSet classes;         // what the model tells apart; empty: the corpus's default (ClassSet::of_corpus)
  int64_t epochs = 60;
  double lr = 1e-4;
  data::Mode mode = data::Mode::conversation;
  data::Shuffle shuffle = data::Shuffle::none;
  int64_t batch_size = 128;       // utterances per batch in utterance mode
  uint64_t seed = 0;
  std::string out;                // the run directory
  std::string init;               // optional initial weights (safetensors)
  bool resume = false;
  std::string select = "test";    // "test" (the paper) or "val" (a split carved from the training sessions)
  double val_fraction = 0.1;      // share of training conversations held out when select == "val"
  double dropout = 0.1;
  bool log_every_step = false;
  bool progress = true;           // a progress bar on stderr
  int64_t d_model = 256;          // encoder width (the paper's); smaller for quick experiments
  Device device = Device::cpu;    // where the model trains (checkpoints are the same on every device)
  bool tf32 = false;              // the device's GEMMs in TF32 (recorded; the caller sets cuBLAS's mode)
  bool recompute_layers = false;  // rerun each BiMamba layer in backward instead of keeping its activations
};

struct FoldResult {
  int64_t fold = 0;
  int64_t best_epoch = 0;
  eval::Metrics test, val;                    // at the best epoch (val empty unless select == "val")
  std::vector<eval::Prediction> predictions;  // test predictions at the best epoch
};

// Set by a SIGINT handler: training stops at the next step boundary, keeping the last epoch's checkpoint.
extern std::atomic<bool> interrupt_requested;

// Trains every fold of `config` and writes the run directory (docs/RUNS.md). Returns the per-fold results;
// with several folds, report.json and predictions.csv at the top also hold the pooled metrics. Empty classes are
// the corpus's default, recorded in config.json as the classes the run trained on.
std::vector<FoldResult> train(const TrainConfig& config);

// The pooled metrics of several folds' predictions (of one run, so over the same classes).
eval::Metrics pooled_metrics(const std::vector<FoldResult>& results);
eval::Metrics metrics_of(const std::vector<eval::Prediction>& predictions, const data::ClassSet& classes);

// The checkpoint of a fold ("best" or "last") inside a finished (or interrupted) run, whose config.json
// read_run_config (run_config.h) reads back.
std::string checkpoint_path(const TrainConfig& config, int64_t fold, const std::string& which);

// The model a run trained, with a checkpoint's x parameters, in eval mode on config.device; `feature_dim` is the
// width of the features it reads.
std::unique_ptr<nn::ErcModel> load_trained_model(const TrainConfig& config, int64_t feature_dim,
                                                 const std::string& checkpoint);

// Each utterance's softmax over the classes for a packed batch (features [T, F] on the model's device), on the
// host, and the most probable class of a row (the first on a tie): what erc_eval and erc_predict report.
std::vector<std::vector<double>> utterance_probabilities(const nn::ErcModel& model, const Tensor& features,
                                                         const std::vector<int64_t>& seq_offsets,
                                                         const std::vector<int64_t>& utt_offsets);
int64_t most_probable(const std::vector<double>& probabilities);

// Test predictions of a checkpoint's x parameters on fold `fold`, batched as the run was trained (conversations
// or single utterances), never shuffled.
std::vector<eval::Prediction> evaluate_checkpoint(const TrainConfig& config, const std::string& checkpoint,
                                                  int64_t fold);

}  // namespace erc::train
