// A corpus given as a CSV list of audio files (RFC 4180: io/csv.h), for data that is not IEMOCAP: one row per
// utterance, a header naming the columns. Only `path` is required:
//   path      the audio file (any format load_audio reads: data/audio.h), relative to the CSV's folder unless absolute
//   utt_id    unique id (default: the file name without its extension)
//   dialogue  conversation id; rows of one dialogue are in time order (default: the utterance is its own dialogue)
//   speaker   (default "A"),  label  as annotated (default "xxx": input only),  session  1, 2, ... (default 1)
//   split     train, dev or test: the corpus's fixed split (--fold split), one per dialogue (default: none)
//   start,end the utterance is this span of the file, in seconds (both columns, on every row): one recording of a
//             call, its turns in rows, needs no cutting into files. The file is then the dialogue and its spans
//             are named <file name>_001, _002, ... unless the columns say otherwise
// Without start,end each file is one utterance, laid out one after another within its dialogue.
#pragma once
#include <string>
#include <vector>

#include "data/feature_cache.h"
#include "tensor/tensor.h"

namespace erc::data {

struct AudioItem {
  UtteranceInfo info;  // n_frames left 0: the extractor fills it
  std::string path;    // the audio file
  bool span = false;   // info.start..info.end is a span of the file (start,end columns), not the whole of it
};

// Errors name the CSV and the line: a missing `path` column, an unknown column, a wrong field count, a quote left
// open, a duplicate utt_id, a session that is not a whole number from 1, a split other than train, dev and test,
// an unreadable audio file, start without end, a time that is not a number, a span that is empty or ends past its
// file.
std::vector<AudioItem> read_audio_list(const std::string& csv_path);

// An item's waveform at `rate`: the whole file, or its span cut at samples round(start * rate) to round(end *
// rate) (as erc_predict cuts a recording at its turns). The last recording read is kept, so a call's consecutive
// turns decode it once.
class AudioItemReader {
 public:
  Tensor read(const AudioItem& item, int64_t rate = 16000);

 private:
  std::string path_;
  int64_t rate_ = 0;
  Tensor recording_;
};

}  // namespace erc::data
