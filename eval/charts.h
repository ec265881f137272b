// erc's figures as SVG (eval/svg.h): the emotion distribution per conversation (the paper's Fig. 3), a confusion
// matrix, and a conversation's timeline of predicted emotions. Each chart's layout is a struct that the drawing
// and the tests share, so a test checks geometry without repeating constants.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "eval/atmosphere.h"

namespace erc::eval {

// A colour per class, for any number of classes: the paper's six keep theirs (ang red, exc orange, fru purple,
// hap green, neu grey, sad blue), other names take the next unused of ten distinct colours, and past those, hues
// spaced by the golden angle. No two classes share a colour.
std::vector<std::string> class_colours(const std::vector<std::string>& classes);

// ---- the distribution chart
struct DistributionChartLayout {
  double width = 0, height = 0;
  double plot_left = 0, plot_top = 0, plot_bottom = 0;  // a share of 0 sits at plot_bottom, 1 at plot_top
  double slot = 0, bar_width = 0;                       // per conversation, and the width of its bar
  double bar_left(size_t conversation) const {
    return plot_left + double(conversation) * slot + (slot - bar_width) / 2;
  }
  double share_y(double cumulative_share) const { return plot_bottom - cumulative_share * (plot_bottom - plot_top); }
};
DistributionChartLayout distribution_chart_layout(const AtmosphereReport& report);

// One stacked bar per conversation (the first class at the bottom; heights are the shares of its labelled
// utterances), the dominant emotion's segment outlined in black, a dashed line at 50%, a legend, and the
// conversation names written upwards under the bars. Each segment's tooltip gives its count and share.
void write_distribution_svg(const std::string& path, const AtmosphereReport& report);

// ---- the confusion matrix
struct ConfusionChartLayout {
  double left = 0, top = 0, cell = 0, width = 0, height = 0;
  double cell_x(size_t predicted) const { return left + double(predicted) * cell; }
  double cell_y(size_t true_class) const { return top + double(true_class) * cell; }
};
ConfusionChartLayout confusion_chart_layout(size_t n_classes, const std::string& title = "");  // wide enough for it

// confusion[true][predicted] counts: each cell shaded by its share of the row (the recall of the diagonal) with
// the count written in it. Errors: a matrix that is not square or does not match the class names.
void write_confusion_svg(const std::string& path, const std::vector<std::vector<int64_t>>& confusion,
                         const std::vector<std::string>& class_names, const std::string& title);

// ---- a conversation's timeline
struct TimelineSegment {
  std::string speaker, utt_id;
  double start = 0, end = 0;  // seconds
  int64_t emotion = 0;        // a class of the chart's
  double confidence = 0;      // the predicted emotion's probability
};
struct TimelineChart {
  std::string title;
  std::vector<std::string> classes;  // the run's class names
  double duration = 0;  // seconds shown; at least the last segment's end
  std::vector<TimelineSegment> segments;
};
struct TimelineLayout {
  double width = 0, height = 0;
  double left = 0, plot_width = 0, top = 0, lane_height = 0;
  double seconds = 0;                 // the span of the time axis
  std::vector<std::string> speakers;  // one lane each, in order of first turn
  double x(double t) const { return left + t / seconds * plot_width; }
  double lane_y(size_t lane) const { return top + double(lane) * lane_height; }
};
TimelineLayout timeline_layout(const TimelineChart& chart);

// One lane per speaker (named at its left), each turn a bar from its start to its end in its emotion's colour
// with a tooltip (utterance, times, emotion, confidence), a time axis in seconds and a legend. Errors: a turn
// with end <= start or start < 0, an emotion that is no class of the chart's, no turns.
void write_timeline_svg(const std::string& path, const TimelineChart& chart);

}  // namespace erc::eval
