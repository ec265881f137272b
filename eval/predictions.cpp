// predictions.csv: one utterance per line (RFC 4180, io/csv.h: names with commas or quotes are quoted); numbers are
// written with std::to_chars, so they read back bit for bit.
#include "eval/predictions.h"

#include <charconv>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "data/dataset.h"
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
  std::vector<std::string> fields;

  const std::string& text(const char* column) const { return fields[columns.at(column)]; }

  template <typename T>
  T parse(const char* column) const {
    const std::string& s = text(column);
    T v{};
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    ERC_CHECK(!s.empty() && ec == std::errc() && end == s.data() + s.size(), path, ":", line, ": column ", column,
              ": bad number '", s, "'");
    return v;
  }

  int64_t emotion(const char* column) const {
    const int64_t c = data::label_index(text(column));
    ERC_CHECK(c >= 0, path, ":", line, ": column ", column, ": unknown class '", text(column),
              "' (expected ang, exc, fru, hap, neu or sad)");
    return c;
  }
};

std::vector<std::string> header_columns() {
  std::vector<std::string> h = {"utt_id", "dialogue", "session",     "speaker",
                                "start",  "label",    "label_index", "prediction"};
  for (const char* e : data::kEmotions) h.push_back(std::string("p_") + e);
  return h;
}

}  // namespace

void write_predictions_csv(const std::string& path, const std::vector<Prediction>& predictions) {
  std::ostringstream out;
  const std::vector<std::string> header = header_columns();
  for (size_t i = 0; i < header.size(); ++i) out << (i ? "," : "") << header[i];
  out << "\n";
  for (const Prediction& p : predictions) {
    ERC_CHECK(p.prediction >= 0 && p.prediction < int64_t(data::kEmotions.size()), path, ": utterance ", p.utt_id,
              ": prediction ", p.prediction, " outside 0..5");
    ERC_CHECK(p.label_index == data::label_index(p.label), path, ": utterance ", p.utt_id, ": label_index ",
              p.label_index, " disagrees with label '", p.label, "' (", data::label_index(p.label), ")");
    out << csv_field(p.utt_id) << ',' << csv_field(p.dialogue) << ',' << p.session << ',' << csv_field(p.speaker) << ','
        << number(p.start) << ',' << csv_field(p.label) << ',' << p.label_index << ','
        << data::kEmotions[size_t(p.prediction)];
    for (double q : p.probabilities) out << ',' << number(q);
    out << "\n";
  }
  write_file_atomically(path, out.str());
}

std::vector<Prediction> read_predictions_csv(const std::string& path) {
  std::ifstream in(path);
  ERC_CHECK(in.good(), path, ": cannot open for reading");
  CsvReader csv(in, path);
  CsvRecord record;
  ERC_CHECK(csv.next(record), path, ":1: empty, expected the header line");
  const std::vector<std::string> names = record.fields;
  std::map<std::string, size_t> columns;
  for (size_t i = 0; i < names.size(); ++i) columns.emplace(names[i], i);
  for (const std::string& name : header_columns())
    ERC_CHECK(columns.count(name), path, ":1: missing column '", name, "'");

  std::vector<Prediction> out;
  while (csv.next(record)) {
    const size_t line_no = size_t(record.line);
    Row row{path, line_no, columns, std::move(record.fields)};
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
    ERC_CHECK(p.label_index == data::label_index(p.label), path, ":", line_no, ": label_index ", p.label_index,
              " disagrees with label '", p.label, "' (", data::label_index(p.label), ")");
    p.prediction = row.emotion("prediction");
    for (size_t c = 0; c < data::kEmotions.size(); ++c)
      p.probabilities[c] = row.parse<double>((std::string("p_") + data::kEmotions[c]).c_str());
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace erc::eval
