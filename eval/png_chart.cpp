// The PNG encoder, a tiny raster canvas with a bitmap font, and the emotion distribution chart.
#include "eval/png_chart.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <string_view>

#include "data/dataset.h"
#include "tensor/check.h"
#include "io/atomic_file.h"

namespace erc::eval {

const std::array<Rgb, 6> kEmotionColours = {{
    {214, 39, 40},    // ang
    {255, 127, 14},   // exc
    {148, 103, 189},  // fru
    {44, 160, 44},    // hap
    {160, 160, 160},  // neu
    {31, 119, 180},   // sad
}};

namespace {

// ---- PNG: signature, then chunks (length, type, data, CRC-32 of type and data), all integers big-endian.

void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += char((v >> shift) & 0xFF);
}

void put_chunk(std::string& out, const char* type, const std::string& data) {
  const std::string body = type + data;
  put_u32(out, uint32_t(data.size()));
  out += body;
  put_u32(out, uint32_t(crc32(0, reinterpret_cast<const Bytef*>(body.data()), uInt(body.size()))));
}

// ---- A pixel buffer with filled rectangles and text in a 5x7 bitmap font.

// Printable ASCII from ' ' to '~', five columns per glyph, bit 0 the top row: capitals and digits use rows 0-6,
// lower case rows 2-6, and g j p q y reach down into row 7.
constexpr uint8_t kFont[95][5] = {
    {0x00, 0x00, 0x00, 0x00, 0x00}, {0x00, 0x00, 0x5F, 0x00, 0x00}, {0x00, 0x07, 0x00, 0x07, 0x00},  // space ! "
    {0x14, 0x7F, 0x14, 0x7F, 0x14}, {0x24, 0x2A, 0x7F, 0x2A, 0x12}, {0x23, 0x13, 0x08, 0x64, 0x62},  // # $ %
    {0x36, 0x49, 0x55, 0x22, 0x50}, {0x00, 0x05, 0x03, 0x00, 0x00}, {0x00, 0x1C, 0x22, 0x41, 0x00},  // & ' (
    {0x00, 0x41, 0x22, 0x1C, 0x00}, {0x08, 0x2A, 0x1C, 0x2A, 0x08}, {0x08, 0x08, 0x3E, 0x08, 0x08},  // ) * +
    {0x00, 0x50, 0x30, 0x00, 0x00}, {0x08, 0x08, 0x08, 0x08, 0x08}, {0x00, 0x60, 0x60, 0x00, 0x00},  // , - .
    {0x20, 0x10, 0x08, 0x04, 0x02}, {0x3E, 0x41, 0x41, 0x41, 0x3E}, {0x00, 0x42, 0x7F, 0x40, 0x00},  // / 0 1
    {0x42, 0x61, 0x51, 0x49, 0x46}, {0x21, 0x41, 0x45, 0x4B, 0x31}, {0x18, 0x14, 0x12, 0x7F, 0x10},  // 2 3 4
    {0x27, 0x45, 0x45, 0x45, 0x39}, {0x3C, 0x4A, 0x49, 0x49, 0x30}, {0x01, 0x71, 0x09, 0x05, 0x03},  // 5 6 7
    {0x36, 0x49, 0x49, 0x49, 0x36}, {0x06, 0x49, 0x49, 0x29, 0x1E}, {0x00, 0x36, 0x36, 0x00, 0x00},  // 8 9 :
    {0x00, 0x56, 0x36, 0x00, 0x00}, {0x08, 0x14, 0x22, 0x41, 0x00}, {0x14, 0x14, 0x14, 0x14, 0x14},  // ; < =
    {0x00, 0x41, 0x22, 0x14, 0x08}, {0x02, 0x01, 0x51, 0x09, 0x06}, {0x32, 0x49, 0x79, 0x41, 0x3E},  // > ? @
    {0x7E, 0x11, 0x11, 0x11, 0x7E}, {0x7F, 0x49, 0x49, 0x49, 0x36}, {0x3E, 0x41, 0x41, 0x41, 0x22},  // A B C
    {0x7F, 0x41, 0x41, 0x22, 0x1C}, {0x7F, 0x49, 0x49, 0x49, 0x41}, {0x7F, 0x09, 0x09, 0x09, 0x01},  // D E F
    {0x3E, 0x41, 0x49, 0x49, 0x7A}, {0x7F, 0x08, 0x08, 0x08, 0x7F}, {0x00, 0x41, 0x7F, 0x41, 0x00},  // G H I
    {0x20, 0x40, 0x41, 0x3F, 0x01}, {0x7F, 0x08, 0x14, 0x22, 0x41}, {0x7F, 0x40, 0x40, 0x40, 0x40},  // J K L
    {0x7F, 0x02, 0x0C, 0x02, 0x7F}, {0x7F, 0x04, 0x08, 0x10, 0x7F}, {0x3E, 0x41, 0x41, 0x41, 0x3E},  // M N O
    {0x7F, 0x09, 0x09, 0x09, 0x06}, {0x3E, 0x41, 0x51, 0x21, 0x5E}, {0x7F, 0x09, 0x19, 0x29, 0x46},  // P Q R
    {0x46, 0x49, 0x49, 0x49, 0x31}, {0x01, 0x01, 0x7F, 0x01, 0x01}, {0x3F, 0x40, 0x40, 0x40, 0x3F},  // S T U
    {0x1F, 0x20, 0x40, 0x20, 0x1F}, {0x3F, 0x40, 0x38, 0x40, 0x3F}, {0x63, 0x14, 0x08, 0x14, 0x63},  // V W X
    {0x07, 0x08, 0x70, 0x08, 0x07}, {0x61, 0x51, 0x49, 0x45, 0x43}, {0x00, 0x7F, 0x41, 0x41, 0x00},  // Y Z [
    {0x02, 0x04, 0x08, 0x10, 0x20}, {0x00, 0x41, 0x41, 0x7F, 0x00}, {0x04, 0x02, 0x01, 0x02, 0x04},  // backslash ] ^
    {0x40, 0x40, 0x40, 0x40, 0x40}, {0x00, 0x01, 0x02, 0x04, 0x00}, {0x20, 0x54, 0x54, 0x54, 0x78},  // _ ` a
    {0x7F, 0x48, 0x44, 0x44, 0x38}, {0x38, 0x44, 0x44, 0x44, 0x20}, {0x38, 0x44, 0x44, 0x48, 0x7F},  // b c d
    {0x38, 0x54, 0x54, 0x54, 0x18}, {0x08, 0x7E, 0x09, 0x01, 0x02}, {0x18, 0xA4, 0xA4, 0xA4, 0x7C},  // e f g
    {0x7F, 0x08, 0x04, 0x04, 0x78}, {0x00, 0x44, 0x7D, 0x40, 0x00}, {0x40, 0x80, 0x84, 0x7D, 0x00},  // h i j
    {0x7F, 0x10, 0x28, 0x44, 0x00}, {0x00, 0x41, 0x7F, 0x40, 0x00}, {0x7C, 0x04, 0x18, 0x04, 0x78},  // k l m
    {0x7C, 0x08, 0x04, 0x04, 0x78}, {0x38, 0x44, 0x44, 0x44, 0x38}, {0xFC, 0x24, 0x24, 0x24, 0x18},  // n o p
    {0x18, 0x24, 0x24, 0x24, 0xFC}, {0x7C, 0x08, 0x04, 0x04, 0x08}, {0x48, 0x54, 0x54, 0x54, 0x20},  // q r s
    {0x04, 0x3F, 0x44, 0x40, 0x20}, {0x3C, 0x40, 0x40, 0x20, 0x7C}, {0x1C, 0x20, 0x40, 0x20, 0x1C},  // t u v
    {0x3C, 0x40, 0x30, 0x40, 0x3C}, {0x44, 0x28, 0x10, 0x28, 0x44}, {0x1C, 0xA0, 0xA0, 0xA0, 0x7C},  // w x y
    {0x44, 0x64, 0x54, 0x4C, 0x44}, {0x00, 0x08, 0x36, 0x41, 0x00}, {0x00, 0x00, 0x7F, 0x00, 0x00},  // z { |
    {0x00, 0x41, 0x36, 0x08, 0x00}, {0x08, 0x04, 0x08, 0x10, 0x08},                                  // } ~
};
constexpr int kAdvance = 6, kRows = 8;  // glyph width plus one column of space; rows per glyph

const Rgb kBlack = {0, 0, 0}, kDark = {70, 70, 70};

struct Canvas {
  int width, height;
  std::vector<uint8_t> rgb;

  Canvas(int w, int h) : width(w), height(h), rgb(size_t(w) * size_t(h) * 3, 255) {}

  void set(int x, int y, Rgb c) {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    std::copy(c.begin(), c.end(), rgb.begin() + (ptrdiff_t(y) * width + x) * 3);
  }
  void fill(int x0, int y0, int x1, int y1, Rgb c) {  // [x0, x1) x [y0, y1)
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) set(x, y, c);
  }
  void outline(int x0, int y0, int x1, int y1, int thickness, Rgb c) {  // inside [x0, x1) x [y0, y1)
    fill(x0, y0, x1, y0 + thickness, c);
    fill(x0, y1 - thickness, x1, y1, c);
    fill(x0, y0, x0 + thickness, y1, c);
    fill(x1 - thickness, y0, x1, y1, c);
  }
  static const uint8_t* glyph(char ch) { return kFont[(ch >= ' ' && ch <= '~' ? ch : '?') - ' ']; }
  // Left to right from the top-left corner (x, y), each font pixel a scale x scale square.
  void text(int x, int y, const std::string& s, Rgb c, int scale = 1) {
    for (size_t i = 0; i < s.size(); ++i)
      for (int col = 0; col < 5; ++col)
        for (int row = 0; row < kRows; ++row)
          if ((glyph(s[i])[col] >> row) & 1)
            fill(x + (int(i) * kAdvance + col) * scale, y + row * scale, x + (int(i) * kAdvance + col + 1) * scale,
                 y + (row + 1) * scale, c);
  }
  // Turned a quarter left, reading upwards: the glyphs' tops face left, the text starts at (x, y_bottom).
  void text_up(int x, int y_bottom, const std::string& s, Rgb c) {
    for (size_t i = 0; i < s.size(); ++i)
      for (int col = 0; col < 5; ++col)
        for (int row = 0; row < kRows; ++row)
          if ((glyph(s[i])[col] >> row) & 1) set(x + row, y_bottom - int(i) * kAdvance - col, c);
  }
};

int text_width(size_t chars, int scale = 1) { return (int(chars) * kAdvance - 1) * scale; }

constexpr std::string_view kSubtitle =
    "labelled utterances only; black outline: the dominant emotion; dashed line: 50%";

}  // namespace

void write_png(const std::string& path, int width, int height, const std::vector<uint8_t>& rgb) {
  ERC_CHECK(width > 0 && height > 0 && rgb.size() == size_t(width) * size_t(height) * 3, path, ": expected ", width,
            " x ", height, " x 3 = ", int64_t(width) * height * 3, " bytes of RGB, got ", rgb.size());
  // Every row starts with its filter type; 0 (none) keeps the encoder trivial and deflate still does well on charts.
  std::string raw;
  raw.reserve((size_t(width) * 3 + 1) * size_t(height));
  for (int y = 0; y < height; ++y) {
    raw += '\0';
    raw.append(reinterpret_cast<const char*>(rgb.data()) + size_t(y) * size_t(width) * 3, size_t(width) * 3);
  }
  uLongf size = compressBound(uLong(raw.size()));
  std::string idat(size, '\0');
  ERC_CHECK(compress2(reinterpret_cast<Bytef*>(idat.data()), &size, reinterpret_cast<const Bytef*>(raw.data()),
                      uLong(raw.size()), Z_BEST_COMPRESSION) == Z_OK,
            path, ": zlib could not compress the image");
  idat.resize(size);

  std::string ihdr;
  put_u32(ihdr, uint32_t(width));
  put_u32(ihdr, uint32_t(height));
  ihdr += {8, 2, 0, 0, 0};  // 8 bits per channel, colour type 2 (RGB), deflate, no filter variants, no interlace
  std::string png = "\x89PNG\r\n\x1a\n";
  put_chunk(png, "IHDR", ihdr);
  put_chunk(png, "IDAT", idat);
  put_chunk(png, "IEND", "");
  write_file_atomically(path, png);
}

int DistributionChartLayout::share_y(double cumulative_share) const {
  return plot_bottom - int(std::lround(cumulative_share * (plot_bottom - plot_top)));
}

DistributionChartLayout distribution_chart_layout(const AtmosphereReport& report) {
  const int n = std::max<int>(1, int(report.conversations.size()));
  size_t longest_name = 0;
  for (const ConversationAtmosphere& c : report.conversations) longest_name = std::max(longest_name, c.dialogue.size());
  DistributionChartLayout l;
  l.plot_left = 60;
  l.plot_top = 60;
  l.plot_bottom = 390;
  l.slot = std::clamp(800 / n, 12, 60);  // 31 session-5 conversations fill about 800 pixels
  l.bar_width = l.slot * 3 / 4;
  l.width =
      std::max(l.plot_left + n * l.slot + 160, l.plot_left + text_width(kSubtitle.size()) + 20);  // legend on the right
  l.height = l.plot_bottom + 8 + text_width(longest_name) + 12;  // names written upwards
  return l;
}

void write_distribution_png(const std::string& path, const AtmosphereReport& report) {
  const DistributionChartLayout l = distribution_chart_layout(report);
  Canvas canvas(l.width, l.height);
  const int plot_right = l.plot_left + int(report.conversations.size()) * l.slot;

  canvas.text(l.plot_left, 14, "Emotion shares per conversation", kBlack, 2);
  canvas.text(l.plot_left, 38, std::string(kSubtitle), kDark);

  for (int percent = 0; percent <= 100; percent += 25) {
    const int y = l.share_y(percent / 100.0);
    const std::string label = std::to_string(percent) + "%";
    canvas.text(l.plot_left - 8 - text_width(label.size()), y - 3, label, kBlack);
    canvas.fill(l.plot_left - 5, y, l.plot_left - 1, y + 1, kBlack);
  }
  canvas.fill(l.plot_left - 1, l.plot_top, l.plot_left, l.plot_bottom + 1, kBlack);
  canvas.fill(l.plot_left - 1, l.plot_bottom, plot_right, l.plot_bottom + 1, kBlack);

  for (size_t i = 0; i < report.conversations.size(); ++i) {
    const ConversationAtmosphere& c = report.conversations[i];
    const int x0 = l.bar_left(i), x1 = x0 + l.bar_width;
    // Boundaries from cumulative counts, so that the segments tile the bar exactly and it ends at 100%.
    int64_t below = 0;
    for (size_t e = 0; e < data::kEmotions.size(); ++e) {
      const int y_bottom = l.share_y(double(below) / double(c.n_labelled));
      below += c.counts[e];
      const int y_top = l.share_y(double(below) / double(c.n_labelled));
      canvas.fill(x0, y_top, x1, y_bottom, kEmotionColours[e]);
      if (int64_t(e) == c.dominant) canvas.outline(x0, y_top, x1, y_bottom, 2, kBlack);
    }
    canvas.text_up(x0 + (l.bar_width - kRows) / 2, l.plot_bottom + 8 + text_width(c.dialogue.size()), c.dialogue,
                   kBlack);
  }
  for (int x = l.plot_left; x < plot_right; x += 10) {
    const int y = l.share_y(0.5);
    canvas.fill(x, y, std::min(x + 6, plot_right), y + 1, kDark);
  }

  // The legend lists the emotions top to bottom as they are stacked, sad on top.
  const int legend_x = plot_right + 24;
  int y = l.plot_top;
  for (size_t e = data::kEmotions.size(); e-- > 0; y += 24) {
    canvas.fill(legend_x, y, legend_x + 16, y + 16, kEmotionColours[e]);
    canvas.text(legend_x + 24, y + 1, data::kEmotions[e], kBlack, 2);
  }
  canvas.outline(legend_x, y, legend_x + 16, y + 16, 2, kBlack);
  canvas.text(legend_x + 24, y + 1, "dominant", kBlack, 2);

  write_png(path, l.width, l.height, canvas.rgb);
}

}  // namespace erc::eval
