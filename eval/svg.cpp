// The SVG writer: each element one line of escaped text.
#include "eval/svg.h"

#include <cmath>
#include <cstdio>

#include "io/atomic_file.h"
#include "tensor/check.h"

namespace erc::eval {

std::string svg_number(double v) {
  ERC_CHECK(std::isfinite(v), "svg: expected a finite coordinate or size, got ", v);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  std::string s = buf;
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

std::string attribute(const char* name, const std::string& value) {
  return std::string(" ") + name + "=\"" + xml_escape(value) + '"';
}

}  // namespace

Svg::Svg(double width, double height) : width_(width), height_(height) {
  ERC_CHECK(width > 0 && height > 0, "svg: expected a positive width and height, got ", width, " x ", height);
}

void Svg::rect(double x, double y, double width, double height, const std::string& fill, const std::string& stroke,
               double stroke_width, const std::string& tooltip) {
  body_ += "  <rect" + attribute("x", svg_number(x)) + attribute("y", svg_number(y)) +
           attribute("width", svg_number(width)) + attribute("height", svg_number(height)) + attribute("fill", fill);
  if (stroke_width > 0)
    body_ +=
        attribute("stroke", stroke.empty() ? "#000000" : stroke) + attribute("stroke-width", svg_number(stroke_width));
  body_ += tooltip.empty() ? "/>\n" : "><title>" + xml_escape(tooltip) + "</title></rect>\n";
}

void Svg::line(double x1, double y1, double x2, double y2, const std::string& stroke, double width, bool dashed) {
  body_ += "  <line" + attribute("x1", svg_number(x1)) + attribute("y1", svg_number(y1)) +
           attribute("x2", svg_number(x2)) + attribute("y2", svg_number(y2)) + attribute("stroke", stroke) +
           attribute("stroke-width", svg_number(width));
  if (dashed) body_ += attribute("stroke-dasharray", "6 4");
  body_ += "/>\n";
}

void Svg::text(double x, double y, const std::string& content, double size, const std::string& anchor, double rotate,
               bool bold) {
  body_ += "  <text" + attribute("x", svg_number(x)) + attribute("y", svg_number(y)) +
           attribute("font-size", svg_number(size));
  if (anchor != "start") body_ += attribute("text-anchor", anchor);
  if (rotate != 0)
    body_ += attribute("transform", "rotate(" + svg_number(rotate) + ' ' + svg_number(x) + ' ' + svg_number(y) + ')');
  if (bold) body_ += attribute("font-weight", "bold");
  body_ += '>' + xml_escape(content) + "</text>\n";
}

std::string Svg::str() const {
  const std::string w = svg_number(width_), h = svg_number(height_);
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + w +
         "\" height=\"" + h + "\" viewBox=\"0 0 " + w + ' ' + h + "\" font-family=\"sans-serif\">\n" + body_ +
         "</svg>\n";
}

void Svg::write(const std::string& path) const {
  ERC_CHECK(!path.empty(), "svg: the output path is empty");
  write_file_atomically(path, str());
}

}  // namespace erc::eval
