// CSV as RFC 4180 defines it, for erc's CSV files (audio lists, turns, predictions): fields separated by commas,
// records by CRLF or LF; a field in double quotes may hold commas, line breaks and quotes (doubled: ""); a UTF-8
// byte-order mark at the start is skipped. Two liberties, both kept from erc's first CSV readers: blanks (spaces,
// tabs) around a field are not part of it (quote a value whose blanks matter), and a blank line is no record.
#pragma once
#include <cstdint>
#include <istream>
#include <string>
#include <vector>

namespace erc {

struct CsvRecord {
  std::vector<std::string> fields;
  int64_t line = 0;  // the line it starts on, from 1 (a quoted line break makes a record span several)
};

class CsvReader {
 public:
  // `path` names the file in errors ("list.csv:7: ...").
  CsvReader(std::istream& in, std::string path);
  // The next record into `record`; false at the end of the input. A quote left open at the end, or text after a
  // closing quote, is an erc::Error naming the file and the line.
  bool next(CsvRecord& record);

 private:
  int get();   // the next byte, counting lines; EOF at the end
  int peek();  // the byte get() gives next
  std::istream& in_;
  std::string path_;
  std::string start_;  // the first bytes, read to look for a byte-order mark, before the rest of in_
  size_t next_start_ = 0;
  int64_t line_ = 1;
};

// `text` as one CSV field: as it is, or quoted (quotes doubled) where it holds a comma, a quote, a line break, a
// blank at either end or a leading byte-order mark. CsvReader reads it back as `text`.
std::string csv_field(const std::string& text);

}  // namespace erc
