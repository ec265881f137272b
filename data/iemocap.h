// Indexes an IEMOCAP_full_release tree: every utterance's id, dialogue, session, speaker, label and times, read
// from the EmoEvaluation summary lines, with a check that its WAV exists (no audio is decoded here).
//
// The full corpus (docs/MODEL.md §4) indexes to 151 dialogues and 10,039 utterances; 7,380 of them carry one
// of the six classes: fru 1849, neu 1708, ang 1103, sad 1084, exc 1041, hap 595. The rest (xxx, sur, fea, dis,
// oth) are kept as conversation context with their label as written.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/feature_cache.h"

namespace erc::data {

struct IemocapIndex {
  std::vector<UtteranceInfo> utterances;  // n_frames left 0: the feature extractor fills it
  std::vector<std::string> missing_wavs;  // paths of listed utterances whose WAV is absent (left out above)
  int64_t dialogues = 0;                  // dialogues with at least one utterance in `utterances`
};

// Reads <root>/Session{s}/dialog/EmoEvaluation/<dialog>.txt for each requested session (files only: the
// Categorical/, Attribute/ and Self-evaluation/ subfolders hold per-annotator copies and are not read).
// Utterances come grouped by dialogue, sessions in the order given, dialogues in file-name order, and by start
// time within a dialogue. Errors name the path: a root with no Session folder, a requested session missing, a
// summary line that does not parse (with its line number), an id whose session or dialogue disagrees with the
// file it is in, an id listed twice.
IemocapIndex index_iemocap(const std::string& root, const std::vector<int64_t>& sessions = {1, 2, 3, 4, 5});

// <root>/Session{s}/sentences/wav/<dialogue>/<utt_id>.wav
std::string wav_path(const std::string& root, const UtteranceInfo& utterance);

}  // namespace erc::data
