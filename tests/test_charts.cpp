// The SVG charts (eval/charts.h), read back with libxml2: well-formed XML, an <svg> root in SVG's namespace, and
// the shapes and texts where the layout says they are.
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "data/classes.h"
#include "eval/charts.h"
#include "test_util.h"

using namespace erc;
using erc::test::error_of;
using erc::test::mentions;

namespace {

struct Element {
  std::string name, text;
  std::map<std::string, std::string> attributes;
};

// Every element of the file in document order, or a failed assertion naming libxml2's first complaint.
struct ParsedSvg {
  std::vector<Element> elements;
  std::string root, root_namespace, errors;

  std::vector<Element> all(const std::string& name) const {
    std::vector<Element> out;
    for (const Element& e : elements)
      if (e.name == name) out.push_back(e);
    return out;
  }
};

// A template so that the parameter type is libxml2's own (xmlErrorPtr up to 2.11, const xmlError* from 2.12).
template <typename XmlError>
void collect_errors(void* sink, XmlError error) {
  *static_cast<std::string*>(sink) += error->message;
}

ParsedSvg parse(const std::string& path) {
  ParsedSvg svg;
  xmlSetStructuredErrorFunc(&svg.errors, collect_errors);
  xmlDocPtr doc = xmlReadFile(path.c_str(), nullptr, XML_PARSE_NONET);
  xmlSetStructuredErrorFunc(nullptr, nullptr);
  if (!doc) return svg;
  const xmlNode* root = xmlDocGetRootElement(doc);
  svg.root = reinterpret_cast<const char*>(root->name);
  svg.root_namespace = root->ns ? reinterpret_cast<const char*>(root->ns->href) : "";
  std::function<void(const xmlNode*)> walk = [&](const xmlNode* node) {
    for (; node; node = node->next) {
      if (node->type != XML_ELEMENT_NODE) continue;
      Element e;
      e.name = reinterpret_cast<const char*>(node->name);
      for (const xmlAttr* a = node->properties; a; a = a->next) {
        xmlChar* value = xmlNodeGetContent(a->children);
        e.attributes[reinterpret_cast<const char*>(a->name)] = reinterpret_cast<const char*>(value);
        xmlFree(value);
      }
      xmlChar* text = xmlNodeGetContent(node);
      e.text = reinterpret_cast<const char*>(text);
      xmlFree(text);
      svg.elements.push_back(e);
      walk(node->children);
    }
  };
  walk(root);
  xmlFreeDoc(doc);
  return svg;
}

void expect_svg_document(const ParsedSvg& svg) {
  EXPECT_EQ(svg.errors, "");
  EXPECT_EQ(svg.root, "svg");
  EXPECT_EQ(svg.root_namespace, "http://www.w3.org/2000/svg");
  ASSERT_FALSE(svg.elements.empty());
  for (const char* a : {"width", "height", "viewBox"}) EXPECT_TRUE(svg.elements[0].attributes.count(a)) << a;
}

double number(const Element& e, const char* attribute) { return std::stod(e.attributes.at(attribute)); }

// Two conversations: the first 3 ang + 1 neu (ang dominant), the second 1 exc + 4 sad (sad dominant). Its name
// holds every character XML escapes.
const std::vector<std::string> kPaperNames = data::ClassSet::paper().names();

eval::AtmosphereReport two_conversations() {
  eval::AtmosphereReport r;
  r.classes = kPaperNames;
  eval::ConversationAtmosphere a, b;
  a.dialogue = "Ses05F_impro01";
  a.counts = {3, 0, 0, 0, 1, 0};
  a.dominant = 0;
  b.dialogue = "d&<2>\"'";
  b.counts = {0, 1, 0, 0, 0, 4};
  b.dominant = 5;
  for (eval::ConversationAtmosphere* c : {&a, &b}) {
    for (int64_t n : c->counts) c->n_labelled += n;
    for (int64_t n : c->counts) c->shares.push_back(double(n) / double(c->n_labelled));
    r.conversations.push_back(*c);
  }
  return r;
}

}  // namespace

TEST(Charts, DistributionSegmentsTileEachBarWithTheDominantOutlined) {
  const eval::AtmosphereReport r = two_conversations();
  const std::string path = test::temp_path("distribution.svg");
  eval::write_distribution_svg(path, r);
  const ParsedSvg svg = parse(path);
  expect_svg_document(svg);
  const eval::DistributionChartLayout l = eval::distribution_chart_layout(r);
  std::vector<Element> bars;
  for (const Element& e : svg.all("rect"))
    if (e.attributes.count("x") && std::abs(number(e, "width") - l.bar_width) < 0.01) bars.push_back(e);
  ASSERT_EQ(bars.size(), 4u);  // ang, neu; exc, sad: one segment per emotion present
  const std::vector<std::string> colours = eval::class_colours(kPaperNames);
  EXPECT_EQ(bars[0].attributes.at("fill"), colours[0]);
  EXPECT_NEAR(number(bars[0], "y"), l.share_y(0.75), 0.01);
  EXPECT_NEAR(number(bars[0], "height"), l.share_y(0) - l.share_y(0.75), 0.01);
  EXPECT_EQ(bars[0].attributes.at("stroke-width"), "2");  // ang dominates the first conversation
  EXPECT_FALSE(bars[1].attributes.count("stroke-width"));
  EXPECT_EQ(bars[3].attributes.at("fill"), colours[5]);
  EXPECT_NEAR(number(bars[3], "x"), l.bar_left(1), 0.01);
  EXPECT_NEAR(number(bars[3], "y"), l.share_y(1.0), 0.01);
  EXPECT_EQ(bars[3].attributes.at("stroke-width"), "2");
  EXPECT_TRUE(mentions(bars[3].text, "sad 4 of 5 (80%)"));
  bool name_read_back = false;
  for (const Element& t : svg.all("text")) name_read_back |= t.text == "d&<2>\"'";
  EXPECT_TRUE(name_read_back);
}

TEST(Charts, ConfusionWritesEachCountInItsCell) {
  const std::vector<std::vector<int64_t>> confusion = {{5, 1, 0}, {2, 7, 0}, {0, 0, 0}};
  const std::string path = test::temp_path("confusion.svg");
  eval::write_confusion_svg(path, confusion, {"ang", "exc", "fru"}, "run <a> & b");
  const ParsedSvg svg = parse(path);
  expect_svg_document(svg);
  const eval::ConfusionChartLayout l = eval::confusion_chart_layout(3);
  int found = 0;
  for (const Element& t : svg.all("text")) {
    if (t.text == "run <a> & b") ++found;
    if (t.text == "7") {  // true exc, predicted exc
      EXPECT_NEAR(number(t, "x"), l.cell_x(1) + l.cell / 2, 0.01);
      EXPECT_NEAR(number(t, "y"), l.cell_y(1) + l.cell / 2 + 4, 0.01);
      EXPECT_EQ(t.attributes.at("font-weight"), "bold");  // the diagonal
      ++found;
    }
    if (t.text == "2") {  // true exc, predicted ang
      EXPECT_NEAR(number(t, "x"), l.cell_x(0) + l.cell / 2, 0.01);
      EXPECT_NEAR(number(t, "y"), l.cell_y(1) + l.cell / 2 + 4, 0.01);
      ++found;
    }
  }
  EXPECT_EQ(found, 3);
  EXPECT_TRUE(mentions(error_of([&] {
                         eval::write_confusion_svg(path, confusion, {"ang", "exc"}, "t");
                       }),
                       "3 rows for 2 classes"));
}

TEST(Charts, TimelineHasALanePerSpeakerAndEachTurnSpansItsStartAndEnd) {
  eval::TimelineChart chart;
  chart.title = "call";
  chart.classes = kPaperNames;
  chart.segments = {
      {"agent", "u1", 0.5, 2.0, 4, 0.9}, {"caller", "u2", 2.5, 6.0, 0, 0.6}, {"agent", "u3", 6.5, 7.25, 5, 0.55}};
  const std::string path = test::temp_path("timeline.svg");
  eval::write_timeline_svg(path, chart);
  const ParsedSvg svg = parse(path);
  expect_svg_document(svg);
  const eval::TimelineLayout l = eval::timeline_layout(chart);
  EXPECT_EQ(l.speakers, (std::vector<std::string>{"agent", "caller"}));
  std::vector<Element> turns;
  for (const Element& e : svg.all("rect"))
    if (!e.text.empty()) turns.push_back(e);  // the turns are the shapes with a tooltip
  ASSERT_EQ(turns.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const eval::TimelineSegment& s = chart.segments[i];
    EXPECT_NEAR(number(turns[i], "x"), l.x(s.start), 0.01) << i;
    EXPECT_NEAR(number(turns[i], "width"), l.x(s.end) - l.x(s.start), 0.02) << i;
    EXPECT_EQ(turns[i].attributes.at("fill"), eval::class_colours(kPaperNames)[size_t(s.emotion)]) << i;
    const double lane_top = l.lane_y(s.speaker == "agent" ? 0 : 1);
    EXPECT_GT(number(turns[i], "y"), lane_top);
    EXPECT_LT(number(turns[i], "y"), lane_top + l.lane_height);
  }
  EXPECT_TRUE(mentions(turns[1].text, "u2: 2.50 to 6.00 s, ang (p = 0.60)"));
  int lane_names = 0;
  for (const Element& t : svg.all("text")) lane_names += t.text == "agent" || t.text == "caller";
  EXPECT_EQ(lane_names, 2);
}

TEST(Charts, TimelineRefusesImpossibleTurns) {
  const std::string path = test::temp_path("bad_timeline.svg");
  auto error_with = [&](eval::TimelineSegment s) {
    eval::TimelineChart chart;
    chart.classes = kPaperNames;
    chart.segments = {s};
    return error_of([&] { eval::write_timeline_svg(path, chart); });
  };
  EXPECT_TRUE(mentions(error_with({"A", "u", 2, 2, 0, 1}), "turn u from 2 s to 2 s"));
  EXPECT_TRUE(mentions(error_with({"A", "u", -1, 2, 0, 1}), "turn u from -1 s"));
  EXPECT_TRUE(mentions(error_with({"A", "u", 0, 2, 6, 1}), "has class 6 of 6"));
  EXPECT_TRUE(mentions(error_of([&] { eval::write_timeline_svg(path, {}); }), "no turns"));
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Charts, FailedWriteLeavesNoFile) {
  const std::string path = test::temp_path("no_such_folder") + "/chart.svg";
  EXPECT_THROW(eval::write_distribution_svg(path, two_conversations()), Error);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(Charts, EveryClassHasItsOwnColourAndThePapersKeepTheirs) {
  const std::vector<std::string> paper = eval::class_colours(kPaperNames);
  EXPECT_EQ(paper, (std::vector<std::string>{"#d62728", "#ff7f0e", "#9467bd", "#2ca02c", "#a0a0a0", "#1f77b4"}));
  // IEMOCAP's 4-class protocol: ang, neu and sad keep the paper's colours; the merged class takes an unused one.
  const std::vector<std::string> four = eval::class_colours({"ang", "hap+exc", "neu", "sad"});
  EXPECT_EQ(four[0], paper[0]);
  EXPECT_EQ(four[2], paper[4]);
  EXPECT_EQ(four[3], paper[5]);
  EXPECT_EQ(std::set<std::string>(four.begin(), four.end()).size(), 4u);
  std::vector<std::string> many;
  for (int c = 0; c < 40; ++c) many.push_back("class" + std::to_string(c));
  const std::vector<std::string> colours = eval::class_colours(many);
  EXPECT_EQ(std::set<std::string>(colours.begin(), colours.end()).size(), many.size());
  for (const std::string& colour : colours) EXPECT_EQ(colour.size(), 7u) << colour;  // #rrggbb
}
