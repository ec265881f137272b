// CSV as RFC 4180 defines it (io/csv.h), which every CSV erc reads goes through: quoted fields with commas, line
// breaks and doubled quotes, CRLF, a byte-order mark, the line a record starts on; the errors that name file and
// line; and csv_field, whose output reads back as what was written, whatever the text.
#include <random>
#include <sstream>

#include "io/csv.h"
#include "test_util.h"

using namespace erc;
using erc::test::error_of;
using erc::test::mentions;
using Records = std::vector<std::vector<std::string>>;

namespace {

// Every record of `text`, with the line each starts on.
Records read_all(const std::string& text, std::vector<int64_t>* lines = nullptr) {
  std::istringstream in(text);
  CsvReader csv(in, "t.csv");
  CsvRecord record;
  Records out;
  while (csv.next(record)) {
    out.push_back(record.fields);
    if (lines) lines->push_back(record.line);
  }
  return out;
}

}  // namespace

TEST(Csv, PlainFieldsAreSplitAtCommasAndTrimmed) {
  EXPECT_EQ(read_all("a,b,c\n 1 ,\t2\t, 3\n"), (Records{{"a", "b", "c"}, {"1", "2", "3"}}));
  EXPECT_EQ(read_all("a,,c,\n"), (Records{{"a", "", "c", ""}}));  // empty fields, the last one too
  EXPECT_EQ(read_all("no newline at the end"), (Records{{"no newline at the end"}}));
}

TEST(Csv, QuotedFieldsHoldCommasLineBreaksAndDoubledQuotes) {
  std::vector<int64_t> lines;
  const Records got = read_all(
      "path,speaker,note\n"
      "\"a, b.wav\",\"Doe, Jane\",\"the \"\"loud\"\" one\"\n"
      "c.wav,\"two\nlines\",\"\"\n"
      "d.wav, \"padded\" ,x\n",
      &lines);
  EXPECT_EQ(got, (Records{{"path", "speaker", "note"},
                          {"a, b.wav", "Doe, Jane", "the \"loud\" one"},
                          {"c.wav", "two\nlines", ""},
                          {"d.wav", "padded", "x"}}));
  EXPECT_EQ(lines, (std::vector<int64_t>{1, 2, 3, 5}));  // the quoted line break makes record 3 two lines long
}

TEST(Csv, CrlfByteOrderMarkAndBlankLines) {
  std::vector<int64_t> lines;
  EXPECT_EQ(read_all("\xEF\xBB\xBFpath,label\r\n\r\n  \r\nu.wav,\"ang\"\r\n\n", &lines),
            (Records{{"path", "label"}, {"u.wav", "ang"}}));
  EXPECT_EQ(lines, (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(read_all(""), Records{});
  EXPECT_EQ(read_all("\n \n\t\n"), Records{});
  EXPECT_EQ(read_all("\"\"\n"), (Records{{""}}));  // a quoted empty field is a record, not a blank line
  EXPECT_EQ(read_all("\xEF\x80\x80,\"\"\"\"\n"), (Records{{"\xEF\x80\x80", "\""}}));  // U+F000 first: no mark
  EXPECT_EQ(read_all("\xEF\xBB"), (Records{{"\xEF\xBB"}}));                           // shorter than a mark
}

TEST(Csv, MalformedQuotingIsAnErrorNamingFileAndLine) {
  EXPECT_TRUE(mentions(error_of([] { read_all("a\n\"open,\nb\n"); }), "t.csv:2: a quoted field is not closed"));
  EXPECT_TRUE(mentions(error_of([] { read_all("a\n\"x\"y,b\n"); }), "t.csv:2: text after the closing quote"));
  EXPECT_TRUE(mentions(error_of([] { read_all("a\nb\nx\"y\n"); }), "t.csv:3: a quote inside an unquoted field"));
}

// Text with every character CSV treats specially, at random: csv_field writes it, CsvReader gives it back.
TEST(Csv, EveryFieldCsvFieldWritesReadsBackAsItsText) {
  const std::string alphabet = "ab ,\"\n\r\t;x\xC3\xA9\xEF\xBB\xBF";
  std::mt19937 gen(7);
  for (int trial = 0; trial < 500; ++trial) {
    std::vector<std::string> fields(1 + gen() % 4);
    for (std::string& f : fields)
      for (size_t n = gen() % 7; n > 0; --n) f += alphabet[gen() % alphabet.size()];
    if (fields.size() == 1 && fields[0].empty()) fields[0] = "x";  // a lone empty field is a blank line: no record
    std::string line;
    for (size_t i = 0; i < fields.size(); ++i) line += (i ? "," : "") + csv_field(fields[i]);
    const Records got = read_all(line + "\r\n");
    ASSERT_EQ(got.size(), 1u) << line;
    EXPECT_EQ(got[0], fields) << line;
  }
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  // A field that starts with a byte-order mark keeps it, even as the first field of a file (fuzz_csv's finding).
  EXPECT_EQ(read_all(csv_field("\xEF\xBB\xBFx") + ",y\n"), (Records{{"\xEF\xBB\xBFx", "y"}}));
}
