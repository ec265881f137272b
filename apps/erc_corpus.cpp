// erc_corpus: writes the spoken demo corpus (corpora/demo_corpus.h) in IEMOCAP_full_release's layout, so the real
// pipeline (IEMOCAP indexer, WavLM feature extraction, training) can be run without the corpus.

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdio>
#include <map>
#include <set>

#include "app_common.h"
#include "corpora/demo_corpus.h"
#include "data/dataset.h"
#include "data/iemocap.h"
#include "io/progress.h"

using namespace erc;

namespace {

template <typename T>
bool parse_number(std::string_view s, T& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

// "MIN-MAX", or one number for both.
template <typename T>
void parse_range(const std::string& text, const char* option, T& low, T& high) {
  const size_t dash = text.find('-');
  const bool ok = dash == std::string::npos ? parse_number(text, low) && parse_number(text, high)
                                            : parse_number(std::string_view(text).substr(0, dash), low) &&
                                                  parse_number(std::string_view(text).substr(dash + 1), high);
  ERC_CHECK(ok, option, " expects MIN-MAX (e.g. ", option[2] == 'u' ? "10-16" : "0.5-0.65", ") or one number, got '",
            text, "'");
}

void print_summary(const std::string& root, int64_t sessions) {
  std::vector<int64_t> ids;
  for (int64_t s = 1; s <= sessions; ++s) ids.push_back(s);
  const data::IemocapIndex index = data::index_iemocap(root, ids);
  double seconds = 0;
  for (const data::UtteranceInfo& u : index.utterances) seconds += u.end - u.start;
  std::printf("%s: %lld dialogues, %zu utterances, %.1f min of audio (16 kHz mono)\n", root.c_str(),
              static_cast<long long>(index.dialogues), index.utterances.size(), seconds / 60);
  apps::print_label_counts(index.utterances, data::ClassSet::of_corpus(index.utterances));
  if (!index.missing_wavs.empty())
    std::printf("warning: %zu listed utterances have no WAV, e.g. %s\n", index.missing_wavs.size(),
                index.missing_wavs.front().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "erc_corpus: write a small spoken demo corpus in IEMOCAP_full_release's own layout, synthesised with\n"
      "espeak-ng, for running the real pipeline (IEMOCAP indexer -> WavLM features -> training) without IEMOCAP.\n"
      "Sessions of two-speaker dialogues (a female and a male espeak-ng voice per session); each utterance says a\n"
      "neutral sentence with the prosody of its emotion (ang exc fru hap neu sad; xxx where annotators disagreed,\n"
      "a few sur and oth), jittered so that classes overlap. Every dialogue has a dominant emotion carried by a\n"
      "majority of its labelled utterances, so conversation context helps. docs/DEMO_CORPUS.md has the details.\n"
      "Writes OUT/Session{s}/dialog/EmoEvaluation/<dialogue>.txt, OUT/Session{s}/dialog/transcriptions/\n"
      "<dialogue>.txt, OUT/Session{s}/sentences/wav/<dialogue>/<utterance>.wav (16 kHz mono 16-bit), each\n"
      "dialogue as one recording, OUT/Session{s}/dialog/wav/<dialogue>.wav, with its turns in RTTM,\n"
      "OUT/Session{s}/dialog/rttm/<dialogue>.rttm (what erc_predict reads), then OUT/erc_demo_corpus.json. The same seed and options give byte-identical files. OUT must be new or empty;\n"
      "running again with the same options on a complete corpus does nothing; anything else in OUT is refused."};
  corpora::DemoCorpusOptions options;
  std::string out, utterances = "10-16", dominant = "0.5-0.65";
  app.add_option("--out", out, "folder to write the corpus into (new or empty)")->required();
  app.add_option("--seed", options.seed, "seed of every random draw")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--sessions", options.sessions, "sessions to write, 1..5")->capture_default_str();
  app.add_option("--dialogues-per-session", options.dialogues_per_session, "dialogues in each session")
      ->capture_default_str();
  app.add_option("--utterances", utterances, "utterances per dialogue, MIN-MAX, drawn uniformly")
      ->capture_default_str();
  app.add_option("--xxx-share", options.xxx_share, "share of utterances labelled xxx (annotators disagreed)")
      ->capture_default_str();
  app.add_option("--rare-share", options.rare_share, "share of utterances labelled sur or oth (half each)")
      ->capture_default_str();
  app.add_option("--dominant-share", dominant,
                 "share of a dialogue's labelled utterances carrying its dominant emotion, MIN-MAX (min >= 0.5)")
      ->capture_default_str();
  app.add_option("--jitter", options.jitter,
                 "scale of the per-utterance prosody jitter (0: every utterance of an emotion sounds alike; "
                 "larger: classes overlap more)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  ProgressLine line;
  try {
    parse_range(utterances, "--utterances", options.min_utterances, options.max_utterances);
    parse_range(dominant, "--dominant-share", options.dominant_share_min, options.dominant_share_max);
    const Stopwatch time;
    const corpora::DemoCorpusOutcome outcome =
        corpora::write_demo_corpus(out, options, [&](int64_t session, int64_t written, int64_t total) {
          line.show(written, total,
                    "erc_corpus: Session" + std::to_string(session) + ", " + std::to_string(written) + "/" +
                        std::to_string(total) + " utterances (" + std::to_string(100 * written / total) + " %)");
        });
    const double elapsed = time.seconds();
    if (outcome == corpora::DemoCorpusOutcome::already_complete)
      std::printf("erc_corpus: %s already holds the corpus of these options; nothing written\n", out.c_str());
    else
      std::printf("erc_corpus: wrote the corpus in %.1f s\n", elapsed);
    print_summary(out, options.sessions);
  } catch (const std::exception& e) {  // erc::Error, and the filesystem's errors
    line.finish_line();
    std::fprintf(stderr, "erc_corpus: %s\n", e.what());
    return 1;
  }
  return 0;
}
