// The turns of a long recording as erc_predict reads them: RTTM (what diarizers write) and start,end,speaker CSV,
// and the checks against the recording that keep a bad turn from being cut.
#include <fstream>

#include "data/segments.h"
#include "test_util.h"

using namespace erc;
using erc::test::error_of;
using erc::test::mentions;

namespace {

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = test::temp_path(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// The error of reading `text` as a file called `name`.
std::string read_error(const std::string& name, const std::string& text) {
  const std::string path = write_file(name, text);
  return error_of([&] { data::read_segments(path); });
}

}  // namespace

TEST(Segments, RttmAsPyannoteWritesItIsReadInTimeOrder) {
  const std::string path = write_file("call.rttm",
                                      ";; a comment\n"
                                      "SPEAKER call 1 2.500 1.250 <NA> <NA> SPEAKER_01 <NA> <NA>\n"
                                      "SPKR-INFO call 1 <NA> <NA> <NA> unknown SPEAKER_01 <NA>\n"
                                      "\n"
                                      "SPEAKER call 1 0.000 2.000 <NA> <NA> SPEAKER_00 <NA>\n");
  const data::SegmentList list = data::read_segments(path);
  EXPECT_EQ(list.recording, "call");
  ASSERT_EQ(list.segments.size(), 2u);
  EXPECT_EQ(list.segments[0].speaker, "SPEAKER_00");
  EXPECT_DOUBLE_EQ(list.segments[0].end, 2.0);
  EXPECT_EQ(list.segments[0].line, 5);
  EXPECT_EQ(list.segments[1].speaker, "SPEAKER_01");
  EXPECT_DOUBLE_EQ(list.segments[1].start, 2.5);
  EXPECT_DOUBLE_EQ(list.segments[1].end, 3.75);
}

// Found by fuzz_segments (fuzz/corpus/fuzz_segments/finding_form_feed_line.rttm): a line holding only a form feed
// split into no fields and was read as a SPEAKER line all the same.
TEST(Segments, RttmLineOfOnlyFormFeedsOrVerticalTabsIsBlank) {
  const std::string path = write_file("blank.rttm", "\f\n\v\t\f\nSPEAKER r 1 0.5 1 <NA> <NA> A <NA> <NA>\n\f");
  const data::SegmentList list = data::read_segments(path);
  ASSERT_EQ(list.segments.size(), 1u);
  EXPECT_EQ(list.segments[0].line, 3);
  EXPECT_TRUE(mentions(read_error("only_blank.rttm", "\f\n"), "no turns"));
}

TEST(Segments, CsvColumnsAreFoundByNameWithOptionalUttId) {
  const std::string path = write_file(
      "turns.csv", "speaker,end,start,utt_id\nA,1.5,0.25,first\n B , 3 , 2 ,second\n\"Doe, Jane\",4,3.5,third\n");
  const data::SegmentList list = data::read_segments(path);
  ASSERT_EQ(list.segments.size(), 3u);
  EXPECT_EQ(list.segments[0].utt_id, "first");
  EXPECT_DOUBLE_EQ(list.segments[0].start, 0.25);
  EXPECT_EQ(list.segments[1].speaker, "B");
  EXPECT_DOUBLE_EQ(list.segments[1].end, 3.0);
  EXPECT_EQ(list.segments[2].speaker, "Doe, Jane");  // RFC 4180 quoting
}

TEST(Segments, UnparsableLinesAreRefusedWithFileAndLine) {
  EXPECT_TRUE(mentions(read_error("a.rttm", "SPEAKER r 1 0 1 <NA> <NA> A <NA>\nSPEAKER r 1 x 1 <NA> <NA> A <NA>\n"),
                       "a.rttm:2: onset 'x' is not a number"));
  EXPECT_TRUE(mentions(read_error("b.rttm", "SPEAKER r 1 0 1 A\n"), "b.rttm:1: 6 fields"));
  EXPECT_TRUE(mentions(read_error("c.rttm", "SPEAKER r 1 0 1 <NA> <NA> A <NA>\nSPEAKER q 1 2 1 <NA> <NA> A <NA>\n"),
                       "c.rttm:2: recording 'q'"));
  EXPECT_TRUE(mentions(read_error("d.rttm", "SPEAKER r 1 -1 1 <NA> <NA> A <NA>\n"), "finite time >= 0"));
  EXPECT_TRUE(mentions(read_error("e.rttm", "SPEAKER r 1 nan 1 <NA> <NA> A <NA>\n"), "e.rttm:1"));
  EXPECT_TRUE(mentions(read_error("f.csv", "start,end\n0,1\n"), "no 'speaker' column"));
  EXPECT_TRUE(mentions(read_error("g.csv", "start,end,speaker,mood\n"), "unknown column 'mood'"));
  EXPECT_TRUE(mentions(read_error("h.csv", "start,end,speaker\n0,1\n"), "h.csv:2: 2 fields, the header has 3"));
  EXPECT_TRUE(mentions(read_error("i.csv", "start,end,speaker\n0,1e999,A\n"), "i.csv:2"));
  EXPECT_TRUE(
      mentions(read_error("j.csv", "start,end,speaker,utt_id\n0,1,A,u\n1,2,B,u\n"), "j.csv:3: utt_id 'u' twice"));
  EXPECT_TRUE(mentions(read_error("k.txt", "start,end,speaker\n"), "not '.txt'"));
  EXPECT_TRUE(mentions(read_error("l.csv", ""), "empty"));
  EXPECT_TRUE(mentions(read_error("n.csv", "start,end,speaker\n0,1,\"A\n"), "n.csv:2: a quoted field is not closed"));
  EXPECT_TRUE(mentions(read_error("m.rttm", ";; nothing\n"), "no turns"));
  EXPECT_TRUE(mentions(error_of([] { data::read_segments(test::temp_path("absent.rttm")); }), "cannot open"));
}

TEST(Segments, ZeroLengthTurnIsRefused) {
  EXPECT_TRUE(
      mentions(read_error("zero.rttm", "SPEAKER r 1 1.5 0 <NA> <NA> A <NA>\n"), "zero.rttm:1: the turn has no length"));
  EXPECT_TRUE(mentions(read_error("back.csv", "start,end,speaker\n2,1,A\n"), "back.csv:2: the turn has no length"));
}

TEST(Segments, TurnsMustLieInsideTheRecordingAndBeLongEnough) {
  const data::SegmentList list = data::read_segments(write_file("long.csv", "start,end,speaker\n0,1,A\n1,2.5,B\n"));
  EXPECT_NO_THROW(data::check_segments(list, "rec.wav", 40000, 16000, 400));
  EXPECT_TRUE(mentions(error_of([&] { data::check_segments(list, "rec.wav", 39999, 16000, 400); }),
                       "long.csv:3: the turn ends at 2.5 s, after the end of rec.wav"));
  const data::SegmentList far = data::read_segments(write_file("far.rttm", "SPEAKER r 1 0 1e300 <NA> <NA> A <NA>\n"));
  EXPECT_TRUE(mentions(error_of([&] { data::check_segments(far, "rec.wav", 40000, 16000, 400); }),
                       "far.rttm:1: the turn ends at 1e+300 s, after the end of rec.wav"));
  const data::SegmentList tiny = data::read_segments(write_file("tiny.csv", "start,end,speaker\n0,0.02,A\n"));
  EXPECT_TRUE(mentions(error_of([&] { data::check_segments(tiny, "rec.wav", 40000, 16000, 400); }),
                       "320 samples long, shorter than the 400"));
}

TEST(Segments, OverlappingTurnsOfOneSpeakerAreRefusedOfTwoSpeakersAllowed) {
  const data::SegmentList two = data::read_segments(write_file("two.csv", "start,end,speaker\n0,2,A\n1,3,B\n"));
  EXPECT_NO_THROW(data::check_segments(two, "rec.wav", 48000, 16000, 400));
  const data::SegmentList one =
      data::read_segments(write_file("one.csv", "start,end,speaker\n0,4,A\n1,1.5,B\n2,3,A\n"));
  EXPECT_TRUE(mentions(error_of([&] { data::check_segments(one, "rec.wav", 80000, 16000, 400); }),
                       "one.csv:4: speaker A's turn from 2 s overlaps their turn of line 2"));
}
