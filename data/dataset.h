// From the feature cache to batches: conversations, leave-one-session-out folds, the two
// training modes and the four training-data shuffle conditions of docs/MODEL.md §4.
#pragma once
#include <string>
#include <vector>

#include "data/classes.h"
#include "data/feature_cache.h"
#include "tensor/random.h"

namespace erc::data {

struct Conversation {
  std::string dialogue;
  int64_t session = 0;
  std::string split;               // train, dev, test, or empty (UtteranceInfo::split)
  std::vector<size_t> utterances;  // indices into the cache's utterances, by start time
};

// Groups the cache's utterances by dialogue (in order of first appearance), each sorted by start time. Errors: a
// dialogue across two sessions or two splits.
std::vector<Conversation> group_conversations(const std::vector<UtteranceInfo>& utterances);

// The fold that is a corpus's fixed split rather than a session: `--fold split`.
inline constexpr int64_t kFixedSplit = 0;

struct Fold {
  int64_t test_session = 0;              // or kFixedSplit
  std::vector<size_t> train, val, test;  // conversation indices
};

// Fold k tests on session k and trains on the others. With `val_fraction` > 0 that share of the training
// conversations (at least one, chosen by `seed`) is held out as a validation split. Fold kFixedSplit is the
// corpus's own split instead: train, dev (the validation split, whatever `val_fraction`) and test. Errors name an
// empty split.
Fold make_fold(const std::vector<Conversation>& conversations, int64_t test_session, double val_fraction, uint64_t seed);

enum class Mode { conversation, utterance };
enum class Shuffle { none, intra, inter_speaker, inter };
Mode parse_mode(const std::string& s);        // "conversation" | "utterance"
Shuffle parse_shuffle(const std::string& s);  // "none" | "intra" | "inter-speaker" | "inter"
const char* mode_name(Mode m);
const char* shuffle_name(Shuffle s);

// A batch as lists of utterance indices: each inner list is one packed sequence, in order.
using Sequence = std::vector<size_t>;
using BatchPlan = std::vector<Sequence>;

// Rebuilds training conversations under a shuffle condition (the test data is never shuffled):
//   none           the conversations as recorded;
//   intra          each conversation's utterances in a random order;
//   inter-speaker  each conversation keeps its length and its sequence of speakers, but every utterance is
//                  replaced by one of the same speaker (session + speaker: one actor in IEMOCAP) drawn without
//                  replacement from all the given conversations;
//   inter          every utterance replaced by one drawn without replacement from the whole pool.
std::vector<Sequence> shuffled_conversations(const std::vector<Conversation>& conversations,
                                             const std::vector<size_t>& conversation_ids,
                                             const std::vector<UtteranceInfo>& utterances, Shuffle shuffle,
                                             Generator& gen);

// The batches of one epoch. conversation mode: one conversation per batch, in random order when `gen` is given;
// utterance mode: the sequences' utterances, each its own sequence, `batch_size` per batch, shuffled likewise.
std::vector<BatchPlan> plan_batches(const std::vector<Sequence>& sequences, Mode mode, int64_t batch_size,
                                    Generator* gen);

struct Batch {
  Tensor features;                   // [T, F] f32, the packed frames
  std::vector<int64_t> seq_offsets;  // S + 1
  std::vector<int64_t> utt_offsets;  // U + 1
  Tensor labels;                     // [U] i64: the class, or kIgnoreLabel for a label in none
  std::vector<size_t> utterances;    // [U] indices into the cache
};

Batch load_batch(const FeatureCacheReader& cache, const BatchPlan& plan, const ClassSet& classes);

// Uniform permutation of 0..n-1 (Fisher-Yates with the generator's draws).
std::vector<size_t> permutation(size_t n, Generator& gen);

}  // namespace erc::data
