#include "data/audio_list.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "data/audio.h"
#include "io/csv.h"

namespace erc::data {

std::vector<AudioItem> read_audio_list(const std::string& csv_path) {
  std::ifstream in(csv_path);
  ERC_CHECK(in.good(), csv_path, ": cannot open the audio list");
  namespace fs = std::filesystem;
  const fs::path folder = fs::path(csv_path).parent_path();
  static const std::set<std::string> known = {"path",    "utt_id", "dialogue", "speaker", "label",
                                              "session", "split",  "start",    "end"};
  CsvReader csv(in, csv_path);
  CsvRecord record;
  std::map<std::string, size_t> column;
  std::vector<AudioItem> items;
  std::set<std::string> ids;
  std::map<std::string, double> dialogue_end;  // where the next utterance of a dialogue starts
  std::map<std::string, double> file_seconds;
  std::map<std::string, int> spans_of;  // rows of each file so far
  while (csv.next(record)) {
    const std::vector<std::string>& fields = record.fields;
    const int64_t line_no = record.line;
    if (column.empty()) {
      for (size_t i = 0; i < fields.size(); ++i) {
        ERC_CHECK(known.count(fields[i]), csv_path, ":", line_no, ": unknown column '", fields[i],
                  "' (known: path, utt_id, dialogue, speaker, label, session, split, start, end)");
        ERC_CHECK(column.emplace(fields[i], i).second, csv_path, ":", line_no, ": column '", fields[i], "' twice");
      }
      ERC_CHECK(column.count("path"), csv_path, ":", line_no, ": the header has no 'path' column");
      ERC_CHECK(column.count("start") == column.count("end"), csv_path, ":", line_no,
                ": a span needs both columns, start and end (seconds within the file)");
      continue;
    }
    ERC_CHECK(fields.size() == column.size(), csv_path, ":", line_no, ": ", fields.size(), " fields, the header has ",
              column.size());
    auto field = [&](const char* name, const std::string& fallback) {
      const auto it = column.find(name);
      return it == column.end() || fields[it->second].empty() ? fallback : fields[it->second];
    };
    AudioItem item;
    const fs::path path(field("path", ""));
    ERC_CHECK(!path.empty(), csv_path, ":", line_no, ": empty path");
    item.path = (path.is_absolute() ? path : folder / path).string();
    UtteranceInfo& u = item.info;
    // A file is an utterance by default; with spans it is a recording of a conversation, its spans numbered.
    const bool spans = column.count("start") > 0;
    char number[32];
    std::snprintf(number, sizeof number, "_%03d", ++spans_of[item.path]);
    u.utt_id = field("utt_id", path.stem().string() + (spans ? number : ""));
    ERC_CHECK(ids.insert(u.utt_id).second, csv_path, ":", line_no, ": utt_id '", u.utt_id, "' is listed twice");
    u.dialogue = field("dialogue", spans ? path.stem().string() : u.utt_id);
    u.speaker = field("speaker", "A");
    u.label = field("label", "xxx");
    const std::string session = field("session", "1");
    const auto [end, ec] = std::from_chars(session.data(), session.data() + session.size(), u.session);
    ERC_CHECK(ec == std::errc() && end == session.data() + session.size() && u.session >= 1, csv_path, ":", line_no,
              ": session must be a whole number from 1 (a fold tests on one session), got '", session, "'");
    u.split = field("split", "");
    ERC_CHECK(u.split.empty() || u.split == "train" || u.split == "dev" || u.split == "test", csv_path, ":", line_no,
              ": split must be train, dev or test, got '", u.split, "'");
    auto [known_length, fresh] = file_seconds.emplace(item.path, 0.0);  // a call's turns read its header once
    if (fresh) try {
        known_length->second = audio_info(item.path).seconds;
      } catch (const Error& e) {
        file_seconds.erase(known_length);
        throw Error(csv_path + ":" + std::to_string(line_no) + ": " + e.what());
      }
    const double seconds = known_length->second;
    if (spans) {
      item.span = true;
      auto time = [&](const char* name) {
        const std::string text = field(name, "");
        double t = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), t);
        ERC_CHECK(!text.empty() && ec == std::errc() && end == text.data() + text.size() && std::isfinite(t) && t >= 0,
                  csv_path, ":", line_no, ": ", name, " must be a time in seconds, 0 or more, got '", text, "'");
        return t;
      };
      u.start = time("start");
      u.end = time("end");
      ERC_CHECK(u.end > u.start, csv_path, ":", line_no, ": the span ", u.start, " s to ", u.end, " s is empty");
      ERC_CHECK(u.end <= seconds, csv_path, ":", line_no, ": the span ends at ", u.end, " s, past the end of ",
                item.path, " (", seconds, " s)");
    } else {
      u.start = dialogue_end[u.dialogue];
      u.end = u.start + seconds;
      dialogue_end[u.dialogue] = u.end;
    }
    items.push_back(std::move(item));
  }
  ERC_CHECK(!items.empty(), csv_path, ": no utterances listed");
  return items;
}

Tensor AudioItemReader::read(const AudioItem& item, int64_t rate) {
  if (!item.span) return load_audio(item.path, rate);
  if (item.path != path_ || rate != rate_) {
    recording_ = load_audio(item.path, rate);
    path_ = item.path;
    rate_ = rate;
  }
  const int64_t first = std::llround(item.info.start * double(rate));
  const int64_t end = std::min<int64_t>(std::llround(item.info.end * double(rate)), recording_.size(0));
  ERC_CHECK(end > first, item.path, ": the span ", item.info.start, " s to ", item.info.end, " s of utterance ",
            item.info.utt_id, " holds no sample at ", rate, " Hz");
  return recording_.narrow(0, first, end - first).contiguous();
}

}  // namespace erc::data
