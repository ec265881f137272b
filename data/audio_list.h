// A corpus given as a CSV list of audio files (RFC 4180: io/csv.h), for data that is not IEMOCAP: one row per
// utterance, a header naming the columns. Only `path` is required:
//   path      the audio file (any format load_audio reads: data/audio.h), relative to the CSV's folder unless absolute
//   utt_id    unique id (default: the file name without its extension)
//   dialogue  conversation id; rows of one dialogue are in time order (default: the utterance is its own dialogue)
//   speaker   (default "A"),  label  as annotated (default "xxx": input only),  session  1, 2, ... (default 1)
// Start and end times are laid out from the files' durations, one utterance after another within a dialogue.
#pragma once
#include <string>
#include <vector>

#include "data/feature_cache.h"

namespace erc::data {

struct AudioItem {
  UtteranceInfo info;  // n_frames left 0: the extractor fills it
  std::string path;    // the audio file
};

// Errors name the CSV and the line: a missing `path` column, an unknown column, a wrong field count, a quote left
// open, a duplicate utt_id, a session that is not a whole number from 1, an unreadable audio file.
std::vector<AudioItem> read_audio_list(const std::string& csv_path);

}  // namespace erc::data
