#include "predict/report.h"

#include <charconv>
#include <cstdio>
#include <map>

#include "eval/charts.h"
#include "io/atomic_file.h"
#include "io/csv.h"

namespace erc::predict {

namespace {

std::string number(double v) {
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

// `width` 3 aligns a table's columns; 0 is for prose.
std::string percent(double share, int width = 0) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%*.0f%%", width, 100 * share);
  return buf;
}

nlohmann::json shares_json(const std::vector<std::string>& classes, const std::vector<double>& shares) {
  nlohmann::json j = nlohmann::json::object();
  for (size_t c = 0; c < classes.size(); ++c) j[classes[c]] = shares[c];
  return j;
}

}  // namespace

ConversationSummary summarise(const std::string& name, const std::vector<UtterancePrediction>& predictions,
                              const std::vector<std::string>& classes) {
  ERC_CHECK(!predictions.empty(), name, ": no utterances to summarise");
  const size_t n_classes = classes.size();
  ERC_CHECK(n_classes >= 2, name, ": ", n_classes, " classes to summarise over, not two or more");
  ConversationSummary s;
  s.name = name;
  s.classes = classes;
  s.n_utterances = int64_t(predictions.size());
  s.counts.assign(n_classes, 0);
  s.shares.assign(n_classes, 0.0);
  double first = predictions[0].utterance.start, last = predictions[0].utterance.end;
  std::map<std::string, size_t> lane;
  std::vector<std::vector<int64_t>> speaker_counts;
  for (const UtterancePrediction& p : predictions) {
    ERC_CHECK(p.emotion >= 0 && p.emotion < int64_t(n_classes), name, ": utterance ", p.utterance.utt_id,
              " predicted as class ", p.emotion, " of ", n_classes);
    first = std::min(first, p.utterance.start);
    last = std::max(last, p.utterance.end);
    ++s.counts[size_t(p.emotion)];
    const auto [it, added] = lane.emplace(p.utterance.speaker, s.speakers.size());
    if (added) {
      s.speakers.push_back({p.utterance.speaker, 0, std::vector<double>(n_classes, 0.0)});
      speaker_counts.emplace_back(n_classes, 0);
    }
    ++s.speakers[it->second].n_utterances;
    ++speaker_counts[it->second][size_t(p.emotion)];
  }
  s.seconds = last - first;
  for (size_t c = 0; c < n_classes; ++c) s.shares[c] = double(s.counts[c]) / double(s.n_utterances);
  for (size_t k = 0; k < s.speakers.size(); ++k)
    for (size_t c = 0; c < n_classes; ++c)
      s.speakers[k].shares[c] = double(speaker_counts[k][c]) / double(s.speakers[k].n_utterances);
  for (size_t c = 1; c < n_classes; ++c)
    if (s.counts[c] > s.counts[size_t(s.dominant)]) s.dominant = int64_t(c);
  s.second = s.dominant == 0 ? 1 : 0;
  for (size_t c = 0; c < n_classes; ++c)
    if (int64_t(c) != s.dominant && s.counts[c] > s.counts[size_t(s.second)]) s.second = int64_t(c);
  s.one_over_half = s.shares[size_t(s.dominant)] > 0.5;
  s.two_over_half = s.shares[size_t(s.dominant)] + s.shares[size_t(s.second)] > 0.5;
  return s;
}

std::string format_summary(const ConversationSummary& s) {
  std::string text;
  char line[256];
  std::snprintf(line, sizeof line, "%s: %lld utterances over %.1f s\n", s.name.c_str(),
                static_cast<long long>(s.n_utterances), s.seconds);
  text += line;
  auto row = [&](const std::string& who, int64_t n, const std::vector<double>& shares) {
    std::snprintf(line, sizeof line, "  %-14s %4lld utt ", who.c_str(), static_cast<long long>(n));
    text += line;
    for (size_t c = 0; c < s.classes.size(); ++c) text += "  " + s.classes[c] + " " + percent(shares[c], 3);
    text += "\n";
  };
  row("all", s.n_utterances, s.shares);
  for (const SpeakerShares& k : s.speakers) row("speaker " + k.speaker, k.n_utterances, k.shares);
  const std::string& top = s.classes[size_t(s.dominant)];
  const std::string& next = s.classes[size_t(s.second)];
  if (s.one_over_half)
    std::snprintf(line, sizeof line, "  atmosphere: %s (%s of the utterances)\n", top.c_str(),
                  percent(s.shares[size_t(s.dominant)]).c_str());
  else if (s.two_over_half)
    std::snprintf(line, sizeof line, "  atmosphere: %s and %s (%s together)\n", top.c_str(), next.c_str(),
                  percent(s.shares[size_t(s.dominant)] + s.shares[size_t(s.second)]).c_str());
  else
    std::snprintf(line, sizeof line, "  atmosphere: mixed (the largest, %s, holds %s)\n", top.c_str(),
                  percent(s.shares[size_t(s.dominant)]).c_str());
  return text + line;
}

nlohmann::json summary_json(const ConversationSummary& s) {
  nlohmann::json speakers = nlohmann::json::array();
  for (const SpeakerShares& k : s.speakers)
    speakers.push_back(
        {{"speaker", k.speaker}, {"n_utterances", k.n_utterances}, {"shares", shares_json(s.classes, k.shares)}});
  return {{"n_utterances", s.n_utterances},
          {"seconds", s.seconds},
          {"shares", shares_json(s.classes, s.shares)},
          {"speakers", speakers},
          {"dominant", s.classes[size_t(s.dominant)]},
          {"second", s.classes[size_t(s.second)]},
          {"one_over_half", s.one_over_half},
          {"two_over_half", s.two_over_half}};
}

void write_predictions_csv(const std::string& path, const std::vector<ConversationResult>& results,
                           const std::vector<std::string>& classes) {
  std::string text = "conversation,utterance,start,end,speaker,emotion";
  for (const std::string& e : classes) text += "," + csv_field("p_" + e);
  text += "\n";
  for (const ConversationResult& r : results) {
    for (const UtterancePrediction& p : r.predictions) {
      const data::UtteranceInfo& u = p.utterance;
      text += csv_field(r.name) + "," + csv_field(u.utt_id) + "," + number(u.start) + "," + number(u.end) + "," +
              csv_field(u.speaker) + "," + csv_field(classes.at(size_t(p.emotion)));
      for (double q : p.probabilities) text += "," + number(q);
      text += "\n";
    }
  }
  write_file_atomically(path, text);
}

void write_predictions_json(const std::string& path, const std::vector<ConversationResult>& results,
                            const std::vector<std::string>& classes, const nlohmann::json& header) {
  nlohmann::json j = header;
  j["emotions"] = classes;
  j["conversations"] = nlohmann::json::array();
  for (const ConversationResult& r : results) {
    nlohmann::json utterances = nlohmann::json::array();
    for (const UtterancePrediction& p : r.predictions)
      utterances.push_back({{"utterance", p.utterance.utt_id},
                            {"start", p.utterance.start},
                            {"end", p.utterance.end},
                            {"speaker", p.utterance.speaker},
                            {"emotion", classes.at(size_t(p.emotion))},
                            {"probabilities", p.probabilities}});
    j["conversations"].push_back(
        {{"name", r.name}, {"atmosphere", summary_json(r.summary)}, {"utterances", utterances}});
  }
  write_file_atomically(path, j.dump(2) + "\n");
}

void write_timeline(const std::string& path, const ConversationResult& result) {
  eval::TimelineChart chart;
  chart.title = result.name + ": predicted emotion of each turn";
  chart.classes = result.summary.classes;
  for (const UtterancePrediction& p : result.predictions) {
    chart.duration = std::max(chart.duration, p.utterance.end);
    chart.segments.push_back({p.utterance.speaker, p.utterance.utt_id, p.utterance.start, p.utterance.end, p.emotion,
                              p.probabilities[size_t(p.emotion)]});
  }
  eval::write_timeline_svg(path, chart);
}

}  // namespace erc::predict
