#include "data/iemocap.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <system_error>

#include "io/text.h"
#include "tensor/check.h"

namespace erc::data {

namespace fs = std::filesystem;

namespace {

std::string session_folder(const std::string& root, int64_t session) {
  return (fs::path(root) / ("Session" + std::to_string(session))).string();
}

bool parse_double(std::string_view s, double& out) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

// "[6.2901 - 8.2357]" -> 6.2901, 8.2357
bool parse_range(const std::string& field, double& start, double& end) {
  if (field.size() < 2 || field.front() != '[' || field.back() != ']') return false;
  const std::string_view inner(field.data() + 1, field.size() - 2);
  const size_t dash = inner.find(" - ");
  if (dash == std::string_view::npos) return false;
  return parse_double(inner.substr(0, dash), start) && parse_double(inner.substr(dash + 3), end);
}

// One EmoEvaluation file. Summary lines are the ones that open with '['; the header ('%'), annotator lines
// ("C-E1:", "A-E1:") and blank lines never do.
std::vector<UtteranceInfo> read_evaluation(const fs::path& file, int64_t session) {
  std::ifstream in(file);
  ERC_CHECK(in, "iemocap: cannot open ", file.string());
  const std::string stem = file.stem().string();
  std::vector<UtteranceInfo> utterances;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.front() != '[') continue;
    const std::string where = file.string() + ":" + std::to_string(number);
    const std::vector<std::string> fields = split(line, '\t');
    ERC_CHECK(fields.size() == 4, "iemocap: ", where,
              ": expected a summary line '[start - end]<TAB>id<TAB>label<TAB>[V, A, D]', got '", line, "'");
    UtteranceInfo u;
    ERC_CHECK(parse_range(fields[0], u.start, u.end) && u.start >= 0 && u.end >= u.start, "iemocap: ", where,
              ": expected a time range '[start - end]' with 0 <= start <= end, got '", fields[0], "'");
    u.utt_id = fields[1];
    u.label = fields[2];
    ERC_CHECK(!u.label.empty() && u.label.find(' ') == std::string::npos, "iemocap: ", where,
              ": expected a label such as 'neu', got '", u.label, "'");
    ERC_CHECK(fields[3].size() >= 2 && fields[3].front() == '[' && fields[3].back() == ']', "iemocap: ", where,
              ": expected '[V, A, D]' as the fourth field, got '", fields[3], "'");

    // The speaker is the last field, so dialogue names with underscores (Ses05M_script01_1b) stay whole.
    const size_t last = u.utt_id.rfind('_');
    ERC_CHECK(last != std::string::npos && last + 1 < u.utt_id.size() &&
                  (u.utt_id[last + 1] == 'F' || u.utt_id[last + 1] == 'M'),
              "iemocap: ", where, ": expected an id ending in _F<nnn> or _M<nnn>, got '", u.utt_id, "'");
    u.speaker = u.utt_id.substr(last + 1, 1);
    u.dialogue = u.utt_id.substr(0, last);
    int64_t id_session = 0;
    const bool has_session = u.utt_id.size() > 5 && u.utt_id.compare(0, 3, "Ses") == 0 &&
                             std::from_chars(u.utt_id.data() + 3, u.utt_id.data() + 5, id_session).ptr ==
                                 u.utt_id.data() + 5;
    ERC_CHECK(has_session, "iemocap: ", where, ": expected an id starting with SesNN, got '", u.utt_id, "'");
    ERC_CHECK(id_session == session, "iemocap: ", where, ": id '", u.utt_id, "' is of session ", id_session,
              " but is listed under Session", session);
    ERC_CHECK(u.dialogue == stem, "iemocap: ", where, ": id '", u.utt_id, "' is of dialogue ", u.dialogue,
              " but is listed in ", stem, ".txt");
    u.session = session;
    utterances.push_back(std::move(u));
  }
  return utterances;
}

}  // namespace

std::string wav_path(const std::string& root, const UtteranceInfo& utterance) {
  return (fs::path(session_folder(root, utterance.session)) / "sentences" / "wav" / utterance.dialogue /
          (utterance.utt_id + ".wav"))
      .string();
}

IemocapIndex index_iemocap(const std::string& root, const std::vector<int64_t>& sessions) {
  std::error_code ec;
  bool any_session = false;
  for (int64_t s = 1; s <= 5; ++s) any_session = any_session || fs::is_directory(session_folder(root, s), ec);
  ERC_CHECK(any_session, "iemocap: '", root, "' is not an IEMOCAP_full_release folder: it has no Session1..Session5");
  ERC_CHECK(!sessions.empty(), "iemocap: expected at least one session to index, got none");

  IemocapIndex index;
  std::set<int64_t> seen_sessions;
  std::set<std::string> seen_ids;
  for (const int64_t session : sessions) {
    ERC_CHECK(session >= 1 && session <= 5, "iemocap: expected sessions in 1..5, got ", session);
    ERC_CHECK(seen_sessions.insert(session).second, "iemocap: session ", session, " requested twice");
    const fs::path folder = fs::path(session_folder(root, session)) / "dialog" / "EmoEvaluation";
    ERC_CHECK(fs::is_directory(folder, ec), "iemocap: missing folder ", folder.string());

    // Hidden files are skipped too: copies of the corpus made on macOS carry "._<dialog>.txt" resource forks.
    std::vector<fs::path> files;
    for (const fs::directory_entry& entry : fs::directory_iterator(folder)) {
      const std::string name = entry.path().filename().string();
      if (entry.is_regular_file() && entry.path().extension() == ".txt" && name.front() != '.')
        files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());

    for (const fs::path& file : files) {
      std::vector<UtteranceInfo> utterances = read_evaluation(file, session);
      std::stable_sort(utterances.begin(), utterances.end(),
                       [](const UtteranceInfo& a, const UtteranceInfo& b) { return a.start < b.start; });
      bool kept_any = false;
      for (UtteranceInfo& u : utterances) {
        ERC_CHECK(seen_ids.insert(u.utt_id).second, "iemocap: ", file.string(), ": utterance '", u.utt_id,
                  "' is listed twice");
        const std::string wav = wav_path(root, u);
        if (!fs::is_regular_file(wav, ec)) {
          index.missing_wavs.push_back(wav);
          continue;
        }
        index.utterances.push_back(std::move(u));
        kept_any = true;
      }
      index.dialogues += kept_any;
    }
  }
  return index;
}

}  // namespace erc::data
