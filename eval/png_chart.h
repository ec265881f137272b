// Charts as PNG files without a graphics library: an RGB encoder (zlib does deflate and the CRCs) and the
// atmosphere chart drawn on a plain pixel buffer with a built-in 5x7 bitmap font.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "eval/atmosphere.h"

namespace erc::eval {

using Rgb = std::array<uint8_t, 3>;

// rgb: height rows of width pixels, top row first, 3 bytes per pixel. An 8-bit RGB PNG, .tmp + rename.
void write_png(const std::string& path, int width, int height, const std::vector<uint8_t>& rgb);

// The emotions' colours, kEmotions order: red, orange, purple, green, grey, blue.
extern const std::array<Rgb, 6> kEmotionColours;

// Where the distribution chart puts things, in pixels, y pointing down; the drawing and the tests share it.
struct DistributionChartLayout {
  int width = 0, height = 0;
  int plot_left = 0, plot_top = 0, plot_bottom = 0;  // a share of 0 sits at plot_bottom, 1 at plot_top
  int slot = 0, bar_width = 0;                       // pixels per conversation, and the width of its bar
  int bar_left(size_t conversation) const { return plot_left + int(conversation) * slot + (slot - bar_width) / 2; }
  int share_y(double cumulative_share) const;
};
DistributionChartLayout distribution_chart_layout(const AtmosphereReport& report);

// One stacked bar per conversation (ang at the bottom, sad at the top; heights are the shares of its labelled
// utterances), the dominant emotion's segment outlined in black, a dashed line at 50%, a legend, and the
// conversation names written upwards under the bars.
void write_distribution_png(const std::string& path, const AtmosphereReport& report);

}  // namespace erc::eval
