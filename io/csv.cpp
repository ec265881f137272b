#include "io/csv.h"

#include <cstdio>

#include "tensor/check.h"

namespace erc {

namespace {

bool blank(int c) { return c == ' ' || c == '\t'; }

}  // namespace

CsvReader::CsvReader(std::istream& in, std::string path) : in_(in), path_(std::move(path)) {
  // A byte-order mark (EF BB BF), as spreadsheet programs write UTF-8 CSV, is not part of the first column's name;
  // other bytes (EF also begins characters U+F000 to U+FFFF) are read as they are.
  for (int i = 0; i < 3 && in_.peek() != EOF; ++i) start_ += char(in_.get());
  if (start_ == "\xEF\xBB\xBF") start_.clear();
}

int CsvReader::peek() {
  return next_start_ < start_.size() ? static_cast<unsigned char>(start_[next_start_]) : in_.peek();
}

int CsvReader::get() {
  const int c = next_start_ < start_.size() ? static_cast<unsigned char>(start_[next_start_++]) : in_.get();
  if (c == '\n') ++line_;
  return c;
}

bool CsvReader::next(CsvRecord& record) {
  for (;;) {
    record.fields.clear();
    record.line = line_;
    bool only_blank = true;  // so far one unquoted field of blanks: a blank line, no record
    int c;
    do {
      std::string field;
      const int64_t field_line = line_;
      c = get();
      while (blank(c)) c = get();
      if (c == '"') {
        only_blank = false;
        for (;;) {
          c = get();
          ERC_CHECK(c != EOF, path_, ":", field_line, ": a quoted field is not closed before the end of the file");
          if (c == '"') {
            if (peek() != '"') break;
            get();
          }
          field += char(c);
        }
        c = get();
        while (blank(c) || c == '\r') c = get();
        ERC_CHECK(c == ',' || c == '\n' || c == EOF, path_, ":", line_,
                  ": text after the closing quote of a field (a quote inside a quoted field is written \"\")");
      } else {
        for (; c != ',' && c != '\n' && c != EOF; c = get()) {
          ERC_CHECK(c != '"', path_, ":", line_,
                    ": a quote inside an unquoted field (quote the whole field, and write the quote as \"\")");
          field += char(c);
        }
        field.erase(field.find_last_not_of(" \t\r") + 1);
        if (!field.empty()) only_blank = false;
      }
      if (c == ',') only_blank = false;
      record.fields.push_back(std::move(field));
    } while (c == ',');
    if (!only_blank) return true;
    if (c == EOF) return false;
  }
}

std::string csv_field(const std::string& text) {
  // A leading byte-order mark is quoted too: at the start of a file the reader would take it for the file's.
  const bool plain = text.find_first_of(",\"\r\n") == std::string::npos &&
                     (text.empty() || (!blank(text.front()) && !blank(text.back()))) &&
                     text.rfind("\xEF\xBB\xBF", 0) != 0;
  if (plain) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

}  // namespace erc
