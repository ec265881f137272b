// The feature cache: WavLM features of every utterance in one HDF5 file (layout in docs/FEATURES.md).
//
// Written once by erc_extract (or the synthetic generator) and read many times by erc_train: the reader loads
// only the small index up front and reads an utterance's [T, F] block when asked, so a 12-hour corpus never has
// to fit in memory.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace erc::data {

struct UtteranceInfo {
  std::string utt_id;         // e.g. Ses01F_impro01_F000
  std::string dialogue;       // e.g. Ses01F_impro01
  int64_t session = 0;        // 1..5
  std::string speaker;        // the speaker of the utterance within its dialogue: "F" or "M" in IEMOCAP
  std::string label;          // the annotated label as written (ang, exc, fru, hap, neu, sad, xxx, sur, ...)
  double start = 0, end = 0;  // seconds within the dialogue
  int64_t n_frames = 0;
  std::string split;  // a corpus's fixed split: "train", "dev" or "test"; empty where folds are sessions
};

// How the features were made; a cache made with other settings is refused rather than mixed.
struct CacheAttributes {
  std::string extractor;   // e.g. "wavlm-large" or "synthetic"
  int64_t layer = 21;      // hidden_states index
  bool normalised = true;  // per-utterance zero-mean unit-variance waveform normalisation
  int64_t sample_rate = 16000;
  double frame_rate = 50.0;  // frames per second
  int64_t feature_dim = 1024;
  DType dtype = DType::f16;  // storage: f16 or f32
  // Where the features were computed, and the GEMMs' precision: "cpu f32", "cuda f32", "cuda tf32". A cache that
  // runs on two of them finished (allowed only when asked) names both, "cpu f32 + cuda f32". Caches written before
  // the attribute existed were computed on the CPU.
  std::string computed_on = "cpu f32";
  bool operator==(const CacheAttributes& o) const;
  std::string describe() const;  // one line, for messages
};

class FeatureCacheWriter {
 public:
  // Writes to `path + ".partial"`, renamed to `path` by finish(). A ".partial" left by an interrupted run with the
  // same attributes is resumed (its utterances are kept; has() reports them); other attributes are refused.
  // `mix_computed_on`: a partial file whose only difference is computed_on is resumed too, and then names both.
  FeatureCacheWriter(const std::string& path, const CacheAttributes& attributes, bool mix_computed_on = false);
  ~FeatureCacheWriter();  // without finish(): closes the partial file, which a later run resumes
  FeatureCacheWriter(const FeatureCacheWriter&) = delete;
  FeatureCacheWriter& operator=(const FeatureCacheWriter&) = delete;

  bool has(const std::string& utt_id) const;
  int64_t n_written() const;
  // features [n_frames, F] f32, all finite (checked: a NaN names the utterance and frame); flushed to disk.
  void write(const UtteranceInfo& info, const Tensor& features);
  // Writes the index (utterances in the order given by `order`, every written utterance exactly once), closes
  // and renames into place.
  void finish(const std::vector<std::string>& order);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class FeatureCacheReader {
 public:
  // Errors name the file and the problem: missing, not HDF5, not an erc feature cache, no index.
  explicit FeatureCacheReader(const std::string& path);
  ~FeatureCacheReader();
  FeatureCacheReader(const FeatureCacheReader&) = delete;
  FeatureCacheReader& operator=(const FeatureCacheReader&) = delete;

  const CacheAttributes& attributes() const;
  const std::vector<UtteranceInfo>& utterances() const;  // in index order
  Tensor read(size_t index) const;                       // [n_frames, F] f32
  const std::string& path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace erc::data
