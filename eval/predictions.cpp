// predictions.csv: one utterance per line (RFC 4180, io/csv.h: names with commas or quotes are quoted); numbers are
// written with std::to_chars, so they read back bit for bit.
#include "eval/predictions.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "io/atomic_file.h"
#include "io/csv.h"
#include "tensor/check.h"

namespace erc::eval {
namespace {

std::string number(double v) {
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

// One data line with what an error message needs to say where it is.
struct Row {
  const std::string& path;
  size_t line;
  const std::map<std::string, size_t>& columns;
  const data::ClassSet& classes;
  std::vector<std::string> fields;

  const std::string& text(const std::string& column) const { return fields[columns.at(column)]; }

  template <typename T>
  T parse(const std::string& column) const {
    const std::string& s = text(column);
    T v{};
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    ERC_CHECK(!s.empty() && ec == std::errc() && end == s.data() + s.size(), path, ":", line, ": column ", column,
              ": bad number '", s, "'");
    return v;
  }

  // A class by name (a merged class's name, not its labels).
  int64_t class_named(const std::string& column) const {
    const auto& names = classes.names();
    const auto it = std::find(names.begin(), names.end(), text(column));
    ERC_CHECK(it != names.end(), path, ":", line, ": column ", column, ": '", text(column),
              "' is no class of the run's (", classes.spec(), ")");
    return int64_t(it - names.begin());
  }
};

std::vector<std::string> header_columns(const data::ClassSet& classes) {
  std::vector<std::string> h = {"utt_id", "dialogue", "session",     "speaker",
                                "start",  "label",    "label_index", "prediction"};
  for (const std::string& name : classes.names()) h.push_back("p_" + name);
  return h;
}

}  // namespace

void write_predictions_csv(const std::string& path, const std::vector<Prediction>& predictions,
                           const data::ClassSet& classes) {
  std::ostringstream out;
  const std::vector<std::string> header = header_columns(classes);
  for (size_t i = 0; i < header.size(); ++i) out << (i ? "," : "") << csv_field(header[i]);
  out << "\n";
  const int64_t n_classes = int64_t(classes.size());
  for (const Prediction& p : predictions) {
    ERC_CHECK(p.prediction >= 0 && p.prediction < n_classes && int64_t(p.probabilities.size()) == n_classes, path,
              ": utterance ", p.utt_id, ": prediction ", p.prediction, " and ", p.probabilities.size(),
              " probabilities for ", n_classes, " classes");
    ERC_CHECK(p.label_index == classes.index(p.label), path, ": utterance ", p.utt_id, ": label_index ", p.label_index,
              " disagrees with label '", p.label, "' (", classes.index(p.label), ")");
    out << csv_field(p.utt_id) << ',' << csv_field(p.dialogue) << ',' << p.session << ',' << csv_field(p.speaker) << ','
        << number(p.start) << ',' << csv_field(p.label) << ',' << p.label_index << ','
        << csv_field(classes.name(p.prediction));
    for (double q : p.probabilities) out << ',' << number(q);
    out << "\n";
  }
  write_file_atomically(path, out.str());
}

std::vector<Prediction> read_predictions_csv(const std::string& path, const data::ClassSet& classes) {
  std::ifstream in(path);
  ERC_CHECK(in.good(), path, ": cannot open for reading");
  CsvReader csv(in, path);
  CsvRecord record;
  ERC_CHECK(csv.next(record), path, ":1: empty, expected the header line");
  const std::vector<std::string> names = record.fields;
  std::map<std::string, size_t> columns;
  for (size_t i = 0; i < names.size(); ++i) columns.emplace(names[i], i);
  for (const std::string& name : header_columns(classes))
    ERC_CHECK(columns.count(name), path, ":1: missing column '", name, "'");

  std::vector<Prediction> out;
  while (csv.next(record)) {
    const size_t line_no = size_t(record.line);
    Row row{path, line_no, columns, classes, std::move(record.fields)};
    ERC_CHECK(row.fields.size() == names.size(), path, ":", line_no, ": ", row.fields.size(),
              " fields, the header has ", names.size());
    Prediction p;
    p.utt_id = row.text("utt_id");
    p.dialogue = row.text("dialogue");
    p.session = row.parse<int64_t>("session");
    p.speaker = row.text("speaker");
    p.start = row.parse<double>("start");
    p.label = row.text("label");
    p.label_index = row.parse<int64_t>("label_index");
    ERC_CHECK(p.label_index == classes.index(p.label), path, ":", line_no, ": label_index ", p.label_index,
              " disagrees with label '", p.label, "' (", classes.index(p.label), ")");
    p.prediction = row.class_named("prediction");
    for (const std::string& name : classes.names()) p.probabilities.push_back(row.parse<double>("p_" + name));
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace erc::eval
