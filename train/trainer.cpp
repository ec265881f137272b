#include "train/trainer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "autograd/backward.h"
#include "autograd/grad_mode.h"
#include "io/atomic_file.h"
#include "io/file_lock.h"
#include "io/progress.h"
#include "nn/erc_model.h"
#include "ops/cross_entropy.h"
#include "ops/softmax.h"
#include "train/checkpoint.h"
#include "train/run_config.h"
#include "train/run_files.h"

namespace erc::train {

std::atomic<bool> interrupt_requested{false};

namespace {

namespace fs = std::filesystem;
struct Context {
  const TrainConfig& config;
  const data::FeatureCacheReader& cache;
  const std::vector<data::Conversation>& conversations;
};

std::vector<eval::Prediction> predict(const nn::ErcModel& model, const Context& ctx, const std::vector<size_t>& ids) {
  NoGradGuard no_grad;
  Generator unused(0);
  const auto& utts = ctx.cache.utterances();
  auto sequences = data::shuffled_conversations(ctx.conversations, ids, utts, data::Shuffle::none, unused);
  std::vector<eval::Prediction> out;
  for (const data::BatchPlan& plan : data::plan_batches(sequences, ctx.config.mode, ctx.config.batch_size, nullptr)) {
    data::Batch batch = data::load_batch(ctx.cache, plan, ctx.config.classes);
    const auto probabilities =
        utterance_probabilities(model, batch.features.to(ctx.config.device), batch.seq_offsets, batch.utt_offsets);
    for (size_t i = 0; i < batch.utterances.size(); ++i) {
      const data::UtteranceInfo& u = utts[batch.utterances[i]];
      out.push_back({u.utt_id, u.dialogue, u.session, u.speaker, u.start, u.label, ctx.config.classes.index(u.label),
                     most_probable(probabilities[i]), probabilities[i]});
    }
  }
  return out;
}

// metrics.jsonl: one JSON object per line. Kept in memory and rewritten atomically after each epoch, so an
// interrupted run's file always ends at its last checkpoint.
std::vector<std::string> read_log_until(const std::string& path, int64_t last_epoch) {
  std::vector<std::string> lines;
  if (!fs::exists(path)) return lines;
  std::istringstream in(read_text(path));
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    if (nlohmann::json::parse(line).value("epoch", int64_t(0)) <= last_epoch) lines.push_back(line);
  }
  return lines;
}

void write_log(const std::string& path, const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  write_file_atomically(path, text);
}

nn::ErcModelConfig model_config(const TrainConfig& config, int64_t feature_dim) {
  ERC_CHECK(config.classes.size() >= 2, "the run's classes are not set (", config.classes.size(),
            "): a trained run's are in its config.json (read_run_config)");
  nn::ErcModelConfig m;
  m.feature_dim = feature_dim;
  m.n_classes = int64_t(config.classes.size());
  m.dropout = config.dropout;
  m.mamba.d_model = config.d_model;
  m.recompute_layers = config.recompute_layers;
  return m;
}

FoldResult train_fold(const Context& ctx, int64_t fold_session, const std::string& dir) {
  const TrainConfig& config = ctx.config;
  fs::create_directories(dir);
  const std::string last_path = dir + "/last.safetensors", best_path = dir + "/best.safetensors";
  const std::string log_path = dir + "/metrics.jsonl";
  const bool use_val = config.select == "val";
  data::Fold fold = data::make_fold(ctx.conversations, fold_session, use_val ? config.val_fraction : 0.0,
                                    config.seed + uint64_t(fold_session));
  ERC_CHECK(!use_val || !fold.val.empty(),
            "the fixed split has no dev conversation to select the best epoch on: ", "--select test");

  nn::ErcModel model(model_config(config, ctx.cache.attributes().feature_dim), config.seed + uint64_t(fold_session));
  if (!config.init.empty()) model.load_state_dict(load_model_weights(config.init));
  model.to(config.device);
  optim::RAdamScheduleFree optimizer(model.parameters(), {.lr = config.lr});
  Generator order_gen(config.seed * 1000003 + uint64_t(fold_session));

  Progress progress;
  std::vector<std::string> log;
  if (fs::exists(last_path)) {
    ERC_CHECK(config.resume, dir, " already holds a run (last.safetensors): pass --resume to continue it, or choose "
              "another --out");
    progress = load_checkpoint(last_path, model, optimizer, *model.dropout_gen, order_gen);
    log = read_log_until(log_path, progress.epoch);
    std::fprintf(stderr, "fold %lld: resuming after epoch %lld (best epoch %lld)\n", static_cast<long long>(fold_session),
                 static_cast<long long>(progress.epoch), static_cast<long long>(progress.best_epoch));
  }

  FoldResult result;
  result.fold = fold_session;
  optimizer.train();
  for (int64_t epoch = progress.epoch + 1; epoch <= config.epochs; ++epoch) {
    model.train();
    auto sequences = data::shuffled_conversations(ctx.conversations, fold.train, ctx.cache.utterances(),
                                                  config.shuffle, order_gen);
    auto plans = data::plan_batches(sequences, config.mode, config.batch_size, &order_gen);
    char title[64];
    std::snprintf(title, sizeof title, "fold %lld epoch %lld/%lld", static_cast<long long>(fold_session),
                  static_cast<long long>(epoch), static_cast<long long>(config.epochs));
    ProgressLine progress_line(config.progress);
    const int64_t n_steps = int64_t(plans.size());
    const Stopwatch epoch_time;
    double loss_sum = 0;
    int64_t frames = 0, steps = 0;
    for (size_t step = 0; step < plans.size(); ++step) {
      if (interrupt_requested) {
        std::ostringstream why;
        why << "interrupted in fold " << fold_session << ", epoch " << epoch << ", step " << step + 1
            << "; the last checkpoint (" << (progress.epoch ? last_path : std::string("none yet"))
            << ") is intact: rerun with --resume to continue";
        throw Error(why.str());
      }
      data::Batch batch = data::load_batch(ctx.cache, plans[step], config.classes);
      optimizer.zero_grad();
      const Tensor logits = model.forward(batch.features.to(config.device), batch.seq_offsets, batch.utt_offsets);
      Tensor loss = ops::cross_entropy(logits, batch.labels.to(config.device));
      const double value = loss.detach().to(Device::cpu).item<float>();
      if (!std::isfinite(value)) {
        std::ostringstream why;
        why << "non-finite loss (" << value << ") in fold " << fold_session << ", epoch " << epoch << ", step "
            << step + 1 << " (" << ctx.cache.utterances()[batch.utterances[0]].dialogue << "); training stopped, "
            << (progress.epoch ? "the last good checkpoint is " + last_path + " (epoch " +
                                     std::to_string(progress.epoch) + ")"
                               : std::string("no checkpoint was written yet"));
        throw Error(why.str());
      }
      backward(loss);
      optimizer.step();
      loss_sum += value;
      frames += batch.features.size(0);
      ++steps;
      char status[160];
      std::snprintf(status, sizeof status, "%s %s %lld/%lld loss %.4f  %.0f frames/s  ETA %.0fs", title,
                    progress_bar(steps, n_steps).c_str(), static_cast<long long>(steps),
                    static_cast<long long>(n_steps), loss_sum / double(steps), double(frames) / epoch_time.seconds(),
                    seconds_left(epoch_time.seconds(), steps, n_steps));
      progress_line.show(steps, n_steps, status);
      if (config.log_every_step)
        log.push_back(nlohmann::json{{"type", "step"}, {"epoch", epoch}, {"step", step + 1}, {"loss", value}}.dump());
    }
    const double train_seconds = epoch_time.seconds();

    optimizer.eval();
    model.eval();
    std::vector<eval::Prediction> test_preds = predict(model, ctx, fold.test);
    eval::Metrics test = metrics_of(test_preds, config.classes), val;
    if (use_val) val = metrics_of(predict(model, ctx, fold.val), config.classes);
    const double score = use_val ? val.weighted_f1 : test.weighted_f1;
    if (score > progress.best_score) {
      progress.best_score = score;
      progress.best_epoch = epoch;
      result.best_epoch = epoch;
      result.test = test;
      result.val = val;
      result.predictions = test_preds;
      eval::write_predictions_csv(dir + "/predictions.csv", test_preds, config.classes);
    }
    progress.epoch = epoch;
    nlohmann::json line = {{"type", "epoch"},          {"epoch", epoch},
                           {"train_loss", loss_sum / double(std::max<int64_t>(steps, 1))},
                           {"train_seconds", train_seconds}, {"frames_per_second", double(frames) / train_seconds},
                           {"test", {{"wa", test.wa}, {"ua", test.ua}, {"weighted_f1", test.weighted_f1},
                                     {"macro_f1", test.macro_f1}}}};
    if (use_val)
      line["val"] = {{"wa", val.wa}, {"ua", val.ua}, {"weighted_f1", val.weighted_f1}, {"macro_f1", val.macro_f1}};
    log.push_back(line.dump());
    // Order matters for a crash between two writes: the best checkpoint first, then the log, then last, which
    // is what --resume reads; a log line beyond last's epoch is dropped on resume.
    if (progress.best_epoch == epoch)
      save_checkpoint(best_path, model, optimizer, *model.dropout_gen, order_gen, progress);
    write_log(log_path, log);
    save_checkpoint(last_path, model, optimizer, *model.dropout_gen, order_gen, progress);
    std::fprintf(stderr, "fold %lld epoch %lld: loss %.4f, test WA %.2f W-F1 %.2f%s%s\n",
                 static_cast<long long>(fold_session), static_cast<long long>(epoch),
                 loss_sum / double(std::max<int64_t>(steps, 1)), 100 * test.wa, 100 * test.weighted_f1,
                 use_val ? (", val W-F1 " + std::to_string(100 * val.weighted_f1).substr(0, 5)).c_str() : "",
                 progress.best_epoch == epoch ? " (best)" : "");
    optimizer.train();
  }

  if (result.best_epoch == 0) {  // the best epoch came before a resume (or there was nothing left to train)
    ERC_CHECK(progress.best_epoch > 0 && fs::exists(best_path), dir, ": no best checkpoint to report from");
    optimizer.eval();
    load_checkpoint(best_path, model, optimizer, *model.dropout_gen, order_gen);
    model.eval();
    result.best_epoch = progress.best_epoch;
    result.predictions = predict(model, ctx, fold.test);
    result.test = metrics_of(result.predictions, config.classes);
    if (use_val) result.val = metrics_of(predict(model, ctx, fold.val), config.classes);
  }
  nlohmann::json report = {{"fold", fold_session},    {"best_epoch", result.best_epoch},
                           {"select", config.select}, {"epochs", config.epochs},
                           {"seed", config.seed},     {"test", metrics_json(result.test, config.classes)}};
  if (use_val) report["val"] = metrics_json(result.val, config.classes);
  write_file_atomically(dir + "/report.json", report.dump(2) + "\n");
  return result;
}

// A class no utterance is labelled with is a typo in --classes far more often than a wish.
void check_classes_are_labelled(const data::ClassSet& classes, const std::vector<data::UtteranceInfo>& utterances) {
  std::vector<int64_t> counts(classes.size(), 0);
  for (const data::UtteranceInfo& u : utterances)
    if (classes.index(u.label) >= 0) ++counts[size_t(classes.index(u.label))];
  for (size_t c = 0; c < classes.size(); ++c)
    ERC_CHECK(counts[c] > 0, "class '", classes.name(int64_t(c)), "' of ", classes.spec(),
              ": no utterance of the feature cache has its label");
}

}  // namespace

eval::Metrics metrics_of(const std::vector<eval::Prediction>& preds, const data::ClassSet& classes) {
  std::vector<int64_t> labels, predictions;
  for (const auto& p : preds) {
    labels.push_back(p.label_index);
    predictions.push_back(p.prediction);
  }
  return eval::compute_metrics(labels, predictions, int64_t(classes.size()));
}

std::string checkpoint_path(const TrainConfig& config, int64_t fold, const std::string& which) {
  ERC_CHECK(which == "best" || which == "last", "checkpoint must be best or last, got '", which, "'");
  ERC_CHECK(std::find(config.folds.begin(), config.folds.end(), fold) != config.folds.end(), config.out,
            ": the run did not train fold ", fold);
  const std::string dir = config.folds.size() == 1 ? config.out : config.out + "/fold" + std::to_string(fold);
  const std::string path = dir + "/" + which + ".safetensors";
  ERC_CHECK(fs::exists(path), path, ": no such checkpoint");
  return path;
}

std::vector<std::vector<double>> utterance_probabilities(const nn::ErcModel& model, const Tensor& features,
                                                         const std::vector<int64_t>& seq_offsets,
                                                         const std::vector<int64_t>& utt_offsets) {
  const Tensor probs = ops::softmax(model.forward(features, seq_offsets, utt_offsets), 1).to(Device::cpu);
  const size_t n_classes = size_t(probs.size(1));
  std::vector<std::vector<double>> out(size_t(probs.size(0)));
  const float* p = probs.data<float>();
  for (size_t i = 0; i < out.size(); ++i) out[i].assign(p + i * n_classes, p + (i + 1) * n_classes);
  return out;
}

int64_t most_probable(const std::vector<double>& probabilities) {
  return int64_t(std::max_element(probabilities.begin(), probabilities.end()) - probabilities.begin());
}

std::unique_ptr<nn::ErcModel> load_trained_model(const TrainConfig& config, int64_t feature_dim,
                                                 const std::string& checkpoint) {
  auto model = std::make_unique<nn::ErcModel>(model_config(config, feature_dim), 0);
  model->load_state_dict(load_model_weights(checkpoint));
  model->to(config.device);
  model->eval();
  return model;
}

std::vector<eval::Prediction> evaluate_checkpoint(const TrainConfig& config, const std::string& checkpoint,
                                                  int64_t fold) {
  data::FeatureCacheReader cache(config.features);
  const auto conversations = data::group_conversations(cache.utterances());
  Context ctx{config, cache, conversations};
  const auto model = load_trained_model(config, cache.attributes().feature_dim, checkpoint);
  return predict(*model, ctx, data::make_fold(conversations, fold, 0.0, 0).test);
}

eval::Metrics pooled_metrics(const std::vector<FoldResult>& results) {
  ERC_CHECK(!results.empty(), "pooled metrics of no fold");
  std::vector<int64_t> labels, predictions;
  for (const auto& r : results)
    for (const eval::Prediction& p : r.predictions) {
      labels.push_back(p.label_index);
      predictions.push_back(p.prediction);
    }
  return eval::compute_metrics(labels, predictions, int64_t(results.front().test.per_class.size()));
}

std::vector<FoldResult> train(const TrainConfig& requested) {
  ERC_CHECK(!requested.folds.empty(), "train: no fold given");
  ERC_CHECK(requested.epochs > 0, "train: --epochs must be positive, got ", requested.epochs);
  ERC_CHECK(requested.select == "test" || requested.select == "val", "train: --select must be test or val, got '",
            requested.select, "'");
  ERC_CHECK(!requested.out.empty(), "train: --out RUN_DIR is required");
  data::FeatureCacheReader cache(requested.features);
  const auto conversations = data::group_conversations(cache.utterances());
  TrainConfig config = requested;
  const std::string config_path = config.out + "/config.json";
  if (config.resume && fs::exists(config_path)) {
    // A resumed run keeps the classes it started with; naming others is a mistake to stop, not to mix.
    const data::ClassSet started = read_run_config(config.out).classes;
    ERC_CHECK(config.classes.size() == 0 || config.classes == started, config.out, " trained on classes ",
              started.spec(), ", not ", config.classes.spec(),
              ": resume it without --classes, or choose another --out");
    config.classes = started;
  }
  if (config.classes.size() == 0) config.classes = data::ClassSet::of_corpus(cache.utterances());
  check_classes_are_labelled(config.classes, cache.utterances());
  Context ctx{config, cache, conversations};

  fs::create_directories(config.out);
  const FileLock lock(config.out + "/.lock", "the run directory " + config.out);
  if (!fs::exists(config_path) || !config.resume)
    write_file_atomically(config_path, run_config_json(config, cache.attributes()).dump(2) + "\n");

  std::vector<FoldResult> results;
  for (int64_t k : config.folds) {
    const std::string dir = config.folds.size() == 1 ? config.out : config.out + "/fold" + std::to_string(k);
    results.push_back(train_fold(ctx, k, dir));
  }
  if (results.size() > 1) {
    eval::Metrics pooled = pooled_metrics(results);
    nlohmann::json report = {
        {"select", config.select}, {"seed", config.seed}, {"pooled", metrics_json(pooled, config.classes)}};
    for (const auto& r : results)
      report["folds"].push_back(
          {{"fold", r.fold}, {"best_epoch", r.best_epoch}, {"test", metrics_json(r.test, config.classes)}});
    std::vector<eval::Prediction> all;
    for (const auto& r : results) all.insert(all.end(), r.predictions.begin(), r.predictions.end());
    eval::write_predictions_csv(config.out + "/predictions.csv", all, config.classes);
    write_file_atomically(config.out + "/report.json", report.dump(2) + "\n");
  }
  return results;
}

}  // namespace erc::train
