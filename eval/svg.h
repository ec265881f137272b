// A tiny SVG writer of erc's own, for the charts of eval/charts.h: rectangles, lines and text, with text and
// attribute values escaped and numbers written short. Coordinates are pixels, y pointing down.
#pragma once
#include <string>

namespace erc::eval {

// At most three decimals, no trailing zeros, no "-0": 12, 0.5, 0.333. A non-finite value is an error.
std::string svg_number(double v);

// & < > " ' as entities: safe both between tags and inside a quoted attribute value.
std::string xml_escape(const std::string& text);

class Svg {
 public:
  Svg(double width, double height);  // the viewBox is 0 0 width height

  // No stroke when stroke_width is 0; a non-empty tooltip becomes the rectangle's <title>.
  void rect(double x, double y, double width, double height, const std::string& fill, const std::string& stroke = "",
            double stroke_width = 0, const std::string& tooltip = "");
  void line(double x1, double y1, double x2, double y2, const std::string& stroke, double width = 1,
            bool dashed = false);
  // (x, y) is the anchor on the baseline; rotate turns the text about it, in degrees (-90 reads upwards).
  void text(double x, double y, const std::string& content, double size, const std::string& anchor = "start",
            double rotate = 0, bool bold = false);

  std::string str() const;
  // str() through write_file_atomically: a failed write leaves no file behind.
  void write(const std::string& path) const;

 private:
  double width_, height_;
  std::string body_;
};

}  // namespace erc::eval
