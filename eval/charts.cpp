#include "eval/charts.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <map>
#include <set>

#include "eval/svg.h"
#include "tensor/check.h"

namespace erc::eval {

std::vector<std::string> class_colours(const std::vector<std::string>& classes) {
  static const std::map<std::string, std::string> paper = {{"ang", "#d62728"}, {"exc", "#ff7f0e"}, {"fru", "#9467bd"},
                                                           {"hap", "#2ca02c"}, {"neu", "#a0a0a0"}, {"sad", "#1f77b4"}};
  static const char* const distinct[] = {"#d62728", "#ff7f0e", "#9467bd", "#2ca02c", "#a0a0a0",
                                         "#1f77b4", "#8c564b", "#e377c2", "#bcbd22", "#17becf"};
  std::set<std::string> taken;
  for (const std::string& name : classes)
    if (paper.count(name)) taken.insert(paper.at(name));
  std::vector<std::string> out;
  size_t next = 0, generated = 0;
  for (const std::string& name : classes) {
    if (paper.count(name)) {
      out.push_back(paper.at(name));
      continue;
    }
    while (next < std::size(distinct) && taken.count(distinct[next])) ++next;
    if (next < std::size(distinct)) {
      out.push_back(distinct[next]);
      taken.insert(distinct[next]);
      continue;
    }
    // HSL(hue, 55%, 45%) with the hue stepped by the golden angle: each new colour lands between the earlier ones.
    const double hue = std::fmod(double(generated++) * 137.50776405, 360.0) / 60.0;
    const double chroma = (1 - std::fabs(2 * 0.45 - 1)) * 0.55, x = chroma * (1 - std::fabs(std::fmod(hue, 2.0) - 1));
    const double m = 0.45 - chroma / 2;
    const int sector = int(hue);
    const double r = sector == 0 || sector == 5 ? chroma : sector == 1 || sector == 4 ? x : 0;
    const double g = sector == 1 || sector == 2 ? chroma : sector == 0 || sector == 3 ? x : 0;
    const double b = sector == 3 || sector == 4 ? chroma : sector == 2 || sector == 5 ? x : 0;
    char colour[8];
    std::snprintf(colour, sizeof colour, "#%02x%02x%02x", int(std::lround(255 * (r + m))),
                  int(std::lround(255 * (g + m))), int(std::lround(255 * (b + m))));
    out.push_back(colour);
  }
  return out;
}

namespace {

constexpr double kFont = 12;
// Text width is not known without a font; this is an upper bound for sans-serif at kFont, enough for margins.
double text_width(size_t characters) { return 7.5 * double(characters); }

// The legend's width: a swatch, a gap and the longest class name.
double legend_width(const std::vector<std::string>& classes) {
  size_t longest = 8;  // "dominant"
  for (const std::string& c : classes) longest = std::max(longest, c.size());
  return 20 + text_width(longest);
}

std::string fixed(const char* format, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// The classes' legend as a column of swatches from (x, y) down, in the given order.
void legend(Svg& svg, double x, double y, const std::vector<std::string>& classes, const std::vector<size_t>& order) {
  const std::vector<std::string> colours = class_colours(classes);
  for (size_t e : order) {
    svg.rect(x, y, 14, 14, colours[e]);
    svg.text(x + 20, y + 12, classes[e], kFont);
    y += 22;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------------- distribution

DistributionChartLayout distribution_chart_layout(const AtmosphereReport& report) {
  const double n = double(std::max<size_t>(1, report.conversations.size()));
  size_t longest_name = 0;
  for (const ConversationAtmosphere& c : report.conversations) longest_name = std::max(longest_name, c.dialogue.size());
  DistributionChartLayout l;
  l.plot_left = 60;
  l.plot_top = 60;
  l.plot_bottom = 390;
  l.slot = std::clamp(800 / n, 12.0, 60.0);  // 31 session-5 conversations fill about 800 units
  l.bar_width = l.slot * 0.75;
  l.width = l.plot_left + n * l.slot + 44 + legend_width(report.classes);  // the legend on the right
  l.height = l.plot_bottom + 12 + text_width(longest_name) + 12;
  return l;
}

void write_distribution_svg(const std::string& path, const AtmosphereReport& report) {
  const DistributionChartLayout l = distribution_chart_layout(report);
  const size_t n_classes = report.classes.size();
  const std::vector<std::string> colours = class_colours(report.classes);
  Svg svg(l.width, l.height);
  const double plot_right = l.plot_left + double(report.conversations.size()) * l.slot;
  svg.text(l.plot_left, 24, "Emotion shares per conversation", 16, "start", 0, true);
  svg.text(l.plot_left, 44, "labelled utterances of each test conversation; the dominant emotion outlined", kFont);
  for (int percent = 0; percent <= 100; percent += 25) {
    const double y = l.share_y(percent / 100.0);
    svg.text(l.plot_left - 8, y + 4, std::to_string(percent) + "%", kFont, "end");
    svg.line(l.plot_left - 5, y, l.plot_left, y, "#000000");
  }
  svg.line(l.plot_left, l.plot_top, l.plot_left, l.plot_bottom, "#000000");
  svg.line(l.plot_left, l.plot_bottom, plot_right, l.plot_bottom, "#000000");
  for (size_t i = 0; i < report.conversations.size(); ++i) {
    const ConversationAtmosphere& c = report.conversations[i];
    const double x = l.bar_left(i);
    // Boundaries from cumulative counts, so that the segments tile the bar exactly and it ends at 100%.
    int64_t below = 0;
    for (size_t e = 0; e < n_classes; ++e) {
      if (c.counts[e] == 0) continue;
      const double y_bottom = l.share_y(double(below) / double(c.n_labelled));
      below += c.counts[e];
      const double y_top = l.share_y(double(below) / double(c.n_labelled));
      const std::string tooltip = c.dialogue + ": " + report.classes[e] + " " + std::to_string(c.counts[e]) + " of " +
                                  std::to_string(c.n_labelled) + " (" + fixed("%.0f%%", 100 * c.shares[e]) + ")";
      const bool dominant = int64_t(e) == c.dominant;
      svg.rect(x, y_top, l.bar_width, y_bottom - y_top, colours[e], "#000000", dominant ? 2 : 0, tooltip);
    }
    svg.text(x + l.bar_width / 2 + 4, l.plot_bottom + 12, c.dialogue, 11, "end", -90);
  }
  svg.line(l.plot_left, l.share_y(0.5), plot_right, l.share_y(0.5), "#505050", 1, true);
  std::vector<size_t> top_first;  // the legend lists the classes as they are stacked, the last on top
  for (size_t e = n_classes; e-- > 0;) top_first.push_back(e);
  legend(svg, plot_right + 24, l.plot_top, report.classes, top_first);
  const double y = l.plot_top + 22 * double(n_classes);
  svg.rect(plot_right + 24, y, 14, 14, "#ffffff", "#000000", 2);
  svg.text(plot_right + 44, y + 12, "dominant", kFont);
  svg.write(path);
}

// ---------------------------------------------------------------------------------------------------- confusion

ConfusionChartLayout confusion_chart_layout(size_t n_classes, const std::string& title) {
  ConfusionChartLayout l;
  l.left = 90;
  l.top = 80;
  l.cell = 56;
  l.width = std::max(l.left + double(n_classes) * l.cell + 30, l.left + text_width(title.size()) * 14 / kFont + 20);
  l.height = l.top + double(n_classes) * l.cell + 50;
  return l;
}

void write_confusion_svg(const std::string& path, const std::vector<std::vector<int64_t>>& confusion,
                         const std::vector<std::string>& class_names, const std::string& title) {
  const size_t n = class_names.size();
  ERC_CHECK(confusion.size() == n, "confusion chart: ", confusion.size(), " rows for ", n, " classes");
  for (const auto& row : confusion)
    ERC_CHECK(row.size() == n, "confusion chart: a row of ", row.size(), " counts for ", n, " classes");
  const ConfusionChartLayout l = confusion_chart_layout(n, title);
  Svg svg(l.width, l.height);
  svg.text(l.left, 24, title, 14, "start", 0, true);
  svg.text(l.left + double(n) * l.cell / 2, 56, "predicted", kFont, "middle");
  svg.text(20, l.top + double(n) * l.cell / 2, "true", kFont, "middle", -90);
  for (size_t t = 0; t < n; ++t) {
    int64_t row_total = 0;
    for (int64_t v : confusion[t]) row_total += v;
    svg.text(l.left - 8, l.cell_y(t) + l.cell / 2 + 4, class_names[t], kFont, "end");
    for (size_t p = 0; p < n; ++p) {
      const double share = row_total > 0 ? double(confusion[t][p]) / double(row_total) : 0;
      // White to dark blue by the row's share; counts in white once the cell is dark.
      const int shade = int(std::lround(255 * (1 - 0.8 * share)));
      char colour[8];
      std::snprintf(colour, sizeof colour, "#%02x%02x%02x", shade, shade, 255 - int(std::lround(60 * share)));
      svg.rect(l.cell_x(p), l.cell_y(t), l.cell, l.cell, colour, "#808080", 1,
               class_names[t] + " predicted as " + class_names[p] + ": " + std::to_string(confusion[t][p]) + " (" +
                   fixed("%.0f%% of the row", 100 * share) + ")");
      svg.text(l.cell_x(p) + l.cell / 2, l.cell_y(t) + l.cell / 2 + 4, std::to_string(confusion[t][p]), kFont, "middle",
               0, t == p);
    }
  }
  for (size_t p = 0; p < n; ++p) svg.text(l.cell_x(p) + l.cell / 2, l.top - 8, class_names[p], kFont, "middle");
  svg.write(path);
}

// ---------------------------------------------------------------------------------------------------- timeline

TimelineLayout timeline_layout(const TimelineChart& chart) {
  TimelineLayout l;
  size_t longest = 0;
  for (const TimelineSegment& s : chart.segments) {
    if (std::find(l.speakers.begin(), l.speakers.end(), s.speaker) == l.speakers.end()) l.speakers.push_back(s.speaker);
    longest = std::max(longest, s.speaker.size());
    l.seconds = std::max(l.seconds, s.end);
  }
  l.seconds = std::max(l.seconds, chart.duration);
  l.left = 20 + text_width(longest);
  l.plot_width = std::clamp(l.seconds * 12, 600.0, 2400.0);  // 12 units per second up to a 200 s conversation
  l.top = 50;
  l.lane_height = 40;
  l.width = l.left + l.plot_width + 20 + legend_width(chart.classes);  // the legend on the right
  l.height =
      std::max(l.top + double(l.speakers.size()) * l.lane_height + 50, l.top + 22 * double(chart.classes.size()) + 10);
  return l;
}

void write_timeline_svg(const std::string& path, const TimelineChart& chart) {
  ERC_CHECK(!chart.segments.empty(), "timeline ", path, ": no turns");
  for (const TimelineSegment& s : chart.segments) {
    ERC_CHECK(s.start >= 0 && s.end > s.start, "timeline ", path, ": turn ", s.utt_id, " from ", s.start, " s to ",
              s.end, " s (a turn starts at 0 or later and ends after it starts)");
    ERC_CHECK(s.emotion >= 0 && s.emotion < int64_t(chart.classes.size()), "timeline ", path, ": turn ", s.utt_id,
              " has class ", s.emotion, " of ", chart.classes.size());
  }
  const TimelineLayout l = timeline_layout(chart);
  const std::vector<std::string> colours = class_colours(chart.classes);
  Svg svg(l.width, l.height);
  svg.text(l.left, 24, chart.title, 14, "start", 0, true);
  for (size_t k = 0; k < l.speakers.size(); ++k) {
    const double y = l.lane_y(k);
    svg.rect(l.left, y, l.plot_width, l.lane_height, k % 2 ? "#ffffff" : "#f4f4f4");
    svg.text(l.left - 8, y + l.lane_height / 2 + 4, l.speakers[k], kFont, "end");
  }
  for (const TimelineSegment& s : chart.segments) {
    const size_t k = size_t(std::find(l.speakers.begin(), l.speakers.end(), s.speaker) - l.speakers.begin());
    const std::string tooltip = s.utt_id + ": " + fixed("%.2f", s.start) + " to " + fixed("%.2f s, ", s.end) +
                                chart.classes[size_t(s.emotion)] + fixed(" (p = %.2f)", s.confidence);
    svg.rect(l.x(s.start), l.lane_y(k) + 6, l.x(s.end) - l.x(s.start), l.lane_height - 12, colours[size_t(s.emotion)],
             "", 0, tooltip);
  }
  const double axis_y = l.lane_y(l.speakers.size());
  svg.line(l.left, axis_y, l.left + l.plot_width, axis_y, "#000000");
  // A tick every 1, 2, 5, 10, ... seconds: about ten along the axis.
  double step = 1;
  for (const double s : {2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0})
    if (l.seconds / step > 12) step = s;
  for (double t = 0; t <= l.seconds + 1e-9; t += step) {
    svg.line(l.x(t), axis_y, l.x(t), axis_y + 5, "#000000");
    svg.text(l.x(t), axis_y + 18, fixed("%g", t), 11, "middle");
  }
  svg.text(l.left + l.plot_width / 2, axis_y + 36, "time (s)", kFont, "middle");
  std::vector<size_t> in_order;
  for (size_t e = 0; e < chart.classes.size(); ++e) in_order.push_back(e);
  legend(svg, l.left + l.plot_width + 20, l.top, chart.classes, in_order);
  svg.write(path);
}

}  // namespace erc::eval
