// Feature extraction: audio files -> a front end's frames (WavLM hidden states of one layer, or log-mel bands)
// -> the HDF5 feature cache (docs/FEATURES.md). Resumable: utterances already in the cache's .partial file are
// skipped. The utterances of one dialogue go through the front end together, up to a budget of audio seconds per
// call, sharing WavLM's GEMMs. A reader thread decodes and resamples the next batches and a writer thread writes
// the last ones while the front end runs (the GPU's work with --device cuda), each through a queue of two batches.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "data/audio_list.h"
#include "extract/front_end.h"

namespace erc::extract {

struct ExtractOptions {
  bool normalise = true;            // per-utterance zero mean, unit variance (docs/MODEL.md §1)
  DType dtype = DType::f16;         // storage of the features
  double max_batch_seconds = 60.0;  // audio per front-end call; one longer utterance still goes alone
  bool mix_devices = false;         // resume a .partial that another device or precision began (computed_on)
};

struct ExtractProgress {
  int64_t done = 0, total = 0;  // utterances extracted (in the cache or queued for it) / to be there
  int64_t skipped = 0;          // found already in an interrupted run's file
  double audio_seconds = 0;     // of the utterances extracted by this run
  double elapsed_seconds = 0;   // this run's wall time
};
using ExtractCallback = std::function<void(const ExtractProgress&)>;

// The cache attributes a run with `front_end` and `options` records; a resumed run must match them.
data::CacheAttributes extract_attributes(const FrontEnd& front_end, const ExtractOptions& options);

// The waveform a front end is fed: `waveform` normalised when `normalise` (zero mean, unit variance).
Tensor front_end_input(const Tensor& waveform, bool normalise);

// Extracts every item into `out_path` (written as out_path.partial, renamed when complete). Audio errors name the
// file; an utterance too short for one frame (under 25 ms) is an error naming it. `progress` is called after
// every front-end call, on the calling thread; its utterances are then on their way to the writer, and an error
// thrown from `progress` (an interruption) still writes them before it goes on.
void extract_features(const FrontEnd& front_end, const std::vector<data::AudioItem>& items, const std::string& out_path,
                      const ExtractOptions& options, const ExtractCallback& progress = {});

}  // namespace erc::extract
