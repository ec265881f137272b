// Training checkpoints: one safetensors file a PyTorch user can open. It holds
//   model.<name>      the schedule-free x parameters (what evaluation uses; loads into a PyTorch ErcModel),
//   optim.<key>       RAdamScheduleFree's state (z, v, step, lr_max, weight_sum) for resuming,
//   rng.<stream>      [2] i64: seed and offset of the dropout and data-order generators,
//   progress.<key>    0-d f64: epoch completed, best epoch and best score so far,
// and is written in eval mode (parameters = x): train() then recomputes y = beta1 x + (1 - beta1) z exactly as
// the uninterrupted run does after its evaluation, so a resumed run continues bit for bit.
#pragma once
#include <string>

#include "nn/module.h"
#include "optim/radam_schedule_free.h"
#include "tensor/random.h"

namespace erc::train {

struct Progress {
  int64_t epoch = 0;        // epochs completed
  int64_t best_epoch = 0;   // 0 = none yet
  double best_score = -1;   // the selection metric (W-F1) of best_epoch
};

// Model in eval mode (x) and the optimiser in eval mode; written atomically (tmp + rename).
void save_checkpoint(const std::string& path, const nn::Module& model, const optim::RAdamScheduleFree& optimizer,
                     const Generator& dropout_gen, const Generator& order_gen, const Progress& progress);

// Restores everything save_checkpoint wrote; the optimiser is left in eval mode. Errors name the file.
Progress load_checkpoint(const std::string& path, nn::Module& model, optim::RAdamScheduleFree& optimizer,
                         Generator& dropout_gen, Generator& order_gen);

// The model.* tensors of a checkpoint, or a plain state dict (e.g. from PyTorch) whose names have no prefix.
nn::StateDict load_model_weights(const std::string& path);

}  // namespace erc::train
