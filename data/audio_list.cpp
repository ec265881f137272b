#include "data/audio_list.h"

#include <charconv>
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
  static const std::set<std::string> known = {"path", "utt_id", "dialogue", "speaker", "label", "session"};
  CsvReader csv(in, csv_path);
  CsvRecord record;
  std::map<std::string, size_t> column;
  std::vector<AudioItem> items;
  std::set<std::string> ids;
  std::map<std::string, double> dialogue_end;  // where the next utterance of a dialogue starts
  while (csv.next(record)) {
    const std::vector<std::string>& fields = record.fields;
    const int64_t line_no = record.line;
    if (column.empty()) {
      for (size_t i = 0; i < fields.size(); ++i) {
        ERC_CHECK(known.count(fields[i]), csv_path, ":", line_no, ": unknown column '", fields[i],
                  "' (known: path, utt_id, dialogue, speaker, label, session)");
        ERC_CHECK(column.emplace(fields[i], i).second, csv_path, ":", line_no, ": column '", fields[i], "' twice");
      }
      ERC_CHECK(column.count("path"), csv_path, ":", line_no, ": the header has no 'path' column");
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
    u.utt_id = field("utt_id", path.stem().string());
    ERC_CHECK(ids.insert(u.utt_id).second, csv_path, ":", line_no, ": utt_id '", u.utt_id, "' is listed twice");
    u.dialogue = field("dialogue", u.utt_id);
    u.speaker = field("speaker", "A");
    u.label = field("label", "xxx");
    const std::string session = field("session", "1");
    const auto [end, ec] = std::from_chars(session.data(), session.data() + session.size(), u.session);
    ERC_CHECK(ec == std::errc() && end == session.data() + session.size() && u.session >= 1, csv_path, ":", line_no,
              ": session must be a whole number from 1 (a fold tests on one session), got '", session, "'");
    double seconds = 0;
    try {
      seconds = audio_info(item.path).seconds;
    } catch (const Error& e) {
      throw Error(csv_path + ":" + std::to_string(line_no) + ": " + e.what());
    }
    u.start = dialogue_end[u.dialogue];
    u.end = u.start + seconds;
    dialogue_end[u.dialogue] = u.end;
    items.push_back(std::move(item));
  }
  ERC_CHECK(!items.empty(), csv_path, ": no utterances listed");
  return items;
}

}  // namespace erc::data
