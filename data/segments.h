// The turns of one long recording, for erc_predict: who speaks when, as a diarizer or an annotator gives them.
// Two formats, told apart by the file's extension:
//   .rttm  NIST RTTM, what diarizers such as pyannote write: `SPEAKER <recording> <channel> <onset> <duration>
//          <NA> <NA> <speaker> <NA> [<NA>]`, whitespace-separated, times in seconds; lines of other types and
//          `;;` comments are skipped. Every SPEAKER line must name the same recording.
//   .csv   a header naming the columns start, end and speaker (seconds, seconds, any name; any order; an optional
//          utt_id column names the turns), then one turn per line; RFC 4180 quoting (io/csv.h).
// Turns are returned in time order (by start, then end). Cutting them out of the recording: first sample
// round(start * rate), end sample round(end * rate).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace erc::data {

struct Segment {
  double start = 0, end = 0;  // seconds within the recording
  std::string speaker;
  std::string utt_id;  // from a CSV's utt_id column; empty otherwise (erc_predict names it then)
  int64_t line = 0;    // in the segments file, for messages
};

struct SegmentList {
  std::string path;       // the file read
  std::string recording;  // the RTTM's recording id; empty for a CSV
  std::vector<Segment> segments;
};

// Errors name the file and the line: a line that does not parse (field count, a number that is not one, a
// negative or non-finite time), a zero or negative length, an empty speaker, an RTTM naming two recordings, a CSV
// without one of its columns or with an unknown or repeated one, a repeated utt_id, and a file with no turns.
SegmentList read_segments(const std::string& path);

// Checks the turns against their recording (`n_samples` at `sample_rate`): every turn inside it, at least
// `min_samples` long once cut at whole samples, and no two turns of one speaker overlapping (one speaker's
// overlapping turns are a diarizer's or an annotator's mistake; different speakers may talk at once). Errors name
// the file, the line and the recording.
void check_segments(const SegmentList& list, const std::string& recording_path, int64_t n_samples, int64_t sample_rate,
                    int64_t min_samples);

}  // namespace erc::data
