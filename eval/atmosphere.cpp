// The atmosphere analysis: emotion shares per conversation, and per emotion the accuracy change between models.
#include "eval/atmosphere.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <sstream>

#include "io/atomic_file.h"
#include "io/csv.h"
#include "tensor/check.h"

namespace erc::eval {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

using Index = std::map<std::string, const Prediction*>;

Index index_by_utterance(const std::vector<Prediction>& predictions, const char* model) {
  Index index;
  for (const Prediction& p : predictions)
    ERC_CHECK(index.emplace(p.utt_id, &p).second, "atmosphere: utterance ", p.utt_id, " appears twice in the ", model,
              " model's predictions");
  return index;
}

void check_covered(const std::vector<Prediction>& predictions, const Index& other, const char* model,
                   const char* other_model) {
  for (const Prediction& p : predictions)
    ERC_CHECK(other.count(p.utt_id), "atmosphere: utterance ", p.utt_id, " is in the ", model,
              " model's predictions but not in the ", other_model, " model's");
}

// What one conversation's labelled utterances add up to, per emotion.
struct Tally {
  int64_t session = 0;
  std::vector<int64_t> counts, correct_context, correct_utterance;  // per class
  explicit Tally(size_t n_classes) : counts(n_classes), correct_context(n_classes), correct_utterance(n_classes) {}
};

double ratio(double num, int64_t den) { return den ? num / double(den) : kNaN; }

// "%.6f", or empty for an undefined value (a CSV reader sees a missing number, not the text "nan").
std::string csv_number(double v) {
  if (std::isnan(v)) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", v);
  return buf;
}

std::string points(double fraction) {
  if (std::isnan(fraction)) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.2f", 100 * fraction);
  return buf;
}

}  // namespace

AtmosphereReport analyse_atmosphere(const std::vector<Prediction>& context_model,
                                    const std::vector<Prediction>& utterance_model,
                                    const std::vector<std::string>& classes) {
  const size_t n_classes = classes.size();
  const Index context_index = index_by_utterance(context_model, "context");
  const Index utterance_index = index_by_utterance(utterance_model, "utterance");
  check_covered(context_model, utterance_index, "context", "utterance");
  check_covered(utterance_model, context_index, "utterance", "context");

  std::map<std::string, Tally> tallies;  // a std::map, so conversations come out sorted by name
  for (const Prediction& a : context_model) {
    const Prediction& b = *utterance_index.at(a.utt_id);
    ERC_CHECK(a.dialogue == b.dialogue && a.label_index == b.label_index, "atmosphere: utterance ", a.utt_id,
              " is in dialogue ", a.dialogue, " labelled '", a.label, "' in the context model's predictions but in ",
              b.dialogue, " labelled '", b.label, "' in the utterance model's");
    if (a.label_index < 0) continue;
    ERC_CHECK(a.label_index < int64_t(n_classes), "atmosphere: utterance ", a.utt_id, ": label_index ", a.label_index,
              " outside the ", n_classes, " classes");
    Tally& t = tallies.try_emplace(a.dialogue, n_classes).first->second;
    t.session = a.session;
    const size_t c = size_t(a.label_index);
    ++t.counts[c];
    t.correct_context[c] += a.prediction == a.label_index;
    t.correct_utterance[c] += b.prediction == b.label_index;
  }

  AtmosphereReport report;
  report.classes = classes;
  AtmosphereSummary& s = report.summary;
  int64_t correct_context = 0, correct_utterance = 0;
  double sum_dominant = 0, sum_other = 0;
  for (const auto& [dialogue, t] : tallies) {
    ConversationAtmosphere conv;
    conv.dialogue = dialogue;
    conv.session = t.session;
    conv.counts = t.counts;
    conv.shares.resize(n_classes);
    for (size_t c = 0; c < n_classes; ++c) {
      conv.n_labelled += t.counts[c];
      if (t.counts[c] > t.counts[size_t(conv.dominant)]) conv.dominant = int64_t(c);
    }
    for (size_t c = 0; c < n_classes; ++c) conv.shares[c] = double(t.counts[c]) / double(conv.n_labelled);
    std::vector<int64_t> sorted = t.counts;
    std::sort(sorted.begin(), sorted.end(), std::greater<>());
    sorted.push_back(0);  // a second share of 0 for a run of one class
    conv.top1_share = double(sorted[0]) / double(conv.n_labelled);
    conv.top2_share = double(sorted[0] + sorted[1]) / double(conv.n_labelled);
    // Decided on counts, so that exactly half never becomes "more than half" by rounding.
    conv.one_over_half = 2 * sorted[0] > conv.n_labelled;
    conv.two_over_half = 2 * (sorted[0] + sorted[1]) > conv.n_labelled;

    for (size_t c = 0; c < n_classes; ++c) {
      if (t.counts[c] == 0) continue;
      EmotionChange e;
      e.emotion = int64_t(c);
      e.count = t.counts[c];
      e.accuracy_context = double(t.correct_context[c]) / double(e.count);
      e.accuracy_utterance = double(t.correct_utterance[c]) / double(e.count);
      e.change = e.accuracy_context - e.accuracy_utterance;
      e.relative_change = e.accuracy_utterance > 0 ? e.change / e.accuracy_utterance : kNaN;
      e.dominant = e.emotion == conv.dominant;
      (e.dominant ? sum_dominant : sum_other) += e.change;
      ++(e.dominant ? s.n_dominant_pairs : s.n_other_pairs);
      correct_context += t.correct_context[c];
      correct_utterance += t.correct_utterance[c];
      conv.changes.push_back(e);
    }
    s.n_labelled += conv.n_labelled;
    s.n_one_over_half += conv.one_over_half;
    s.n_two_over_half += conv.two_over_half;
    report.conversations.push_back(std::move(conv));
  }
  s.n_conversations = int64_t(report.conversations.size());
  s.accuracy_context = ratio(double(correct_context), s.n_labelled);
  s.accuracy_utterance = ratio(double(correct_utterance), s.n_labelled);
  s.mean_change_dominant = ratio(sum_dominant, s.n_dominant_pairs);
  s.mean_change_other = ratio(sum_other, s.n_other_pairs);
  return report;
}

void write_distribution_csv(const std::string& path, const AtmosphereReport& report) {
  std::ostringstream out;
  out << "dialogue,session,n_labelled";
  for (const std::string& e : report.classes) out << ',' << csv_field("n_" + e);
  for (const std::string& e : report.classes) out << ',' << csv_field("share_" + e);
  out << ",dominant,top1_share,top2_share,one_over_half,two_over_half\n";
  for (const ConversationAtmosphere& c : report.conversations) {
    out << csv_field(c.dialogue) << ',' << c.session << ',' << c.n_labelled;
    for (int64_t n : c.counts) out << ',' << n;
    for (double share : c.shares) out << ',' << csv_number(share);
    out << ',' << csv_field(report.classes[size_t(c.dominant)]) << ',' << csv_number(c.top1_share) << ','
        << csv_number(c.top2_share) << ',' << int(c.one_over_half) << ',' << int(c.two_over_half) << "\n";
  }
  write_file_atomically(path, out.str());
}

void write_change_csv(const std::string& path, const AtmosphereReport& report) {
  std::ostringstream out;
  out << "dialogue,session,emotion,count,dominant,accuracy_context,accuracy_utterance,change,relative_change\n";
  for (const ConversationAtmosphere& c : report.conversations)
    for (const EmotionChange& e : c.changes)
      out << csv_field(c.dialogue) << ',' << c.session << ',' << csv_field(report.classes[size_t(e.emotion)]) << ','
          << e.count << ',' << int(e.dominant) << ',' << csv_number(e.accuracy_context) << ','
          << csv_number(e.accuracy_utterance) << ',' << csv_number(e.change) << ',' << csv_number(e.relative_change)
          << "\n";
  write_file_atomically(path, out.str());
}

std::string format_change_table(const AtmosphereReport& report) {
  const std::string first_column = "conversation";
  size_t name_width = first_column.size();
  for (const ConversationAtmosphere& c : report.conversations) name_width = std::max(name_width, c.dialogue.size());
  auto padded = [&](const std::string& name) { return name + std::string(name_width - name.size(), ' '); };
  std::ostringstream out;
  out << "accuracy change per conversation and emotion, context model - utterance model, in points\n"
         "(* the conversation's dominant emotion, . emotion absent)\n\n";
  // Each class's column is 9 characters, or its name and a space: the change right-aligned, then the dominant marker.
  auto end_line = [&](const std::string& line) { out << line.substr(0, line.find_last_not_of(' ') + 1) << "\n"; };
  char buf[64];
  std::snprintf(buf, sizeof buf, " %5s", "n");
  std::string line = padded(first_column) + buf;
  std::vector<int> widths;
  for (const std::string& e : report.classes) {
    widths.push_back(int(std::max<size_t>(8, e.size())));
    line += std::string(size_t(widths.back()) - e.size(), ' ') + e + " ";
  }
  end_line(line);
  for (const ConversationAtmosphere& c : report.conversations) {
    std::snprintf(buf, sizeof buf, " %5lld", static_cast<long long>(c.n_labelled));
    line = padded(c.dialogue) + buf;
    for (size_t k = 0; k < report.classes.size(); ++k) {
      auto e = std::find_if(c.changes.begin(), c.changes.end(),
                            [&](const EmotionChange& x) { return x.emotion == int64_t(k); });
      if (e == c.changes.end())
        std::snprintf(buf, sizeof buf, "%*s ", widths[k], ".");
      else
        std::snprintf(buf, sizeof buf, "%+*.1f%c", widths[k], 100 * e->change, e->dominant ? '*' : ' ');
      line += buf;
    }
    end_line(line);
  }
  const AtmosphereSummary& s = report.summary;
  out << "\n"
      << s.n_conversations << " conversations, " << s.n_labelled << " labelled utterances; one emotion covers > 50% in "
      << s.n_one_over_half << ", the top two in " << s.n_two_over_half << "\n";
  std::snprintf(buf, sizeof buf, "accuracy: context model %.2f%%, utterance model %.2f%%\n", 100 * s.accuracy_context,
                100 * s.accuracy_utterance);
  out << buf << "mean change: dominant emotion " << points(s.mean_change_dominant) << " points over "
      << s.n_dominant_pairs << " pairs, other emotions " << points(s.mean_change_other) << " points over "
      << s.n_other_pairs << " pairs\n";
  return out.str();
}

}  // namespace erc::eval
