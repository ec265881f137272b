#include "data/segments.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "io/csv.h"
#include "tensor/check.h"

namespace erc::data {

namespace {

// "file:line: " for messages.
std::string where(const std::string& path, int64_t line) { return path + ":" + std::to_string(line) + ": "; }

double parse_seconds(const std::string& text, const std::string& what, const std::string& at) {
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  ERC_CHECK(error == std::errc() && stop == end && !text.empty(), at, what, " '", text, "' is not a number");
  ERC_CHECK(std::isfinite(value) && value >= 0, at, what, " ", text, " must be a finite time >= 0 seconds");
  return value;
}

std::vector<std::string> split_whitespace(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> fields;
  for (std::string f; in >> f;) fields.push_back(f);
  return fields;
}

void read_rttm(std::istream& in, SegmentList& list) {
  std::string line;
  for (int64_t line_no = 1; std::getline(in, line); ++line_no) {
    // Fields split at any whitespace the stream knows (form feeds and vertical tabs too): a blank line has none.
    // Comments (;;), SPKR-INFO, LEXEME and the other types say nothing about turns.
    const std::vector<std::string> f = split_whitespace(line);
    if (f.empty() || f[0] != "SPEAKER") continue;
    const std::string at = where(list.path, line_no);
    ERC_CHECK(f.size() == 9 || f.size() == 10, at, f.size(), " fields; an RTTM SPEAKER line has 9 or 10 (SPEAKER ",
              "recording channel onset duration <NA> <NA> speaker <NA> [<NA>])");
    if (list.recording.empty()) list.recording = f[1];
    ERC_CHECK(f[1] == list.recording, at, "recording '", f[1], "', but the lines above name '", list.recording,
              "': give each recording its own segments file");
    Segment s;
    s.start = parse_seconds(f[3], "onset", at);
    s.end = s.start + parse_seconds(f[4], "duration", at);
    s.speaker = f[7];
    s.line = line_no;
    list.segments.push_back(s);
  }
}

void read_csv(std::istream& in, SegmentList& list) {
  static const std::set<std::string> known = {"start", "end", "speaker", "utt_id"};
  std::map<std::string, size_t> column;
  CsvReader csv(in, list.path);
  CsvRecord record;
  while (csv.next(record)) {
    const int64_t line_no = record.line;
    const std::string at = where(list.path, line_no);
    const std::vector<std::string>& f = record.fields;
    if (column.empty()) {
      for (size_t i = 0; i < f.size(); ++i) {
        ERC_CHECK(known.count(f[i]), at, "unknown column '", f[i], "' (known: start, end, speaker, utt_id)");
        ERC_CHECK(column.emplace(f[i], i).second, at, "column '", f[i], "' twice");
      }
      for (const char* required : {"start", "end", "speaker"})
        ERC_CHECK(column.count(required), at, "the header has no '", required, "' column (start,end,speaker)");
      continue;
    }
    ERC_CHECK(f.size() == column.size(), at, f.size(), " fields, the header has ", column.size());
    Segment s;
    s.start = parse_seconds(f[column.at("start")], "start", at);
    s.end = parse_seconds(f[column.at("end")], "end", at);
    s.speaker = f[column.at("speaker")];
    if (column.count("utt_id")) s.utt_id = f[column.at("utt_id")];
    s.line = line_no;
    list.segments.push_back(s);
  }
  ERC_CHECK(!column.empty(), list.path, ": empty (a CSV of turns starts with the header start,end,speaker)");
}

}  // namespace

SegmentList read_segments(const std::string& path) {
  const std::string extension = std::filesystem::path(path).extension().string();
  ERC_CHECK(extension == ".rttm" || extension == ".csv", path, ": segments are read from .rttm or .csv files (",
            "start,end,speaker), not '", extension, "'");
  std::ifstream in(path);
  ERC_CHECK(in.good(), path, ": cannot open the segments file");
  SegmentList list;
  list.path = path;
  if (extension == ".rttm")
    read_rttm(in, list);
  else
    read_csv(in, list);
  ERC_CHECK(!list.segments.empty(), path, ": no turns");
  std::set<std::string> ids;
  for (const Segment& s : list.segments) {
    const std::string at = where(path, s.line);
    ERC_CHECK(s.end > s.start, at, "the turn has no length (start ", s.start, " s, end ", s.end, " s)");
    ERC_CHECK(!s.speaker.empty(), at, "no speaker");
    ERC_CHECK(s.utt_id.empty() || ids.insert(s.utt_id).second, at, "utt_id '", s.utt_id, "' twice");
  }
  std::stable_sort(list.segments.begin(), list.segments.end(), [](const Segment& a, const Segment& b) {
    return a.start != b.start ? a.start < b.start : a.end < b.end;
  });
  return list;
}

void check_segments(const SegmentList& list, const std::string& recording_path, int64_t n_samples, int64_t sample_rate,
                    int64_t min_samples) {
  const double seconds = double(n_samples) / double(sample_rate);
  std::map<std::string, const Segment*> last_of_speaker;
  for (const Segment& s : list.segments) {
    const std::string at = where(list.path, s.line);
    // Checked in seconds first, so that a time of 1e300 never reaches llround: round(x) <= n exactly when
    // x < n + 0.5.
    ERC_CHECK(s.end * double(sample_rate) < double(n_samples) + 0.5, at, "the turn ends at ", s.end,
              " s, after the end of ", recording_path, " (", seconds, " s)");
    const int64_t first = std::llround(s.start * double(sample_rate)), end = std::llround(s.end * double(sample_rate));
    ERC_CHECK(end - first >= min_samples, at, "the turn (", s.start, " to ", s.end, " s) is ", end - first,
              " samples long, shorter than the ", min_samples, " the feature extractor needs for one frame");
    const Segment*& previous = last_of_speaker[s.speaker];
    ERC_CHECK(!previous || previous->end <= s.start, at, "speaker ", s.speaker, "'s turn from ", s.start,
              " s overlaps their turn of line ", previous ? previous->line : 0, " (", previous ? previous->start : 0,
              " to ", previous ? previous->end : 0, " s)");
    if (!previous || s.end > previous->end) previous = &s;
  }
}

}  // namespace erc::data
